// Package live is the stream hub: it accepts publishers, keeps each stream's
// codec parameters and GOP cache, and fans tags out to readers through
// bounded queues. It is an engine: no listeners; the RTMP server feeds it and
// the HTTP-FLV and HLS handlers read from it.
//
// Tags are FLV tags (flv.Tag) because RTMP audio and video messages are FLV
// tag bodies: ingest copies nothing and HTTP-FLV writes them as they are.
package live

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Errors callers branch on.
var (
	// ErrStreamBusy: another publisher holds the stream name.
	ErrStreamBusy = errors.New("stream is already being published")
	// ErrNotFound: no publisher on that stream name.
	ErrNotFound = errors.New("stream is not being published")
	// ErrNoTrack: the reader asked for a track the stream does not have.
	ErrNoTrack = errors.New("stream has no such track")
	// ErrStreamEnded: the publisher left.
	ErrStreamEnded = errors.New("stream ended")
	// ErrReaderTooSlow: the reader's queue filled up and it was dropped.
	ErrReaderTooSlow = errors.New("reader too slow: queue full, dropped")
	// ErrUnauthorized: a publish was refused by the publish policy.
	ErrUnauthorized = errors.New("publish not authorised")
)

// Key names a stream: the RTMP application and stream name.
type Key struct {
	App, Name string
}

// String returns "app/name", the form logs, errors and URLs use.
func (k Key) String() string { return k.App + "/" + k.Name }

// Defaults for the Hub's zero fields.
const (
	DefaultGOPCacheBytes = 16 << 20
	DefaultReaderQueue   = 1024
	DefaultTrackProbe    = 1500 * time.Millisecond
)

// Hub holds the streams being published. Its zero value is ready to use.
type Hub struct {
	// Logger receives publish and unpublish events. Nil means discard.
	Logger *slog.Logger
	// GOPCacheBytes bounds each stream's GOP cache; a GOP larger than
	// this is not cached (readers then start at the next keyframe).
	// If zero, DefaultGOPCacheBytes is used.
	GOPCacheBytes int
	// ReaderQueue is each reader's queue length in tags; a reader that
	// falls this far behind is dropped with ErrReaderTooSlow. If zero,
	// DefaultReaderQueue is used.
	ReaderQueue int
	// TrackProbe is how much media time a stream without onMetaData is
	// watched before its track set is taken as final. If zero,
	// DefaultTrackProbe is used.
	TrackProbe time.Duration
	// Now returns the wall-clock time; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex        // guards the fields below
	streams  map[Key]*Stream   // live streams by name
	watchers []func(s *Stream) // called on every new publish
}

func (h *Hub) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Watch registers fn to be called, synchronously, for every stream that
// starts from now on. fn must not block: start a goroutine if needed.
func (h *Hub) Watch(fn func(s *Stream)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watchers = append(h.watchers, fn)
}

// Publish claims key for a publisher at remote. A second publisher to a
// live stream gets an error wrapping ErrStreamBusy that names the first.
func (h *Hub) Publish(key Key, remote string) (*Stream, error) {
	h.mu.Lock()
	if old, ok := h.streams[key]; ok {
		h.mu.Unlock()
		return nil, fmt.Errorf("stream %s is already being published by %s since %s: %w",
			key, old.remote, old.start.UTC().Format(time.RFC3339), ErrStreamBusy)
	}
	if h.streams == nil {
		h.streams = map[Key]*Stream{}
	}
	s := newStream(h, key, remote)
	h.streams[key] = s
	watchers := append([]func(*Stream){}, h.watchers...)
	h.mu.Unlock()
	h.log().Info("stream published", "stream", key.String(), "publisher", remote, "session", s.id)
	for _, fn := range watchers {
		fn(s)
	}
	return s, nil
}

// Get returns the live stream named key, or an error wrapping ErrNotFound.
func (h *Hub) Get(key Key) (*Stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.streams[key]
	if !ok {
		return nil, fmt.Errorf("stream %s: %w", key, ErrNotFound)
	}
	return s, nil
}

// Streams returns the live streams sorted by name.
func (h *Hub) Streams() []*Stream {
	h.mu.Lock()
	out := make([]*Stream, 0, len(h.streams))
	for _, s := range h.streams {
		out = append(out, s)
	}
	h.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].key.String() < out[j].key.String() })
	return out
}

// remove drops s from the hub if it still holds its name.
func (h *Hub) remove(s *Stream) {
	h.mu.Lock()
	if h.streams[s.key] == s {
		delete(h.streams, s.key)
	}
	h.mu.Unlock()
}

// newID returns a short random session ID: it names a publish session in
// segment URLs, so a republished stream never reuses a cached URL.
func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
