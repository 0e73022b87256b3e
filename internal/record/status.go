package record

import (
	"sort"
	"time"

	"github.com/strata-cdn/strata/internal/recmux"
)

// File states.
const (
	StateRecording = "recording"
	StateUploading = "uploading"
	StateUploaded  = "uploaded"
	StateFailed    = "failed"
)

// FileStatus is one recorded file in the admin API.
type FileStatus struct {
	Stream  string `json:"stream"`
	Session string `json:"session"`
	Seq     int    `json:"seq"`
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	// State is recording, uploading, uploaded or failed.
	State string `json:"state"`
	// Error says why the upload failed, naming the bucket.
	Error           string    `json:"error,omitempty"`
	Started         time.Time `json:"started"`
	DurationSeconds float64   `json:"duration_seconds"`
	Size            int64     `json:"size"`
	// Tracks describe the file's tracks: "H.264 640x360", "AAC 44100 Hz 2 ch".
	Tracks      []string `json:"tracks"`
	StartReason string   `json:"start_reason"`
	EndReason   string   `json:"end_reason,omitempty"`
	// Notes are what was odd in the input: a track starting late, a gap.
	Notes []string `json:"notes,omitempty"`
	// Spool is the local copy kept after a failed upload.
	Spool string `json:"spool,omitempty"`
}

func (f *FileStatus) fill(s recmux.FileSummary) {
	f.DurationSeconds = s.Duration.Round(time.Millisecond).Seconds()
	f.Tracks = f.Tracks[:0]
	for _, t := range s.Tracks {
		f.Tracks = append(f.Tracks, t.String())
	}
	f.Notes = append([]string(nil), s.Notes...)
}

// SessionStatus is a publish session's recording, in its stream's status.
type SessionStatus struct {
	// State is "recording" or "failed".
	State string `json:"state"`
	// Error is the cause of a failure: "access denied on bucket rec
	// (AccessDenied: Access Denied.)".
	Error  string `json:"error,omitempty"`
	Target string `json:"target"`
	// Files are the session's files, the one being recorded last.
	Files []FileStatus `json:"files"`
	// Notes are what the publish carries that no file can.
	Notes []string `json:"notes,omitempty"`
}

// Status returns the recording of the session id of app/stream, if it is
// recorded.
func (r *Recorder) Status(app, stream, id string) (SessionStatus, bool) {
	r.init()
	r.mu.Lock()
	ss, ok := r.sessions[app+"/"+stream]
	var chk *check
	if ok {
		chk = r.checks[ss.cfg.Target.id()]
	}
	r.mu.Unlock()
	if !ok || ss.s.ID != id {
		return SessionStatus{}, false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	st := SessionStatus{State: StateRecording, Target: ss.cfg.Target.String(), Files: []FileStatus{},
		Notes: append([]string(nil), ss.notes...)}
	for _, f := range ss.files {
		st.Files = append(st.Files, *f)
	}
	// The latest word on the target wins: a write check or an upload.
	var err error
	if chk != nil && !chk.at.Before(ss.uploadAt) {
		err = chk.err
	} else {
		err = ss.uploadErr
	}
	switch {
	case ss.failure != "":
		st.State, st.Error = StateFailed, ss.failure
	case err != nil:
		st.State, st.Error = StateFailed, err.Error()
	}
	return st, true
}

// StreamRecordings lists one stream's files.
type StreamRecordings struct {
	Stream string       `json:"stream"`
	Files  []FileStatus `json:"files"`
}

// Recordings lists every stream's files, newest last: those finished
// (uploaded or failed) and those being recorded or uploaded.
func (r *Recorder) Recordings() []StreamRecordings {
	r.init()
	r.mu.Lock()
	byStream := map[string][]FileStatus{}
	for k, fs := range r.files {
		byStream[k] = append([]FileStatus(nil), fs...)
	}
	var live []*session
	for _, ss := range r.sessions {
		live = append(live, ss)
	}
	r.mu.Unlock()
	for _, ss := range live {
		ss.mu.Lock()
		for _, f := range ss.files {
			if f.State == StateRecording || f.State == StateUploading {
				byStream[ss.s.key()] = append(byStream[ss.s.key()], *f)
			}
		}
		ss.mu.Unlock()
	}
	out := []StreamRecordings{}
	for k, fs := range byStream {
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].Started.Before(fs[j].Started) })
		out = append(out, StreamRecordings{Stream: k, Files: fs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stream < out[j].Stream })
	return out
}
