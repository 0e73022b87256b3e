package livehttp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strata-cdn/strata/internal/hls"
	"github.com/strata-cdn/strata/internal/live"
)

// packagerQueue is the HLS packager's reader queue: deep, since a packager
// that falls behind loses segments for every viewer.
const packagerQueue = 8192

// hlsViewerWindow: a client that fetched the playlist this recently counts
// as an HLS viewer.
const hlsViewerWindow = 30 * time.Second

// packager packages one publish session into HLS.
type packager struct {
	key     live.Key
	session string

	mu      sync.Mutex // guards the fields below
	mux     *hls.Muxer // nil until the track set is known
	err     error      // why HLS is unavailable (unsupported codec)
	ended   bool
	updated chan struct{} // closed and replaced when a segment completes
	viewers map[string]time.Time
}

func (h *Handler) onPublish(s *live.Stream) {
	p := &packager{key: s.Key(), session: s.ID(), updated: make(chan struct{}), viewers: map[string]time.Time{}}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.packagers[p.key] = append(h.packagers[p.key], p)
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		h.runPackager(s, p)
	}()
}

// runPackager feeds the stream to the muxer until the publisher leaves,
// then keeps the ended playlist and segments for their retention.
func (h *Handler) runPackager(s *live.Stream, p *packager) {
	defer h.forget(p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-h.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	opts := h.HLS
	opts.Stream, opts.Session = s.Key().String(), s.ID()
	retention := hls.New(opts).Retention()
	tracks, err := s.WaitTracks(ctx)
	if err == nil {
		opts.HasVideo = tracks.Video
		var rd *live.Reader
		rd, err = s.Subscribe(live.ReaderOptions{Audio: tracks.Audio, Video: tracks.Video, Queue: packagerQueue})
		if err == nil {
			p.mu.Lock()
			p.mux = hls.New(opts)
			p.notifyLocked()
			p.mu.Unlock()
			h.feed(ctx, rd, p)
			rd.Close()
		}
	}
	p.mu.Lock()
	if p.mux != nil {
		p.mux.End(h.now())
	}
	p.ended = true
	p.notifyLocked()
	p.mu.Unlock()
	// Keep the ended session's segments fetchable for their retention.
	t := time.NewTimer(retention + opts.TargetDuration)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (h *Handler) feed(ctx context.Context, rd *live.Reader, p *packager) {
	for {
		t, err := rd.Read(ctx)
		if err != nil {
			if errors.Is(err, live.ErrReaderTooSlow) {
				h.log().Warn("hls packager fell behind the stream and stopped", "stream", p.key.String(), "err", err)
			}
			return
		}
		p.mu.Lock()
		before := p.mux.Segments()
		werr := p.mux.WriteTag(t, h.now())
		if errors.Is(werr, hls.ErrUnsupportedCodec) {
			p.err = werr
			p.notifyLocked()
			p.mu.Unlock()
			h.log().Warn("HLS unavailable for this stream", "stream", p.key.String(), "reason", werr.Error())
			return
		}
		if p.mux.Segments() != before {
			p.notifyLocked()
		}
		p.mu.Unlock()
	}
}

func (p *packager) notifyLocked() {
	close(p.updated)
	p.updated = make(chan struct{})
}

// forget removes p from the handler.
func (h *Handler) forget(p *packager) {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.packagers[p.key]
	for i, q := range list {
		if q == p {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(h.packagers, p.key)
	} else {
		h.packagers[p.key] = list
	}
}

// latest returns the newest session of key, or nil.
func (h *Handler) latest(key live.Key) *packager {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.packagers[key]
	if len(list) == 0 {
		return nil
	}
	return list[len(list)-1]
}

// servePlaylist serves the media playlist, waiting (bounded) for the first
// segment of a stream that just started.
func (h *Handler) servePlaylist(w http.ResponseWriter, r *http.Request, key live.Key) {
	p := h.latest(key)
	if p == nil {
		h.notPublished(w, key)
		return
	}
	if h.hasPlayHook(key) && !h.recentHLSViewer(p, r) && !h.allowPlay(w, r, key, "hls") {
		return
	}
	wait := time.NewTimer(h.firstSegmentWait())
	defer wait.Stop()
	for {
		p.mu.Lock()
		var body []byte
		err := p.err
		if err == nil && p.mux != nil {
			body, err = p.mux.Playlist(key.Name)
		} else if err == nil {
			err = hls.ErrNoSegment
		}
		ended, updated := p.ended, p.updated
		if err == nil {
			p.viewers[clientID(r)] = h.now()
		}
		p.mu.Unlock()
		switch {
		case err == nil:
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			// Short, so an edge re-fetches it about once a second and never
			// lists segments past their retention (case C30).
			w.Header().Set("Cache-Control", "public, max-age=1")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			if r.Method != http.MethodHead {
				_, _ = w.Write(body)
			}
			return
		case errors.Is(err, hls.ErrUnsupportedCodec):
			// Case C29: say why HLS is refused; HTTP-FLV still plays.
			h.fail(w, http.StatusUnsupportedMediaType, "%v", err)
			return
		case ended:
			h.notPublished(w, key)
			return
		}
		select {
		case <-updated:
		case <-wait.C:
			w.Header().Set("Retry-After", "1")
			h.fail(w, http.StatusServiceUnavailable, "stream %s has no complete HLS segment yet; retry in a second", key)
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (h *Handler) firstSegmentWait() time.Duration {
	td := h.HLS.TargetDuration
	if td <= 0 {
		td = hls.DefaultTargetDuration
	}
	return 3*td + h.trackWait()
}

// serveSegment serves a retained segment of any session of key.
func (h *Handler) serveSegment(w http.ResponseWriter, r *http.Request, key live.Key, name string) {
	h.mu.Lock()
	list := append([]*packager(nil), h.packagers[key]...)
	h.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		p := list[i]
		if !strings.HasPrefix(name, p.session+"-") {
			continue
		}
		p.mu.Lock()
		var seg *hls.Segment
		var ok bool
		var maxAge time.Duration
		if p.mux != nil {
			now := h.now()
			p.mux.Prune(now)
			seg, ok = p.mux.Segment(name)
			if ok {
				maxAge = p.mux.MaxAge(seg, now)
			}
		}
		p.mu.Unlock()
		if !ok {
			break
		}
		w.Header().Set("Content-Type", "video/mp2t")
		// Case C30: no cache keeps a segment longer than the origin does:
		// the max-age is what is left of its retention, rounded down.
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int64(maxAge/time.Second)))
		w.Header().Set("Content-Length", strconv.Itoa(len(seg.Data)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(seg.Data)
		}
		return
	}
	h.fail(w, http.StatusNotFound, "segment %s of stream %s is not retained: segments stay fetchable for twice the playlist window after they leave the playlist; fetch the playlist again", name, key)
}

// clientID identifies an HLS viewer by address and user agent.
func clientID(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if f := r.Header.Get("X-Forwarded-For"); f != "" {
		host = strings.TrimSpace(strings.Split(f, ",")[0])
	}
	return host + " " + r.UserAgent()
}

// hlsStatus describes a session's HLS output for the admin API.
type hlsStatus struct {
	Available bool   `json:"available"`
	Error     string `json:"error,omitempty"`
	Segments  int    `json:"segments"`
	Viewers   int    `json:"viewers"`
}

func (p *packager) status(now time.Time) hlsStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := hlsStatus{Available: p.err == nil}
	if p.err != nil {
		st.Error = p.err.Error()
	}
	if p.mux != nil {
		st.Segments = p.mux.Segments()
	}
	for id, seen := range p.viewers {
		if now.Sub(seen) > hlsViewerWindow {
			delete(p.viewers, id)
			continue
		}
		st.Viewers++
	}
	return st
}
