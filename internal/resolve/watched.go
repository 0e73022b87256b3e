package resolve

import (
	"os"
	"sync"
	"time"
)

// watched is a file parsed on first use and again when its modification
// time or size changes, checked at most every FixedTTL. A missing or
// unreadable file parses as empty.
type watched[T any] struct {
	path  string
	parse func([]byte) T

	mu      sync.Mutex // guards the fields below
	loaded  bool
	checked time.Time
	mtime   time.Time
	size    int64
	val     T
}

func (w *watched[T]) get(now time.Time) T {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.loaded && now.Sub(w.checked) < FixedTTL && !now.Before(w.checked) {
		return w.val
	}
	w.checked = now
	var mtime time.Time
	var size int64
	if fi, err := os.Stat(w.path); err == nil {
		mtime, size = fi.ModTime(), fi.Size()
	}
	if w.loaded && mtime.Equal(w.mtime) && size == w.size {
		return w.val
	}
	b, _ := os.ReadFile(w.path)
	w.val, w.mtime, w.size, w.loaded = w.parse(b), mtime, size, true
	return w.val
}
