package livehttp

import (
	"encoding/json"
	"net/http"

	"github.com/strata-cdn/strata/internal/live"
	"github.com/strata-cdn/strata/internal/record"
	"github.com/strata-cdn/strata/internal/snapshot"
)

// StreamStatus is one live stream in the admin API.
type StreamStatus struct {
	live.Status
	HLS hlsStatus `json:"hls"`
	// Recording is the stream's recording, when its app records.
	Recording *record.SessionStatus `json:"recording,omitempty"`
	// Snapshot is the stream's snapshots, when its app takes them.
	Snapshot *snapshot.Status `json:"snapshot,omitempty"`
}

// Snapshots reports how streams' snapshots go; *snapshot.Taker is one.
type Snapshots interface {
	// Status returns the snapshots of one publish session.
	Status(app, stream, session string) (snapshot.Status, bool)
}

// StatusSources are the services a stream's status reports on besides
// the hub and the HLS packagers; nil fields report nothing.
type StatusSources struct {
	Recordings Recordings
	Snapshots  Snapshots
}

// Recordings reports how streams are recorded; *record.Recorder is one.
type Recordings interface {
	// Status returns the recording of one publish session.
	Status(app, stream, session string) (record.SessionStatus, bool)
	// Recordings lists the files recorded per stream.
	Recordings() []record.StreamRecordings
}

// StatusHandler serves the admin API's list of live streams as JSON:
// {"streams": [...]} with codecs, rates, viewers per protocol, warnings and
// whether HLS can carry the stream (and if not, why).
func (h *Handler) StatusHandler() http.Handler { return h.StatusHandlerWith(nil) }

// StatusHandlerWith is StatusHandler with each stream's recording from
// rec (nil: none): its files and, when it fails, why, also among the
// stream's warnings: "recording: failed: access denied on bucket B (...)"
// (case C35).
func (h *Handler) StatusHandlerWith(rec Recordings) http.Handler {
	return h.StatusHandlerFor(StatusSources{Recordings: rec})
}

// StatusHandlerFor is StatusHandler with each stream's recording and
// snapshots from src. A failing one's cause is also among the stream's
// warnings: "recording: failed: ...", "snapshot: failed: access denied
// on bucket B (...)" (case C35).
func (h *Handler) StatusHandlerFor(src StatusSources) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, struct {
			Streams []StreamStatus `json:"streams"`
		}{Streams: h.StatusesFor(src)})
	})
}

// RecordingsHandler serves the admin API's list of recorded files per
// stream as JSON: {"recordings": [{"stream", "files": [...]}]}, each file
// with its key, duration, size, tracks, what was odd in its input, and its
// upload's state and error.
func RecordingsHandler(rec Recordings) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, struct {
			Recordings []record.StreamRecordings `json:"recordings"`
		}{Recordings: rec.Recordings()})
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Statuses returns every live stream's status.
func (h *Handler) Statuses() []StreamStatus { return h.StatusesWith(nil) }

// StatusesWith returns every live stream's status with its recording from
// rec (nil: none).
func (h *Handler) StatusesWith(rec Recordings) []StreamStatus {
	return h.StatusesFor(StatusSources{Recordings: rec})
}

// StatusesFor returns every live stream's status with its recording and
// snapshots from src.
func (h *Handler) StatusesFor(src StatusSources) []StreamStatus {
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
		if src.Recordings != nil {
			if rs, ok := src.Recordings.Status(s.Key().App, s.Key().Name, s.ID()); ok {
				st.Recording = &rs
				if rs.State == record.StateFailed {
					st.Warnings = append(st.Warnings, "recording: failed: "+rs.Error)
				}
			}
		}
		if src.Snapshots != nil {
			if ss, ok := src.Snapshots.Status(s.Key().App, s.Key().Name, s.ID()); ok {
				st.Snapshot = &ss
				if ss.State == snapshot.StateFailed {
					st.Warnings = append(st.Warnings, "snapshot: failed: "+ss.Error)
				}
			}
		}
		out = append(out, st)
	}
	return out
}
