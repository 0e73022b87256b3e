package objstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Default limits, as S3 has them.
const (
	DefaultMaxObjectSize = 5 << 40 // 5 TiB
	DefaultMaxPartSize   = 5 << 30 // 5 GiB
	DefaultMinPartSize   = 5 << 20 // 5 MiB
	// MaxParts is the highest part number of a multipart upload.
	MaxParts = 10000
	// DefaultInlineMax is the default Options.InlineMax: objects up to
	// 128 KiB are kept in the catalog, as MinIO keeps objects under
	// 128 KiB in their xl.meta.
	DefaultInlineMax = 128 << 10
)

// Options configure a Store. The zero value works.
type Options struct {
	// MaxObjectSize bounds PutObject and completed multipart objects.
	// If zero, 5 TiB is used.
	MaxObjectSize int64
	// MaxPartSize bounds UploadPart. If zero, 5 GiB is used.
	MaxPartSize int64
	// MinPartSize is the minimum size of every part but the last at
	// CompleteMultipartUpload. If zero, 5 MiB is used; tests lower it.
	MinPartSize int64
	// Logger receives start-up cleanup reports. Nil means discard.
	Logger *slog.Logger
	// Catalog, if not nil, holds the metadata instead of the SQLite
	// database in the store directory. The Store closes it on Close.
	Catalog Catalog
	// LifecycleDay is how long a "day" of a lifecycle rule lasts
	// (Expiration Days, NoncurrentDays, DaysAfterInitiation). If zero,
	// 24h is used; tests shorten it.
	LifecycleDay time.Duration
	// InlineMax is the largest object PutObject stores inside the catalog
	// with its metadata instead of in a data file of its own (see
	// [InlineCatalog]): one catalog commit then makes it durable, where a
	// file costs the file's and its directory's fsyncs besides. If zero,
	// DefaultInlineMax is used; negative turns inlining off. A catalog
	// that is not an InlineCatalog never inlines.
	InlineMax int64
}

// Store is the object store engine. Its methods are safe for concurrent use.
type Store struct {
	dir     string
	dataDir string
	tmpDir  string
	cat     Catalog
	log     *slog.Logger
	lock    *os.File // holds the flock on dir/LOCK until Close

	maxObject, maxPart, minPart int64
	inlineMax                   int64         // 0: PutObject never inlines
	inl                         InlineCatalog // nil: the catalog cannot inline
	smallBufs                   sync.Pool     // *[]byte of inlineMax+1 bytes

	spareMu      sync.Mutex
	spares       []spareFile // empty data files with durable entries (spares.go)
	lifecycleDay time.Duration

	// gcMu orders unlinking data files against opening or linking them.
	// Unlinking garbage holds it exclusively; OpenObject and CopyObject
	// hold it shared from reading an object's row until they have opened
	// (or linked) its files. Since garbage is unlinked only after the
	// commit that dropped it, a reader either sees the new row or still
	// finds the old files on disk.
	gcMu sync.RWMutex

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the store in dir and removes leftovers of
// interrupted writes. Only one process may have a store directory open.
func Open(dir string, opts Options) (*Store, error) {
	s := &Store{
		dir:          dir,
		dataDir:      filepath.Join(dir, "data"),
		tmpDir:       filepath.Join(dir, "tmp"),
		log:          opts.Logger,
		maxObject:    opts.MaxObjectSize,
		maxPart:      opts.MaxPartSize,
		minPart:      opts.MinPartSize,
		lifecycleDay: opts.LifecycleDay,
	}
	if s.lifecycleDay <= 0 {
		s.lifecycleDay = 24 * time.Hour
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxObject <= 0 {
		s.maxObject = DefaultMaxObjectSize
	}
	if s.maxPart <= 0 {
		s.maxPart = DefaultMaxPartSize
	}
	if s.minPart <= 0 {
		s.minPart = DefaultMinPartSize
	}
	if err := s.makeDirs(); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s.lock = lock
	s.cat = opts.Catalog
	if s.cat == nil {
		s.cat, err = OpenSQLiteCatalog(filepath.Join(dir, "meta.db"))
		if err != nil {
			lock.Close()
			return nil, err
		}
	}
	if ic, ok := s.cat.(InlineCatalog); ok {
		// Inline data already stored stays readable when inlining is
		// turned off.
		s.inl = ic
		switch {
		case opts.InlineMax == 0:
			s.inlineMax = DefaultInlineMax
		case opts.InlineMax > 0:
			s.inlineMax = opts.InlineMax
		}
		s.smallBufs.New = func() any { b := make([]byte, s.inlineMax+1); return &b }
	}
	if err := s.cleanup(context.Background()); err != nil {
		s.cat.Close()
		lock.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return s, nil
}

// Close releases the store's resources. Objects opened from it stay
// readable until they are closed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.cat.Close()
		if err := s.dropSpares(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
		if err := s.lock.Close(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

func (s *Store) makeDirs() error {
	for _, d := range []string{s.dir, s.tmpDir, s.dataDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create store directory: %w", err)
		}
	}
	// Shard directories are made on first use (see writeData); the top
	// ones must survive a crash before any file is created in them.
	for _, d := range []string{s.dataDir, s.dir} {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// lockDir takes an exclusive flock(2) on dir/LOCK, so that two processes
// never run cleanup against each other's in-flight files.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open store lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrStoreLocked, dir)
		}
		return nil, fmt.Errorf("lock store %s: %w", dir, err)
	}
	return f, nil
}

// cleanup removes what interrupted writes left: temporary files, files
// recorded as garbage, and data files no row references. It runs before the
// Store is returned, so no write is in flight.
func (s *Store) cleanup(ctx context.Context) error {
	tmps, err := os.ReadDir(s.tmpDir)
	if err != nil {
		return fmt.Errorf("read tmp dir: %w", err)
	}
	for _, e := range tmps {
		p := filepath.Join(s.tmpDir, e.Name())
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove temporary file: %w", err)
		}
		s.log.Info("removed temporary file of an interrupted write", "path", p)
	}

	garbage, err := s.cat.PendingGarbage(ctx)
	if err != nil {
		return err
	}
	for _, id := range garbage {
		if err := os.Remove(s.dataPath(id)); err == nil {
			s.log.Info("removed data file of a replaced or deleted object", "id", id)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove garbage: %w", err)
		}
	}
	if err := s.cat.ForgetGarbage(ctx, garbage); err != nil {
		return err
	}

	refs := make(map[string]struct{})
	if err := s.cat.ReferencedFiles(ctx, func(id string) { refs[id] = struct{}{} }); err != nil {
		return err
	}
	shards, err := os.ReadDir(s.dataDir)
	if err != nil {
		return fmt.Errorf("read data dir: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dataDir, sh.Name()))
		if err != nil {
			return fmt.Errorf("read data dir: %w", err)
		}
		for _, f := range files {
			if _, ok := refs[f.Name()]; ok {
				continue
			}
			p := filepath.Join(s.dataDir, sh.Name(), f.Name())
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("remove orphan data file: %w", err)
			}
			s.log.Info("removed data file no object or part references", "path", p)
		}
	}
	return nil
}
