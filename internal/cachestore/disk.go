package cachestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// The disk tier's directory holds up to 256 shard directories named by the
// first byte of the key hash ("00" .. "ff", created when first needed), each
// holding entry files named "<key hash>-<generation>.ce", and "tmp" for
// entries being written. Sharding keeps directories small enough for fast
// lookups on any file system.
const (
	tmpDir     = "tmp"
	entryExt   = ".ce"
	scanChunk  = 4096 // bytes read per file at Open: header, key and usually the metadata
	scanWorker = 8    // files whose headers are read in parallel at Open
)

// diskTier does the file work of the disk tier. It holds no state that
// needs a lock: names are unique per generation.
type diskTier struct {
	dir string
	log *slog.Logger
}

func openDisk(dir string, log *slog.Logger) (*diskTier, error) {
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o755); err != nil {
		return nil, fmt.Errorf("cachestore: create disk tier: %w", err)
	}
	return &diskTier{dir: dir, log: log}, nil
}

// entryName is the path of an entry file relative to the tier's directory.
func entryName(key string, gen uint64) string {
	h := keyHash(key)
	return fmt.Sprintf("%02x/%016x-%016x%s", h>>56, h, gen, entryExt)
}

func (d *diskTier) path(name string) string { return filepath.Join(d.dir, name) }

// remove deletes an entry file; one already gone is fine.
func (d *diskTier) remove(name string) {
	if err := os.Remove(d.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.log.Warn("cachestore: remove entry file", "file", name, "err", err)
	}
}

// createTemp opens a new file for an entry being written.
func (d *diskTier) createTemp() (*os.File, error) {
	f, err := os.CreateTemp(filepath.Join(d.dir, tmpDir), "w-*")
	if err != nil {
		return nil, fmt.Errorf("cachestore: create entry file: %w", err)
	}
	return f, nil
}

// scanned is one entry file found at Open.
type scanned struct {
	key  string
	name string
	gen  uint64
	size int64
}

// load rebuilds the index from the disk tier: it removes temporary files,
// reads every entry file's header (never its body: bodies are verified when
// read), removes files whose header is bad or whose length disagrees with
// it, keeps the newest generation of each key, and admits the survivors
// oldest first, so the oldest are evicted first. The eviction state starts
// cold.
func (s *Store) load() error {
	d := s.disk
	tmps, err := os.ReadDir(filepath.Join(d.dir, tmpDir))
	if err != nil {
		return fmt.Errorf("cachestore: scan disk tier: %w", err)
	}
	for _, t := range tmps {
		os.RemoveAll(filepath.Join(d.dir, tmpDir, t.Name()))
	}
	shards, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Errorf("cachestore: scan disk tier: %w", err)
	}
	var names []string
	for _, sh := range shards {
		shard := sh.Name()
		if !sh.IsDir() || !isShard(shard) {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(d.dir, shard))
		if err != nil {
			return fmt.Errorf("cachestore: scan disk tier: %w", err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), entryExt) {
				names = append(names, shard+"/"+e.Name())
			}
		}
	}

	found := make([]scanned, len(names))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < scanWorker; w++ {
		wg.Go(func() {
			buf := make([]byte, scanChunk)
			for i := range next {
				sc, err := d.scanFile(names[i], buf)
				if err != nil {
					d.log.Warn("cachestore: dropping bad entry file", "file", names[i], "err", err)
					d.remove(names[i])
					continue
				}
				found[i] = sc
			}
		})
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()

	found = slices.DeleteFunc(found, func(sc scanned) bool { return sc.name == "" })
	slices.SortFunc(found, func(a, b scanned) int {
		switch {
		case a.gen < b.gen:
			return -1
		case a.gen > b.gen:
			return 1
		}
		return 0
	})
	var maxGen uint64
	s.mu.Lock()
	var stale []string
	for _, sc := range found {
		maxGen = max(maxGen, sc.gen)
		rec := &record{key: sc.key, disk: &diskItem{gen: sc.gen, name: sc.name}}
		rec.disk.size = sc.size
		// A newer generation of the same key replaces an older one left by
		// a crash between a rename and the removal of its predecessor.
		stale = append(stale, s.install(rec)...)
	}
	s.mu.Unlock()
	s.gen.Store(maxGen)
	s.removeFiles(stale)
	return nil
}

// isShard reports whether name is a shard directory's name.
func isShard(name string) bool {
	return len(name) == 2 && strings.Trim(name, "0123456789abcdef") == ""
}

// rename moves a finished temporary file to its entry name, creating the
// shard directory on first use.
func (d *diskTier) rename(tmp, name string) error {
	err := os.Rename(tmp, d.path(name))
	if errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(filepath.Dir(d.path(name)), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		err = os.Rename(tmp, d.path(name))
	}
	return err
}

