package config

import (
	"strings"
	"testing"
	"time"

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
	got := problemPaths(t, err)
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
	got := problemPaths(t, err)
	wantPaths := []string{"live.apps[0].hooks.on_publish", "live.apps[0].hooks.on_unpublish", "live.apps[0].hooks.timeout", "live.apps[0].hooks.on_failure"}
	if diff := cmp.Diff(wantPaths, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
}

func TestLiveRecord(t *testing.T) {
	cfg, err := Parse([]byte(`
live:
  apps:
    - name: live
      publish_key: k
      record: {bucket: rec, prefix: "{app}/{date}/{stream}/", max_duration: 30m}
    - name: other
      publish_key: k
      record: {bucket: vod.example, endpoint: "https://s3.example.test", access_key: a, secret_key: s, region: eu-west-1}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := LiveRecord{Bucket: "rec", Prefix: "{app}/{date}/{stream}/", MaxDuration: Duration(30 * time.Minute)}
	if diff := cmp.Diff(want, cfg.Live.Apps[0].Record); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	_, err = Parse([]byte(`
live:
  apps:
    - name: a
      publish_key: k
      record: {bucket: Bad_Bucket, prefix: "/{app}/", format: flv, max_duration: 100ms}
    - name: b
      publish_key: k
      record: {bucket: rec, prefix: "{app}/{hour}/", endpoint: "ftp://x", access_key: only-key}
    - name: c
      publish_key: k
      record: {endpoint: "http://127.0.0.1:9000"}
`))
	got := problemPaths(t, err)
	wantPaths := []string{
		"live.apps[0].record.bucket", "live.apps[0].record.prefix", "live.apps[0].record.format", "live.apps[0].record.max_duration",
		"live.apps[1].record.prefix", "live.apps[1].record.endpoint", "live.apps[1].record", "live.apps[1].record.secret_key",
		"live.apps[2].record.bucket",
	}
	if diff := cmp.Diff(wantPaths, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
}

func TestLiveSnapshot_C35(t *testing.T) {
	cfg, err := Parse([]byte(`
live:
  apps:
    - name: live
      publish_key: k
      snapshot: {bucket: snaps, prefix: "{app}/{stream}/shots/", interval: 2s, format: jpeg, width: 320, overwrite: true}
    - name: other
      publish_key: k
      snapshot: {bucket: thumbs.example, endpoint: "https://s3.example.test", access_key: a, secret_key: s, region: eu-west-1}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := LiveSnapshot{Bucket: "snaps", Prefix: "{app}/{stream}/shots/", Interval: Duration(2 * time.Second), Format: "jpeg", Width: 320, Overwrite: true}
	if diff := cmp.Diff(want, cfg.Live.Apps[0].Snapshot); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
	if got := cfg.Live.Apps[1].Snapshot.Endpoint; got != "https://s3.example.test" {
		t.Errorf("endpoint = %q", got)
	}
	_, err = Parse([]byte(`
live:
  apps:
    - name: a
      publish_key: k
      snapshot: {bucket: Bad_Bucket, prefix: "/{app}/", format: png, interval: 100ms, width: 8}
    - name: b
      publish_key: k
      snapshot: {bucket: snaps, prefix: "{app}/{hour}/", endpoint: "ftp://x", access_key: only-key, interval: 2h, width: 10000}
    - name: c
      publish_key: k
      snapshot: {endpoint: "http://127.0.0.1:9000"}
    - name: d
      publish_key: k
      snapshot: {bucket: snaps, endpoint: "http://127.0.0.1:9000/snaps", access_key: a, secret_key: s}
`))
	got := problemPaths(t, err)
	wantPaths := []string{
		"live.apps[0].snapshot.bucket", "live.apps[0].snapshot.prefix", "live.apps[0].snapshot.format", "live.apps[0].snapshot.interval", "live.apps[0].snapshot.width",
		"live.apps[1].snapshot.prefix", "live.apps[1].snapshot.interval", "live.apps[1].snapshot.width", "live.apps[1].snapshot.endpoint", "live.apps[1].snapshot", "live.apps[1].snapshot.secret_key",
		"live.apps[2].snapshot.bucket",
		"live.apps[3].snapshot.endpoint",
	}
	if diff := cmp.Diff(wantPaths, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
	if !strings.Contains(err.Error(), "must not have a path; the bucket is snapshot.bucket") {
		t.Errorf("endpoint with a path: %v, want it to name snapshot.bucket", err)
	}
}
