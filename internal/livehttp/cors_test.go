package livehttp

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/strata-cdn/strata/internal/live"
)

// Players on another origin may read the streams: every answer allows any
// origin, and a preflight (a player sending Range or headers of its own)
// is answered.
func TestCORS(t *testing.T) {
	h := &Handler{Hub: &live.Hub{}}
	h.Start()
	t.Cleanup(h.Close)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/live/live/cam.m3u8", nil)
	req.Header.Set("Origin", "http://player.example.test")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "range, x-player-session")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := map[string]string{}
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
		got[k] = resp.Header.Get(k)
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET, HEAD",
		"Access-Control-Allow-Headers": "range, x-player-session",
	}
	if resp.StatusCode != http.StatusNoContent || got["Access-Control-Allow-Origin"] != want["Access-Control-Allow-Origin"] ||
		got["Access-Control-Allow-Methods"] != want["Access-Control-Allow-Methods"] || got["Access-Control-Allow-Headers"] != want["Access-Control-Allow-Headers"] {
		t.Errorf("preflight: %s %v; want 204 %v", resp.Status, got, want)
	}
	// An error answer carries the header too, so the player can read why.
	resp, body := get(t, srv.URL+"/live/live/cam.flv")
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET unknown stream: %s, Access-Control-Allow-Origin %q (%s); want 404 with *", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"), body)
	}
	// A plain OPTIONS is not a preflight: still refused.
	req, _ = http.NewRequest(http.MethodOptions, srv.URL+"/live/live/cam.flv", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("OPTIONS without Access-Control-Request-Method: %s, want 405", resp.Status)
	}
}
