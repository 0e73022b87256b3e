// Command versionlist measures case C27: listing a versioned bucket whose
// live keys are scattered among a million delete markers and old versions
// must cost what listing the live keys alone costs.
//
// It fills two buckets in one store: "markers" (versioning enabled) with
// 1,000 live keys plus, interleaved with them in key order, 500,000 keys
// that were deleted (each an old version under a current delete marker:
// 1,000,000 rows), and "plain" with just the 1,000 live keys. The live
// keys are written through the engine API (Store.PutObject); the million
// dead rows go straight into the catalog's versions table with SQL, in
// batches of 10,000 per transaction, because the engine commits (and
// fsyncs) one transaction per write. It then times ListObjects of all
// 1,000 keys (one page, through the engine) on both buckets and prints
// the medians and their ratio.
//
// Run it from the repository root:
//
//	go run ./bench/versionlist            # about a minute, ~300 MB in a temp dir
//	go run ./bench/versionlist -dead 50000 -runs 9   # quicker
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	_ "modernc.org/sqlite"

	"github.com/strata-cdn/strata/internal/objstore"
)

func main() {
	dir := flag.String("dir", "", "store directory (default: a new temporary directory, removed at exit)")
	live := flag.Int("live", 1000, "live keys per bucket")
	dead := flag.Int("dead", 500_000, "deleted keys in the versioned bucket (each an old version plus a delete marker)")
	runs := flag.Int("runs", 21, "timed listings per bucket")
	flag.Parse()
	if err := run(*dir, *live, *dead, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "versionlist:", err)
		os.Exit(1)
	}
}

func run(dir string, live, dead, runs int) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "versionlist-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ctx := context.Background()
	st, err := objstore.Open(dir, objstore.Options{})
	if err != nil {
		return err
	}
	for _, b := range []string{"markers", "plain"} {
		if err := st.CreateBucket(ctx, b); err != nil {
			return err
		}
	}
	if err := st.SetBucketVersioning(ctx, "markers", objstore.VersioningEnabled); err != nil {
		return err
	}
	// Live key i is number i*stride; the numbers in between are the dead
	// keys, so every live key is surrounded by dead ones.
	stride := dead/live + 1
	start := time.Now()
	for i := 0; i < live; i++ {
		k := key(i * stride)
		for _, b := range []string{"markers", "plain"} {
			if _, err := st.PutObject(ctx, b, k, bytes.NewReader([]byte(k)), objstore.PutOptions{Size: int64(len(k))}); err != nil {
				return err
			}
		}
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Printf("wrote %d live keys to each bucket through the engine in %v\n", live, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	rows, err := fillDead(filepath.Join(dir, "meta.db"), live, dead, stride)
	if err != nil {
		return err
	}
	fmt.Printf("inserted %d delete markers and old versions (%d deleted keys) through the catalog in %v\n",
		rows, dead, time.Since(start).Round(time.Millisecond))

	st, err = objstore.Open(dir, objstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	medians := map[string]time.Duration{}
	for _, b := range []string{"plain", "markers"} {
		var ds []time.Duration
		for r := 0; r < runs+1; r++ {
			t0 := time.Now()
			res, err := st.ListObjects(ctx, b, objstore.ListOptions{MaxKeys: 1000})
			d := time.Since(t0)
			if err != nil {
				return err
			}
			if len(res.Objects) != min(live, 1000) {
				return fmt.Errorf("bucket %s listed %d keys, want %d", b, len(res.Objects), min(live, 1000))
			}
			if r > 0 { // the first run warms the page cache
				ds = append(ds, d)
			}
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		medians[b] = ds[len(ds)/2]
		fmt.Printf("ListObjects of %d keys, bucket %-7s: median %v (min %v, max %v, %d runs)\n",
			min(live, 1000), b, medians[b], ds[0], ds[len(ds)-1], len(ds))
	}
	fmt.Printf("ratio markers/plain: %.2f\n", float64(medians["markers"])/float64(medians["plain"]))
	return nil
}

func key(n int) string { return fmt.Sprintf("logs/%08d", n) }

// fillDead inserts, for every number that is not a live key's, an old
// version and a current delete marker into the versions table, as the
// engine does when a versioned key is deleted.
func fillDead(dbPath string, live, dead, stride int) (int, error) {
	db, err := sql.Open("sqlite", dbPath+"?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	const batch = 10_000
	rows := 0
	var tx *sql.Tx
	var stmt *sql.Stmt
	t := time.Now().Add(-time.Hour)
	for n, made := 0, 0; made < dead; n++ {
		if n%stride == 0 && n/stride < live {
			continue
		}
		if tx == nil {
			if tx, err = db.Begin(); err != nil {
				return rows, err
			}
			if stmt, err = tx.Prepare(`INSERT INTO versions (bucket, obj_key, sort_id, version_id, is_marker, noncurrent,
				size, mtime, etag, md5, crc_nvme, crc_ecma, parts_count, meta, segments)
				VALUES ('markers', ?, ?, ?, ?, ?, 0, ?, '', X'', 0, 0, 0, '{}', '[]')`); err != nil {
				return rows, err
			}
		}
		k := []byte(key(n))
		old, del := versionKey(t, n), versionKey(t.Add(time.Minute), n)
		if _, err := stmt.Exec(k, old, old, 0, t.Add(time.Minute).UnixNano(), t.UnixNano()); err != nil {
			return rows, err
		}
		if _, err := stmt.Exec(k, del, del, 1, 0, t.Add(time.Minute).UnixNano()); err != nil {
			return rows, err
		}
		rows += 2
		made++
		if made%(batch/2) == 0 || made == dead {
			stmt.Close()
			if err := tx.Commit(); err != nil {
				return rows, err
			}
			tx = nil
		}
	}
	return rows, nil
}

// versionKey makes a version key in the engine's format (complemented
// nanoseconds, then 64 bits that are random in the engine and derived
// from n here).
func versionKey(t time.Time, n int) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], ^uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(b[8:], uint64(n)*0x9e3779b97f4a7c15)
	return hex.EncodeToString(b[:])
}
