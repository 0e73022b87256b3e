package cachestore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrent runs many goroutines that get, put, update, delete and
// purge a few keys in small tiers (so evictions and promotions race too).
// Every body read must be one complete version: its first bytes name the
// version, and the rest must match it. Run it with -race.
func TestConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"memory-only", Options{MemoryBytes: 256 << 10}},
		{"memory+disk", Options{Dir: t.TempDir(), MemoryBytes: 64 << 10, DiskBytes: 512 << 10, MemoryEntryMax: 16 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, tc.opts)
			var version atomic.Int64
			keys := make([]string, 12)
			for i := range keys {
				keys[i] = fmt.Sprintf("https://c.test/%d/obj", i%3) + strings.Repeat("x", i)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for g := range 8 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 7))
					for range 200 {
						key := keys[rng.IntN(len(keys))]
						var err error
						switch op := rng.IntN(100); {
						case op < 50:
							err = checkedGet(s, key)
						case op < 80:
							v := fmt.Sprintf("%s/v%d", key, version.Add(1))
							err = putErr(s, key, pattern(v, 1+rng.IntN(3*blockSize)))
						case op < 88:
							err = s.UpdateMeta(key, Meta{Status: 200 + rng.IntN(5)})
							if isMiss(err) {
								err = nil
							}
						case op < 96:
							err = s.Delete(key)
						default:
							_, err = s.DeletePrefix(fmt.Sprintf("https://c.test/%d/", rng.IntN(3)))
						}
						if err != nil {
							select {
							case errs <- fmt.Errorf("%s: %w", key, err):
							default:
							}
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			st := s.Stats()
			if st.Corruptions != 0 {
				t.Errorf("Corruptions = %d, want 0", st.Corruptions)
			}
			if st.MemoryBytes > tc.opts.MemoryBytes || (tc.opts.Dir != "" && st.DiskBytes > tc.opts.DiskBytes) {
				t.Errorf("bounds exceeded: %+v", st)
			}
		})
	}
}

// checkedGet reads key whole and checks that the body is one version.
func checkedGet(s *Store, key string) error {
	e, err := s.Get(key)
	if isMiss(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer e.Close()
	body, err := io.ReadAll(io.NewSectionReader(e, 0, e.Size))
	if err != nil {
		return err
	}
	i := bytes.Index(body, []byte(":0;"))
	if i < 0 {
		if len(body) > 0 && !bytes.HasPrefix([]byte(key), body) {
			return fmt.Errorf("body %q is not a prefix of a version", body)
		}
		return nil
	}
	if want := pattern(string(body[:i]), len(body)); !bytes.Equal(body, want) {
		return fmt.Errorf("body of %d bytes mixes versions (starts %q)", len(body), body[:min(len(body), 40)])
	}
	return nil
}

func putErr(s *Store, key string, body []byte) error {
	w, err := s.NewWriter(key, Meta{Status: 200})
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil
		}
		return err
	}
	return w.Commit()
}
