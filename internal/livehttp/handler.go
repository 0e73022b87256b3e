// Package livehttp serves live streams over HTTP: HTTP-FLV at
// /live/{app}/{stream}.flv and HLS at /live/{app}/{stream}.m3u8 with
// MPEG-TS segments under /live/{app}/{stream}/. It is an HTTP origin the
// edge can front: playlists carry a short max-age, segments a max-age
// within their retention, and live FLV is never stored.
package livehttp

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/strata-cdn/strata/internal/hls"
	"github.com/strata-cdn/strata/internal/live"
)

// DefaultTrackWait is used when Handler.TrackWait is zero.
const DefaultTrackWait = 5 * time.Second

// Handler serves the hub's streams. Set the fields, call Start, then serve;
// Close stops the HLS packagers.
type Handler struct {
	// Hub holds the streams. Required.
	Hub *live.Hub
	// NodeID names this node in error bodies.
	NodeID string
	// Logger receives packager events. Nil means discard.
	Logger *slog.Logger
	// HLS sets the segment target duration and playlist size; Stream,
	// Session and HasVideo are filled per stream.
	HLS hls.Options
	// TrackWait bounds how long a request waits for a just-started
	// stream's track set. If zero, DefaultTrackWait is used.
	TrackWait time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Policy holds the apps whose on_play hooks are called.
	Policy live.Policy
	// Hooks calls the on_play hooks. If nil, a HookClient logging to
	// Logger is used.
	Hooks *live.HookClient

	mu        sync.Mutex               // guards packagers and closed
	packagers map[live.Key][]*packager // publish sessions, oldest first
	closed    bool
	quit      chan struct{}  // closed by Close
	wg        sync.WaitGroup // one per packager goroutine
	startOnce sync.Once
}

func (h *Handler) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) trackWait() time.Duration {
	if h.TrackWait > 0 {
		return h.TrackWait
	}
	return DefaultTrackWait
}

// Start begins packaging every stream published from now on into HLS.
func (h *Handler) Start() {
	h.startOnce.Do(func() {
		h.mu.Lock()
		h.quit = make(chan struct{})
		h.packagers = map[live.Key][]*packager{}
		if h.Hooks == nil {
			h.Hooks = &live.HookClient{Logger: h.Logger, NodeID: h.NodeID}
		}
		h.mu.Unlock()
		h.Hub.Watch(h.onPublish)
	})
}

// Close stops the packagers and waits for them.
func (h *Handler) Close() {
	h.mu.Lock()
	if !h.closed && h.quit != nil {
		close(h.quit)
	}
	h.closed = true
	h.mu.Unlock()
	h.wg.Wait()
}

// ServeHTTP routes /live/{app}/{stream}.flv, .m3u8 and
// /live/{app}/{stream}/{segment}.ts.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.preflight(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.fail(w, http.StatusMethodNotAllowed, "method %s is not allowed; live streams are read with GET", r.Method)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "live" {
		h.fail(w, http.StatusNotFound, "%s is not a live stream URL; use /live/APP/STREAM.flv or /live/APP/STREAM.m3u8", r.URL.Path)
		return
	}
	app := parts[1]
	switch {
	case len(parts) == 3 && strings.HasSuffix(parts[2], ".flv"):
		h.serveFLV(w, r, live.Key{App: app, Name: strings.TrimSuffix(parts[2], ".flv")})
	case len(parts) == 3 && strings.HasSuffix(parts[2], ".m3u8"):
		h.servePlaylist(w, r, live.Key{App: app, Name: strings.TrimSuffix(parts[2], ".m3u8")})
	case len(parts) == 4 && strings.HasSuffix(parts[3], ".ts"):
		h.serveSegment(w, r, live.Key{App: app, Name: parts[2]}, parts[3])
	default:
		h.fail(w, http.StatusNotFound, "%s is not a live stream URL; use /live/APP/STREAM.flv or /live/APP/STREAM.m3u8", r.URL.Path)
	}
}

// preflight answers a CORS preflight (Fetch standard §3.2.2): players on
// any origin may GET the streams, with any request headers (a player may
// send Range or its own), since they carry no credentials.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Access-Control-Allow-Methods", "GET, HEAD")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		hdr.Set("Access-Control-Allow-Headers", rh)
	}
	hdr.Set("Access-Control-Max-Age", "86400")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// fail writes a plain-text error that says which node refused and why.
func (h *Handler) fail(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintf(w, "strata live origin (node %s): %s\n", h.NodeID, fmt.Sprintf(format, args...))
}

// notPublished answers a request for a stream nobody publishes.
func (h *Handler) notPublished(w http.ResponseWriter, key live.Key) {
	h.fail(w, http.StatusNotFound, "stream %s is not being published; publish it to rtmp://HOST/%s", key, key)
}
