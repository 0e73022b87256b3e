package livehttp

import (
	"errors"
	"net/http"
	"strings"

	"github.com/strata-cdn/strata/internal/live"
)

// hasPlayHook reports whether key's app has an on_play hook.
func (h *Handler) hasPlayHook(key live.Key) bool {
	app, _ := h.Policy.App(key.App)
	return app.Hooks.OnPlay != ""
}

// allowPlay calls key's on_play hook, if any, for a viewer playing over
// proto ("flv" or "hls"). When the hook refuses, it answers 403 with the
// hook's reason; when the hook failed and the app refuses on failure, 503;
// and returns false.
func (h *Handler) allowPlay(w http.ResponseWriter, r *http.Request, key live.Key, proto string) bool {
	app, _ := h.Policy.App(key.App)
	if app.Hooks.OnPlay == "" {
		return true
	}
	ev := live.HookEvent{
		Action: live.ActionPlay, App: key.App, Stream: key.Name, ClientAddr: viewerAddr(r),
		Params: live.Params(r.URL.Query()), Node: h.NodeID, Protocol: proto,
	}
	hc := h.Hooks
	if hc == nil { // Start not called
		hc = &live.HookClient{Logger: h.Logger, NodeID: h.NodeID}
	}
	err := hc.Check(r.Context(), app.Hooks, ev)
	switch {
	case err == nil:
		return true
	case errors.Is(err, live.ErrHookDenied):
		h.fail(w, http.StatusForbidden, "%v", err)
	default:
		w.Header().Set("Retry-After", "5")
		h.fail(w, http.StatusServiceUnavailable, "%v", err)
	}
	return false
}

// viewerAddr is the viewer's address: the first X-Forwarded-For entry
// when an edge or proxy forwarded the request, else the peer.
func viewerAddr(r *http.Request) string {
	host, _, _ := strings.Cut(clientID(r), " ")
	return host
}

// recentHLSViewer reports whether the client of r fetched p's playlist
// within the viewer window: its on_play hook was called then, not again
// for every playlist refresh.
func (h *Handler) recentHLSViewer(p *packager, r *http.Request) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen, ok := p.viewers[clientID(r)]
	return ok && h.now().Sub(seen) <= hlsViewerWindow
}
