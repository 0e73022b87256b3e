package livehttp

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/live"
	"github.com/strata-cdn/strata/internal/snapshot"
)

// fakeSnapshots answers for one publish session.
type fakeSnapshots struct {
	session string
	st      snapshot.Status
}

func (f fakeSnapshots) Status(app, stream, session string) (snapshot.Status, bool) {
	return f.st, app == "live" && stream == "cam" && session == f.session
}

// TestStatusCarriesSnapshots_C35: a stream's status carries its
// snapshots, and a failure's cause is among its warnings.
func TestStatusCarriesSnapshots_C35(t *testing.T) {
	hub := &live.Hub{}
	h := &Handler{Hub: hub}
	s, err := hub.Publish(live.Key{App: "live", Name: "cam"}, "127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	failed := snapshot.Status{State: snapshot.StateFailed, Error: "access denied on bucket snaps (AccessDenied: Access Denied.)",
		Target: "s3://snaps/{app}/{stream}/ at http://127.0.0.1:9000", IntervalSeconds: 10, Latest: "live/cam/latest.jpg"}
	tests := []struct {
		name         string
		src          StatusSources
		wantSnapshot *snapshot.Status
		wantWarnings []string
	}{
		{"no snapshots configured", StatusSources{}, nil, nil},
		{"another session", StatusSources{Snapshots: fakeSnapshots{session: "older", st: failed}}, nil, nil},
		{"failed", StatusSources{Snapshots: fakeSnapshots{session: s.ID(), st: failed}}, &failed,
			[]string{"snapshot: failed: access denied on bucket snaps (AccessDenied: Access Denied.)"}},
		{"ok", StatusSources{Snapshots: fakeSnapshots{session: s.ID(), st: snapshot.Status{State: snapshot.StateOK, Count: 3}}},
			&snapshot.Status{State: snapshot.StateOK, Count: 3}, nil},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.StatusHandlerFor(tt.src).ServeHTTP(rec, httptest.NewRequest("GET", "/live/streams", nil))
		var got struct {
			Streams []StreamStatus `json:"streams"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Streams) != 1 {
			t.Fatalf("%s: %v: %s", tt.name, err, rec.Body)
		}
		if diff := cmp.Diff(tt.wantSnapshot, got.Streams[0].Snapshot); diff != "" {
			t.Errorf("%s: snapshot (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.wantWarnings, got.Streams[0].Warnings); diff != "" {
			t.Errorf("%s: warnings (-want +got):\n%s", tt.name, diff)
		}
	}
}
