package objstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-cdn/strata/internal/checksum"
)

func newTestStore(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func mustBucket(t testing.TB, s *Store, name string) {
	t.Helper()
	if err := s.CreateBucket(context.Background(), name); err != nil {
		t.Fatalf("CreateBucket(%q): %v", name, err)
	}
}

func put(t testing.TB, s *Store, bucket, key string, data []byte) ObjectInfo {
	t.Helper()
	info, err := s.PutObject(context.Background(), bucket, key, bytes.NewReader(data), PutOptions{Size: int64(len(data))})
	if err != nil {
		t.Fatalf("PutObject(%s/%s): %v", bucket, key, err)
	}
	return info
}

// readAll reads a whole object through ReadAt.
func readAll(t testing.TB, s *Store, bucket, key string) ([]byte, ObjectInfo) {
	t.Helper()
	o, err := s.OpenObject(context.Background(), bucket, key)
	if err != nil {
		t.Fatalf("OpenObject(%s/%s): %v", bucket, key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o.NewReader(0, -1))
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return b, o.Info
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func md5sum(b []byte) []byte { h := md5.Sum(b); return h[:] }

func crcs(b []byte) (nvme, ecma uint64) {
	return crc64.Checksum(b, checksum.NVME), crc64.Checksum(b, checksum.ECMA)
}

// dataFiles lists the files under dir/data and dir/tmp, leaving out empty
// data files: the spares an open store makes ahead of writes (spares.go).
// Tests that count files store no empty objects in files.
func dataFiles(t testing.TB, dir string) (data, tmp []string) {
	t.Helper()
	return listFiles(t, dir, false)
}

// listFiles lists the files under dir/data, with or without empty ones,
// and dir/tmp.
func listFiles(t testing.TB, dir string, empty bool) (data, tmp []string) {
	t.Helper()
	filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if !empty {
			if fi, err := d.Info(); err == nil && fi.Size() == 0 {
				return nil
			}
		}
		data = append(data, p)
		return nil
	})
	ents, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	for _, e := range ents {
		tmp = append(tmp, e.Name())
	}
	return data, tmp
}

func bytesReader(s string) io.Reader { return bytes.NewReader([]byte(s)) }
