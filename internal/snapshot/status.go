package snapshot

import (
	"fmt"
	"time"
)

// Session states.
const (
	// StateWaiting: no snapshot yet and nothing wrong so far.
	StateWaiting = "waiting"
	// StateOK: the latest snapshot was made and uploaded.
	StateOK = "ok"
	// StateFailed: something keeps snapshots from being taken; Error
	// says what.
	StateFailed = "failed"
)

// Shot is one uploaded snapshot.
type Shot struct {
	// Key is the object written: PREFIX + 20060102-150405.000.jpg, or
	// PREFIX + latest.jpg with Overwrite.
	Key string `json:"key"`
	// Time is when the image was made.
	Time time.Time `json:"time"`
	// Size is the image's size in bytes.
	Size int `json:"size"`
}

// Status is a publish session's snapshots, in its stream's status.
type Status struct {
	// State is waiting, ok or failed.
	State string `json:"state"`
	// Error is what keeps snapshots from being taken: "access denied on
	// bucket snaps (AccessDenied: ...)", "stream live/radio has no video
	// track; no snapshots", "ffmpeg failed (exit status 1): ...".
	Error           string  `json:"error,omitempty"`
	Target          string  `json:"target"`
	IntervalSeconds float64 `json:"interval_seconds"`
	// Count is how many snapshots this publish uploaded.
	Count int `json:"count"`
	// Latest is the key that always holds the latest snapshot.
	Latest string `json:"latest"`
	// Last is the latest snapshot uploaded.
	Last *Shot `json:"last,omitempty"`
}

// Status returns the snapshots of the session id of app/stream, if it has
// them. When several things are wrong, Error names the first of: the
// reader's failure, no video track, the target refusing writes (the
// latest of a write check and an upload), the image failing, no keyframe.
func (t *Taker) Status(app, stream, id string) (Status, bool) {
	t.init()
	t.mu.Lock()
	ss, ok := t.sessions[app+"/"+stream]
	chk := t.checks[app]
	t.mu.Unlock()
	if !ok || ss.s.ID != id {
		return Status{}, false
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	st := Status{State: StateWaiting, Target: ss.cfg.Store.String(), IntervalSeconds: ss.cfg.Interval.Seconds(),
		Count: ss.count, Latest: ss.prefix() + LatestName}
	if ss.last != nil {
		last := *ss.last
		st.Last, st.State = &last, StateOK
	}
	target := ss.uploadErr
	if chk != nil && !chk.at.Before(ss.uploadAt) {
		target = chk.err
	}
	switch {
	case ss.failure != "":
		st.Error = ss.failure
	case ss.noVideo:
		st.Error = fmt.Sprintf("stream %s has no video track; no snapshots", ss.s.key())
	case target != nil:
		st.Error = target.Error()
	case ss.encodeErr != nil:
		st.Error = ss.encodeErr.Error()
	case ss.noKeyframe:
		st.Error = fmt.Sprintf("no video keyframe received since the publish started %v ago",
			t.now().Sub(ss.s.Started).Round(time.Second))
	}
	if st.Error != "" {
		st.State = StateFailed
	}
	return st, true
}
