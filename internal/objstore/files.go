package objstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/strata-cdn/strata/internal/checksum"
)

// newFileID returns a fresh data file ID: 128 random bits in hex, so IDs
// never collide and never derive from keys.
func newFileID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// dataPath is where a data file lives: sharded by the ID's first byte so
// no directory grows past 1/256 of the files.
func (s *Store) dataPath(id string) string {
	if len(id) < 2 {
		return filepath.Join(s.dataDir, "00", id)
	}
	return filepath.Join(s.dataDir, id[:2], id)
}

// syncDir fsyncs a directory so that entries created or renamed in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// testHook, when set by a test before the Store is used, is called at
// points where a crash leaves work for Open: "placed" (a data file is
// durable but not committed) and "committed" (garbage is not yet unlinked).
var testHook func(point string)

// written describes a data file stored by writeData.
type written struct {
	id   string
	size int64
	md5  []byte
	nvme uint64
	ecma uint64
}

// copyBufs holds the buffers that stream bodies to disk: memory per write
// is one buffer whatever the object's size.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// ctxReader fails reads once ctx is done, so a cancelled request stops
// streaming at the next read.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// writeData streams r into a new data file, hashing as it goes, and makes
// the file durable under a fresh ID. size is the expected length or -1;
// limit bounds the data (what names it in the error); wantMD5, if not nil,
// must match. On error no file is left behind.
//
// The file is a spare (spares.go), created empty at its final path with
// its directory entry already durable, rather than a file renamed there:
// no row references the ID until the caller commits one, so a crash
// mid-write leaves only an unreferenced file that Open removes. Only the
// file is fsynced here; its directory was when the spare was made.
func (s *Store) writeData(ctx context.Context, r io.Reader, size, limit int64, what string, wantMD5 []byte) (w written, err error) {
	if size > limit {
		return w, &TooLargeError{What: what, Limit: limit}
	}
	sp, err := s.takeSpare()
	if err != nil {
		return w, err
	}
	id, f := sp.id, sp.f
	dst := s.dataPath(id)
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(dst)
		}
	}()

	hMD5, hNVME, hECMA := md5.New(), checksum.NewNVME(), checksum.NewECMA()
	mw := io.MultiWriter(f, hMD5, hNVME, hECMA)
	// Read one byte past what may arrive, to tell "exactly enough" from
	// "too much" without reading on.
	max := limit
	if size >= 0 {
		max = size
	}
	if max == math.MaxInt64 {
		max-- // leave room for the extra byte
	}
	buf := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(mw, io.LimitReader(ctxReader{ctx, r}, max+1), *buf)
	copyBufs.Put(buf)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return w, err
		}
		return w, fmt.Errorf("receive %s data: %w", what, err)
	}
	switch {
	case size >= 0 && n > size:
		return w, fmt.Errorf("%w: received more than the %d bytes announced", ErrIncompleteBody, size)
	case size >= 0 && n < size:
		return w, fmt.Errorf("%w: received %d of the %d bytes announced", ErrIncompleteBody, n, size)
	case n > limit:
		return w, &TooLargeError{What: what, Limit: limit}
	}
	w.size = n
	w.md5 = hMD5.Sum(nil)
	w.nvme = hNVME.Sum64()
	w.ecma = hECMA.Sum64()
	if wantMD5 != nil && !bytes.Equal(wantMD5, w.md5) {
		return w, fmt.Errorf("%w: computed %x, Content-MD5 says %x", ErrBadDigest, w.md5, wantMD5)
	}
	if err := f.Sync(); err != nil {
		return w, fmt.Errorf("sync data: %w", err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return w, fmt.Errorf("close data: %w", err)
	}
	f = nil
	w.id = id
	if testHook != nil {
		testHook("placed")
	}
	return w, nil
}

// createData creates a new data file at dst, making the shard directory on
// first use. The file's directory entry is not yet durable.
func (s *Store) createData(dst string) (*os.File, error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	f, err := os.OpenFile(dst, flags, 0o644)
	if errors.Is(err, os.ErrNotExist) {
		if err := s.makeShard(filepath.Dir(dst)); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(dst, flags, 0o644)
	}
	if err != nil {
		return nil, fmt.Errorf("create data file: %w", err)
	}
	return f, nil
}

// makeShard creates a shard directory durably (its entry in the data
// directory is fsynced before any file is created in it).
func (s *Store) makeShard(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create data directory: %w", err)
	}
	return syncDir(s.dataDir)
}

// linkData makes a new data file with the same content as file id, for
// CopyObject: a hard link (no data copied), or a copy where the file system
// cannot link. The caller holds gcMu shared. The new file's directory is
// not yet synced; see syncDataDirs.
func (s *Store) linkData(ctx context.Context, id string) (string, error) {
	nid := newFileID()
	src, dst := s.dataPath(id), s.dataPath(nid)
	err := os.Link(src, dst)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(src); serr == nil {
			if err := s.makeShard(filepath.Dir(dst)); err != nil {
				return "", err
			}
			err = os.Link(src, dst)
		}
	}
	if err == nil {
		return nid, nil
	}
	if err := copyFile(ctx, src, dst); err != nil {
		return "", fmt.Errorf("copy data file: %w", err)
	}
	return nid, nil
}

func copyFile(ctx context.Context, src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	if _, err := io.CopyBuffer(out, ctxReader{ctx, in}, *buf); err != nil {
		return err
	}
	return out.Sync()
}

// syncDataDirs fsyncs the shard directories of ids once each.
func (s *Store) syncDataDirs(ids []string) error {
	done := make(map[string]bool)
	for _, id := range ids {
		d := filepath.Dir(s.dataPath(id))
		if done[d] {
			continue
		}
		done[d] = true
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// removeFiles unlinks data files that were never committed.
func (s *Store) removeFiles(ids ...string) {
	for _, id := range ids {
		os.Remove(s.dataPath(id))
	}
}

// collect unlinks garbage returned by a committed change. Failures are
// logged, not returned: the change is committed, and the garbage journal
// lets Open retry.
func (s *Store) collect(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	if testHook != nil {
		testHook("committed")
	}
	var done []string
	s.gcMu.Lock()
	for _, id := range ids {
		if err := os.Remove(s.dataPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("cannot remove data file; it will be retried at the next start", "id", id, "err", err)
			continue
		}
		done = append(done, id)
	}
	s.gcMu.Unlock()
	if err := s.cat.ForgetGarbage(context.WithoutCancel(ctx), done); err != nil {
		s.log.Warn("cannot update the garbage journal", "err", err)
	}
}