// scanFile reads and checks one entry file's header.
func (d *diskTier) scanFile(name string, buf []byte) (scanned, error) {
	f, err := os.Open(d.path(name))
	if err != nil {
		return scanned{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return scanned{}, err
	}
	h, key, _, err := readHeader(f, buf)
	if err != nil {
		return scanned{}, err
	}
	if fi.Size() != h.fileSize() {
		return scanned{}, fmt.Errorf("%w: file is %d bytes, header says %d", errBadHeader, fi.Size(), h.fileSize())
	}
	if want := entryName(key, h.Gen); want != name {
		return scanned{}, fmt.Errorf("%w: file name %s, header says %s", errBadHeader, name, want)
	}
	return scanned{key: key, name: name, gen: h.Gen, size: fi.Size()}, nil
}

// readHeader reads and decodes the header and key at the start of f, using
// buf for the first read. It returns the bytes read (a prefix of the file,
// possibly more than the header) so a caller can use what follows.
func readHeader(f io.ReaderAt, buf []byte) (entryHeader, string, []byte, error) {
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return entryHeader{}, "", nil, fmt.Errorf("cachestore: read entry header: %w", err)
	}
	b := buf[:n]
	h, key, err := decodeHeader(b)
	if errors.Is(err, errShortHeader) {
		b = make([]byte, headerSize+int(h.KeyLen))
		if _, err := f.ReadAt(b, 0); err != nil {
			return h, "", nil, fmt.Errorf("%w: read key: %v", errBadHeader, err)
		}
		h, key, err = decodeHeader(b)
	}
	return h, key, b, err
}

// readRange returns size bytes at off of f, taken from prefix (the bytes
// already read from offset 0) when it holds them.
func readRange(f io.ReaderAt, prefix []byte, off, size int64) ([]byte, error) {
	if off+size <= int64(len(prefix)) {
		return prefix[off : off+size : off+size], nil
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: file shorter than its header says", ErrCorrupt)
		}
		return nil, fmt.Errorf("cachestore: read entry: %w", err)
	}
	return b, nil
}

// decodeTable checks the block table against its CRC and decodes it.
func decodeTable(h entryHeader, b []byte) ([]uint32, error) {
	if got := crc32.Checksum(b, castagnoli); got != h.TableCRC {
		return nil, fmt.Errorf("%w: block table checksum %08x, want %08x", ErrCorrupt, got, h.TableCRC)
	}
	t := make([]uint32, len(b)/4)
	for i := range t {
		t[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return t, nil
}

// rewriteMeta writes a copy of entry file oldName with new metadata as
// generation gen, and returns its name and size. The body and block table
// are copied by the kernel where it can (copy_file_range).
func (d *diskTier) rewriteMeta(key, oldName string, gen uint64, meta []byte) (string, int64, error) {
	old, err := os.Open(d.path(oldName))
	if err != nil {
		return "", 0, err
	}
	defer old.Close()
	h, gotKey, _, err := readHeader(old, make([]byte, scanChunk))
	if err != nil {
		return "", 0, err
	}
	if gotKey != key {
		return "", 0, fmt.Errorf("%w: file holds key %q", errBadHeader, gotKey)
	}
	tail := h.fileSize() - h.bodyOff()
	if _, err := old.Seek(h.bodyOff(), io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("cachestore: update metadata: %w", err)
	}
	nh := h
	nh.Gen, nh.MetaLen, nh.MetaCRC = gen, uint32(len(meta)), crc32.Checksum(meta, castagnoli)
	tmp, err := d.createTemp()
	if err != nil {
		return "", 0, err
	}
	fail := func(err error) (string, int64, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", 0, fmt.Errorf("cachestore: update metadata: %w", err)
	}
	head := append(encodeHeader(nh, key), meta...)
	if _, err := tmp.Write(head); err != nil {
		return fail(err)
	}
	if n, err := io.Copy(tmp, io.LimitReader(old, tail)); err != nil || n != tail {
		if err == nil {
			err = fmt.Errorf("%w: copied %d of %d bytes", ErrCorrupt, n, tail)
		}
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	name := entryName(key, gen)
	if err := d.rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
		return "", 0, fmt.Errorf("cachestore: update metadata: %w", err)
	}
	return name, nh.fileSize(), nil
}

// verifyBlocks checks body (which starts at block first) against the table.
func verifyBlocks(table []uint32, first int64, body []byte) error {
	for i := int64(0); len(body) > 0; i++ {
		n := min(len(body), blockSize)
		if got, want := crc32.Checksum(body[:n], castagnoli), table[first+i]; got != want {
			return fmt.Errorf("%w: block %d checksum %08x, want %08x", ErrCorrupt, first+i, got, want)
		}
		body = body[n:]
	}
	return nil
}
