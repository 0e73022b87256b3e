package livehttp

import (
	"encoding/json"
	"net/http"

	"github.com/strata-cdn/strata/internal/live"
)

// StreamStatus is one live stream in the admin API.
type StreamStatus struct {
	live.Status
	HLS hlsStatus `json:"hls"`
}

// StatusHandler serves the admin API's list of live streams as JSON:
// {"streams": [...]} with codecs, rates, viewers per protocol, warnings and
// whether HLS can carry the stream (and if not, why).
func (h *Handler) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := struct {
			Streams []StreamStatus `json:"streams"`
		}{Streams: h.Statuses()}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	})
}

// Statuses returns every live stream's status.
func (h *Handler) Statuses() []StreamStatus {
	now := h.now()
	out := []StreamStatus{}
	for _, s := range h.Hub.Streams() {
		st := StreamStatus{Status: s.Status()}
		h.mu.Lock()
		var p *packager
		for _, q := range h.packagers[s.Key()] {
			if q.session == s.ID() {
				p = q
			}
		}
		h.mu.Unlock()
		if p != nil {
			st.HLS = p.status(now)
			st.Viewers["hls"] = st.HLS.Viewers
			if st.HLS.Error != "" {
				st.Warnings = append(st.Warnings, "HLS unavailable: "+st.HLS.Error)
			}
		}
		out = append(out, st)
	}
	return out
}
