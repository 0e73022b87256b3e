package objstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// queued waits until n write transactions wait in c's queue. The test
// holds commitMu, so they cannot leave it; the wait is bounded only as a
// safety net.
func queued(t *testing.T, c *SQLiteCatalog, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.queueMu.Lock()
		got := len(c.queue)
		c.queueMu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
		runtime.Gosched()
	}
}

func testRecord(bucket, key string) ObjectRecord {
	return ObjectRecord{
		ObjectInfo: ObjectInfo{Bucket: bucket, Key: key, Size: 1, ModTime: time.Unix(1700000000, 0).UTC(), ETag: "e"},
		Segments:   []Segment{{FileID: "f-" + key, Size: 1}},
		VersionKey: newVersionKey(time.Now()),
	}
}

// TestGroupCommit queues writes behind a commit in progress and checks
// that the next commit runs them together, each with its own outcome: the
// successful ones committed durably (visible after reopening), a failing
// one rolled back alone, even after it had written, and a cancelled one
// not run at all.
func TestGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	c, err := OpenSQLiteCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.CreateBucket(ctx, Bucket{Name: "b", Created: time.Unix(1, 0)}); err != nil {
		t.Fatal(err)
	}

	c.commitMu.Lock() // a commit in progress
	const good = 6
	errs := make([]error, good+3)
	var wg sync.WaitGroup
	for i := range good {
		wg.Go(func() {
			_, errs[i] = c.PutObject(ctx, testRecord("b", fmt.Sprintf("k%d", i)))
		})
	}
	queued(t, c, good)
	wg.Go(func() { _, errs[good] = c.PutObject(ctx, testRecord("missing", "k")) })
	queued(t, c, good+1)
	// A write that changes the database, then fails: its change must go.
	errWrote := errors.New("failed after writing")
	wg.Go(func() {
		errs[good+1] = c.tx(ctx, func(ctx context.Context, tx *wtx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO buckets (name, created, public_read) VALUES ('partial', 0, 0)`); err != nil {
				return err
			}
			return errWrote
		})
	})
	queued(t, c, good+2)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	wg.Go(func() { _, errs[good+2] = c.PutObject(cctx, testRecord("b", "cancelled")) })
	queued(t, c, good+3)
	c.commitMu.Unlock()
	wg.Wait()

	for i := range good {
		if errs[i] != nil {
			t.Errorf("put k%d: %v, want success", i, errs[i])
		}
	}
	if !errors.Is(errs[good], ErrNoSuchBucket) {
		t.Errorf("put into a missing bucket: %v, want ErrNoSuchBucket", errs[good])
	}
	if !errors.Is(errs[good+1], errWrote) {
		t.Errorf("failing write: %v, want %v", errs[good+1], errWrote)
	}
	if !errors.Is(errs[good+2], context.Canceled) {
		t.Errorf("cancelled write: %v, want context.Canceled", errs[good+2])
	}
	c.queueMu.Lock()
	left := len(c.queue)
	c.queueMu.Unlock()
	if left != 0 {
		t.Errorf("%d writes left in the queue", left)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = OpenSQLiteCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range good {
		if _, err := c.GetObject(ctx, "b", fmt.Sprintf("k%d", i)); err != nil {
			t.Errorf("k%d after reopening: %v", i, err)
		}
	}
	if _, err := c.GetObject(ctx, "b", "cancelled"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("cancelled write after reopening: %v, want ErrNoSuchKey", err)
	}
	if _, err := c.GetBucket(ctx, "partial"); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("bucket written by the failed write: %v, want ErrNoSuchBucket", err)
	}
}

// TestGroupCommitConcurrent puts many objects from many goroutines through
// the Store and checks that every acknowledged one reads back after the
// store is reopened.
func TestGroupCommitConcurrent(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustBucket(t, s, "bkt")
	const workers, each = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("w%d/%d", w, i)
				if _, err := s.PutObject(context.Background(), "bkt", key, bytesReader(key), PutOptions{Size: int64(len(key))}); err != nil {
					errs <- fmt.Errorf("put %s: %w", key, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for w := range workers {
		for i := range each {
			key := fmt.Sprintf("w%d/%d", w, i)
			if got, _ := readAll(t, s, "bkt", key); string(got) != key {
				t.Errorf("%s reads %q, want %q", key, got, key)
			}
		}
	}
}
