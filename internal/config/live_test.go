package config

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLiveDefaultsAndProblems(t *testing.T) {
	d := Default().Live
	if !d.Enabled || d.RTMPListen != ":1935" || d.HTTPListen != ":8081" || d.HLS.PlaylistSize != 6 || d.HLS.SegmentDuration.D().Seconds() != 2 {
		t.Errorf("live defaults = %+v", d)
	}
	_, err := Parse([]byte(`
live:
  rtmp_listen: ":9000"
  http_listen: nowhere
  apps:
    - {name: live}
    - {name: "a/b", publish_key: k}
    - {name: live, sign_secret: s}
  hls: {segment_duration: 100ms, playlist_size: 1}
`))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *Error", err)
	}
	var got []string
	for _, p := range ce.Problems {
		got = append(got, p.Path)
	}
	want := []string{
		"live.http_listen", "live.rtmp_listen", "live.hls.segment_duration", "live.hls.playlist_size",
		"live.apps[0]", "live.apps[1].name", "live.apps[2].name",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
	if _, err := Parse([]byte("live: {enabled: false, rtmp_listen: bogus}\n")); err != nil {
		t.Errorf("disabled live with a bad address: %v; want no problem", err)
	}
}

func TestLiveHooks(t *testing.T) {
	cfg, err := Parse([]byte(`
live:
  apps:
    - name: live
      publish_key: k
      hooks: {on_publish: "http://127.0.0.1:8085/publish", on_play: "https://auth.example.test/play", timeout: 2s, on_failure: allow}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := LiveHooks{OnPublish: "http://127.0.0.1:8085/publish", OnPlay: "https://auth.example.test/play", Timeout: Duration(2e9), OnFailure: "allow"}
	if diff := cmp.Diff(want, cfg.Live.Apps[0].Hooks); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
	_, err = Parse([]byte(`
live:
  apps:
    - name: live
      publish_key: k
      hooks: {on_publish: "ftp://h/p", on_unpublish: "/relative", on_play: "http://h/p", timeout: 5m, on_failure: maybe}
`))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *Error", err)
	}
	var got []string
	for _, p := range ce.Problems {
		got = append(got, p.Path)
	}
	wantPaths := []string{"live.apps[0].hooks.on_publish", "live.apps[0].hooks.on_unpublish", "live.apps[0].hooks.timeout", "live.apps[0].hooks.on_failure"}
	if diff := cmp.Diff(wantPaths, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
}
