package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// hookServer is a test hook: it records the events it receives and
// answers with answer.
type hookServer struct {
	*httptest.Server
	events chan HookEvent
}

func newHookServer(t *testing.T, answer http.HandlerFunc) *hookServer {
	t.Helper()
	hs := &hookServer{events: make(chan HookEvent, 16)}
	hs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev HookEvent
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("hook request: %s with Content-Type %q; want POST application/json", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("hook body: %v", err)
		}
		hs.events <- ev
		answer(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func publishEvent() HookEvent {
	return HookEvent{Action: ActionPublish, App: "live", Stream: "cam", ClientAddr: "192.0.2.7:50000",
		Params: Params(url.Values{"key": {"k3y"}, "token": {"t1", "t2"}})}
}

// A 2xx answer allows, and the hook gets the event as JSON.
func TestHookAllows(t *testing.T) {
	hs := newHookServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	c := &HookClient{NodeID: "n1"}
	if err := c.Check(context.Background(), Hooks{OnPublish: hs.URL}, publishEvent()); err != nil {
		t.Fatalf("Check = %v, want allowed", err)
	}
	got := <-hs.events
	want := HookEvent{Action: "on_publish", App: "live", Stream: "cam", ClientAddr: "192.0.2.7:50000",
		Params: map[string]string{"key": "k3y", "token": "t1"}, Node: "n1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hook event (-want +got):\n%s", diff)
	}
	// No hook configured for the action: allowed without a call.
	if err := c.Check(context.Background(), Hooks{OnPublish: hs.URL}, HookEvent{Action: ActionPlay, App: "live", Stream: "cam"}); err != nil {
		t.Errorf("Check on_play without an on_play hook = %v, want nil", err)
	}
	select {
	case ev := <-hs.events:
		t.Errorf("hook called for %s although only on_publish is set", ev.Action)
	default:
	}
}

// A refusal carries the hook's reason, from JSON or plain text.
func TestHookDeniesWithReason(t *testing.T) {
	cases := []struct {
		name   string
		answer http.HandlerFunc
		want   string
	}{
		{"json reason", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"code": 7, "reason": "camera 12 is not paid for"}`)
		}, "publish of live/cam refused by the on_publish hook (403): camera 12 is not paid for"},
		{"plain text", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "token expired\nmore detail")
		}, "publish of live/cam refused by the on_publish hook (401): token expired"},
		{"empty body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
		}, "publish of live/cam refused by the on_publish hook (403): Forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHookServer(t, tc.answer)
			c := &HookClient{}
			// AllowOnFailure does not turn a refusal into an allow.
			err := c.Check(context.Background(), Hooks{OnPublish: hs.URL, AllowOnFailure: true}, publishEvent())
			if !errors.Is(err, ErrHookDenied) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check = %v; want ErrHookDenied saying %q", err, tc.want)
			}
		})
	}
}

// A hook that fails (unreachable, timing out, 5xx) refuses by default and
// allows with AllowOnFailure; either way the log names the URL and the
// failure.
func TestHookFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	release := make(chan struct{})
	slow := newHookServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	broken := newHookServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	})
	cases := []struct {
		name, url, failure string
	}{
		{"unreachable", unreachable, "connection refused"},
		{"timeout", slow.URL, "no answer within 200ms"},
		{"5xx", broken.URL, "answered 500: database down"},
	}
	for _, tc := range cases {
		for _, allow := range []bool{false, true} {
			logs := &syncBuffer{}
			c := &HookClient{Logger: slog.New(slog.NewTextHandler(logs, nil))}
			hooks := Hooks{OnPlay: tc.url, Timeout: 200 * time.Millisecond, AllowOnFailure: allow}
			ev := HookEvent{Action: ActionPlay, App: "live", Stream: "cam", ClientAddr: "192.0.2.8", Protocol: "flv"}
			err := c.Check(context.Background(), hooks, ev)
			if allow && err != nil {
				t.Errorf("%s, allow on failure: Check = %v, want nil", tc.name, err)
			}
			if !allow && (!errors.Is(err, ErrHookFailed) || !strings.Contains(err.Error(), tc.failure) || !strings.Contains(err.Error(), tc.url)) {
				t.Errorf("%s: Check = %v; want ErrHookFailed naming %s and %q", tc.name, err, tc.url, tc.failure)
			}
			log := logs.String()
			if !strings.Contains(log, "hook failed") || !strings.Contains(log, tc.url) || !strings.Contains(log, tc.failure) {
				t.Errorf("%s (allow %v): log %q; want \"hook failed\" with the URL and %q", tc.name, allow, log, tc.failure)
			}
		}
	}
}

// on_unpublish is a notification: sent in the background, its failure
// only logged.
func TestHookNotify(t *testing.T) {
	hs := newHookServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusBadGateway)
	})
	logs := &syncBuffer{}
	c := &HookClient{Logger: slog.New(slog.NewTextHandler(logs, nil)), NodeID: "n2"}
	c.Notify(Hooks{OnUnpublish: hs.URL}, HookEvent{Action: ActionUnpublish, App: "live", Stream: "cam", Session: "abc"})
	c.Notify(Hooks{}, HookEvent{Action: ActionUnpublish}) // no hook: nothing
	c.Wait()
	ev := <-hs.events
	if ev.Action != "on_unpublish" || ev.Session != "abc" || ev.Node != "n2" {
		t.Errorf("on_unpublish event = %+v", ev)
	}
	if log := logs.String(); !strings.Contains(log, "hook failed") || !strings.Contains(log, "answered 502: nope") {
		t.Errorf("log %q; want the failed on_unpublish with its answer", log)
	}
}

func TestPolicyApp(t *testing.T) {
	p := Policy{Apps: []App{{Name: "live", Hooks: Hooks{OnPlay: "http://h/play"}}}}
	if a, ok := p.App("live"); !ok || a.Hooks.OnPlay != "http://h/play" {
		t.Errorf("App(live) = %+v %v", a, ok)
	}
	if _, ok := p.App("other"); ok {
		t.Errorf("App(other) found, want not")
	}
}
