package livehttp

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/hls"
	"github.com/strata-cdn/strata/internal/live"
)

// syntheticRadio publishes an AAC-only stream with one complete HLS
// segment to h's hub.
func syntheticRadio(t *testing.T, h *Handler, key live.Key) *live.Stream {
	t.Helper()
	s, err := h.Hub.Publish(key, "127.0.0.1:40000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	md, err := flv.Metadata([]flv.Field{{Name: "audiocodecid", Value: float64(flv.SoundAAC)}})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.WriteTag(flv.Tag{Type: flv.TagScript, Body: md})
	waitMux(t, h, key, func(*hls.Muxer) bool { return true })
	_ = s.WriteTag(flv.Tag{Type: flv.TagAudio, Body: []byte{0xaf, 0, 0x12, 0x10}})
	for ms := 0; ms <= 1200; ms += 20 {
		_ = s.WriteTag(flv.Tag{Type: flv.TagAudio, Timestamp: uint32(ms), Body: []byte{0xaf, 1, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c}})
	}
	waitMux(t, h, key, func(m *hls.Muxer) bool { return m.Segments() >= 1 })
	return s
}

// fetch sends a GET with the user agent ua and returns the status and the
// start of the body (an HTTP-FLV body never ends, so it is not read to
// the end).
func fetch(t *testing.T, url, ua string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("User-Agent", ua)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := make([]byte, 512)
	n, _ := io.ReadAtLeast(resp.Body, b, 3)
	return resp.StatusCode, string(b[:n])
}

// The on_play hook decides for HTTP-FLV and HLS viewers: allowed viewers
// play, refused ones get 403 with the hook's reason, and an HLS viewer's
// playlist refreshes do not call the hook again.
func TestPlayHook(t *testing.T) {
	events := make(chan live.HookEvent, 32)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev live.HookEvent
		_ = json.NewDecoder(r.Body).Decode(&ev)
		events <- ev
		if ev.Params["token"] != "ok" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "viewer token "+ev.Params["token"]+" refused")
		}
	}))
	t.Cleanup(hook.Close)
	h := &Handler{Hub: &live.Hub{}, NodeID: "origin-1", HLS: hls.Options{TargetDuration: time.Second, PlaylistSize: 3},
		Policy: live.Policy{Apps: []live.App{{Name: "live", PublishKey: "k", Hooks: live.Hooks{OnPlay: hook.URL}}}}}
	h.Start()
	t.Cleanup(h.Close)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	syntheticRadio(t, h, live.Key{App: "live", Name: "radio"})

	cases := []struct {
		path, ua string
		status   int
		body     string
		proto    string // "" when the hook is not called
	}{
		{"/live/live/radio.flv?token=ok", "a", 200, "FLV", "flv"},
		{"/live/live/radio.flv?token=bad", "a", 403, "play of live/radio refused by the on_play hook (403): viewer token bad refused", "flv"},
		{"/live/live/radio.m3u8?token=ok", "b", 200, "#EXTM3U", "hls"},
		{"/live/live/radio.m3u8?token=ok", "b", 200, "#EXTM3U", ""}, // a refresh: no second call
		{"/live/live/radio.m3u8?token=bad", "c", 403, "viewer token bad refused", "hls"},
	}
	for _, tc := range cases {
		status, body := fetch(t, srv.URL+tc.path, tc.ua)
		if status != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s (%s): %d %q; want %d with %q", tc.path, tc.ua, status, body, tc.status, tc.body)
		}
		select {
		case ev := <-events:
			if tc.proto == "" {
				t.Errorf("GET %s (%s): hook called again (%+v); want no call for a known viewer", tc.path, tc.ua, ev)
			} else if ev.Action != "on_play" || ev.Protocol != tc.proto || ev.Stream != "radio" || ev.Node != "origin-1" || ev.ClientAddr != "127.0.0.1" {
				t.Errorf("GET %s: hook event %+v", tc.path, ev)
			}
		default:
			if tc.proto != "" {
				t.Errorf("GET %s: on_play hook not called", tc.path)
			}
		}
	}
}

// An unreachable on_play hook refuses play with 503 saying so, unless the
// app allows on hook failure.
func TestPlayHookFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/play"
	ln.Close()
	for _, allow := range []bool{false, true} {
		h := &Handler{Hub: &live.Hub{}, HLS: hls.Options{TargetDuration: time.Second},
			Policy: live.Policy{Apps: []live.App{{Name: "live", Hooks: live.Hooks{OnPlay: dead, AllowOnFailure: allow}}}}}
		h.Start()
		srv := httptest.NewServer(h)
		syntheticRadio(t, h, live.Key{App: "live", Name: "radio"})
		status, body := fetch(t, srv.URL+"/live/live/radio.m3u8", "x")
		switch {
		case allow && status != 200:
			t.Errorf("allow on failure: %d %q; want 200", status, body)
		case !allow && (status != 503 || !strings.Contains(body, "the on_play hook "+dead+" failed")):
			t.Errorf("deny on failure: %d %q; want 503 naming the failed hook", status, body)
		}
		srv.Close()
		h.Close()
	}
}
