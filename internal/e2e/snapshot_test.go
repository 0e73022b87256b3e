package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/livetest"
)

// snapStatus is a stream in GET /live/streams, with its snapshots.
type snapStatus struct {
	Stream   string   `json:"stream"`
	Warnings []string `json:"warnings"`
	Snapshot *struct {
		State  string `json:"state"`
		Error  string `json:"error"`
		Count  int    `json:"count"`
		Latest string `json:"latest"`
		Last   *struct {
			Key  string    `json:"key"`
			Time time.Time `json:"time"`
			Size int       `json:"size"`
		} `json:"last"`
	} `json:"snapshot"`
	Recording *struct {
		State string `json:"state"`
	} `json:"recording"`
}

// waitSnapshot polls the admin API until stream's status satisfies ok,
// and returns it; it fails after 20s with the last status and the log.
func waitSnapshot(t *testing.T, n *node, stream string, what string, ok func(snapStatus) bool) snapStatus {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var body []byte
	for time.Now().Before(deadline) {
		_, body = liveGet(t, n.Admin+"/live/streams")
		var list struct {
			Streams []snapStatus `json:"streams"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("/live/streams: %v: %s", err, body)
		}
		for _, s := range list.Streams {
			if s.Stream == stream && s.Snapshot != nil && ok(s) {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("stream %s: no status with %s within 20s; last: %s\nlog:\n%s", stream, what, body, n.logText())
	return snapStatus{}
}

// probeJPEG fetches key from bucket and has ffprobe describe it.
func probeJPEG(t *testing.T, n *node, bucket, key string) livetest.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := filepath.Join(t.TempDir(), filepath.Base(key))
	if err := minioClient(t, n).FGetObject(ctx, bucket, key, p, minio.GetObjectOptions{}); err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_streams", "-of", "json", p).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", key, err)
	}
	var res struct {
		Streams []livetest.Stream `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) != 1 {
		t.Fatalf("ffprobe %s: %v: %s", key, err, out)
	}
	return res.Streams[0]
}

// listKeys lists bucket's keys under prefix.
func listKeys(t *testing.T, n *node, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	for o := range minioClient(t, n).ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list %s/%s: %v", bucket, prefix, o.Err)
		}
		keys = append(keys, o.Key)
	}
	sort.Strings(keys)
	return keys
}

// TestSnapshotsWrittenToBucket_C35 publishes two 320x240 streams to apps taking a
// snapshot every second: JPEGs of the stream's size (or of the configured
// width) appear in the bucket under their time and as latest.jpg, and the
// stream's status lists the latest.
func TestSnapshotsWrittenToBucket_C35(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	n := startNode(t, nodeConfig{
		s3extra: "  buckets: [{name: snaps}]\n",
		liveextra: "  apps:\n" +
			"    - {name: live, publish_key: k, snapshot: {bucket: snaps, interval: 1s}}\n" +
			"    - {name: thumb, publish_key: k, snapshot: {bucket: snaps, prefix: \"thumbs/{stream}/\", interval: 1s, width: 160, overwrite: true}}\n",
	})
	pub := livetest.Publish(t, livetest.VideoOnly, 5*time.Second, n.RTMP+"/live/cam?key=k")
	pubThumb := livetest.Publish(t, livetest.VideoOnly, 5*time.Second, n.RTMP+"/thumb/cam?key=k")

	st := waitSnapshot(t, n, "live/cam", "two snapshots", func(s snapStatus) bool { return s.Snapshot.Count >= 2 })
	if st.Snapshot.State != "ok" || st.Snapshot.Latest != "live/cam/latest.jpg" || st.Snapshot.Last == nil ||
		!strings.HasPrefix(st.Snapshot.Last.Key, "live/cam/") || !strings.HasSuffix(st.Snapshot.Last.Key, ".jpg") || st.Snapshot.Last.Size == 0 {
		t.Fatalf("snapshot status = %+v, want ok with the last key live/cam/....jpg", st.Snapshot)
	}
	thumb := waitSnapshot(t, n, "thumb/cam", "two snapshots", func(s snapStatus) bool { return s.Snapshot.Count >= 2 })

	keys := listKeys(t, n, "snaps", "live/cam/")
	if len(keys) < 3 || keys[len(keys)-1] != "live/cam/latest.jpg" {
		t.Errorf("keys = %q, want two or more timestamped snapshots and latest.jpg", keys)
	}
	for _, k := range []string{st.Snapshot.Last.Key, "live/cam/latest.jpg"} {
		if s := probeJPEG(t, n, "snaps", k); s.CodecName != "mjpeg" || s.Width != 320 || s.Height != 240 {
			t.Errorf("%s: %+v, want mjpeg 320x240 (the stream's size)", k, s)
		}
	}
	if keys := listKeys(t, n, "snaps", "thumbs/"); len(keys) != 1 || keys[0] != "thumbs/cam/latest.jpg" || thumb.Snapshot.Last.Key != keys[0] {
		t.Errorf("overwrite: keys %q, last %+v; want only thumbs/cam/latest.jpg", keys, thumb.Snapshot.Last)
	}
	if s := probeJPEG(t, n, "snaps", "thumbs/cam/latest.jpg"); s.CodecName != "mjpeg" || s.Width != 160 || s.Height != 120 {
		t.Errorf("thumbs/cam/latest.jpg: %+v, want mjpeg 160x120 (width: 160)", s)
	}
	for _, p := range []*livetest.Publisher{pub, pubThumb} {
		if out, err := p.Wait(30 * time.Second); err != nil {
			t.Errorf("publish: %v %s", err, out)
		}
	}
}

// TestSnapshotTargetDeniedInStreamStatus_C35 gives snapshots credentials
// the store refuses: start-up says so at ERROR naming the app and the
// cause, the stream's status carries it, and publishing, playback and
// recording of the same app go on.
func TestSnapshotTargetDeniedInStreamStatus_C35(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	n := startNode(t, nodeConfig{
		s3extra: "  buckets: [{name: snaps}, {name: rec}]\n",
		liveextra: "  apps:\n" +
			"    - {name: live, publish_key: k, record: {bucket: rec}, snapshot: {bucket: snaps, interval: 1s, access_key: intruder, secret_key: not-the-secret}}\n",
	})
	pub := livetest.Publish(t, livetest.VideoOnly, 4*time.Second, n.RTMP+"/live/c35snap?key=k")
	st := waitSnapshot(t, n, "live/c35snap", "snapshots failed", func(s snapStatus) bool { return s.Snapshot.State == "failed" })
	if !strings.Contains(st.Snapshot.Error, "access denied on bucket snaps (InvalidAccessKeyId") {
		t.Errorf("snapshot error = %q, want access denied on bucket snaps (InvalidAccessKeyId...)", st.Snapshot.Error)
	}
	warned := false
	for _, w := range st.Warnings {
		warned = warned || strings.HasPrefix(w, "snapshot: failed: access denied on bucket snaps")
	}
	if !warned {
		t.Errorf("warnings = %q, want \"snapshot: failed: access denied on bucket snaps ...\"", st.Warnings)
	}
	if st.Recording == nil || st.Recording.State != "recording" {
		t.Errorf("recording = %+v, want recording", st.Recording)
	}
	lines := n.logLines("snapshot target is not writable: snapshots of this app will fail")
	if len(lines) != 1 || lines[0]["level"] != "ERROR" || lines[0]["app"] != "live" ||
		!strings.Contains(lines[0]["err"].(string), "access denied on bucket snaps") {
		t.Errorf("start-up log lines %v, want one ERROR naming app live and the cause", lines)
	}
	resp, body := liveGet(t, n.Live+"/live/live/c35snap.m3u8")
	if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("#EXTM3U")) {
		t.Errorf("HLS playlist while snapshots fail: %s %q", resp.Status, body)
	}
	if out, err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("publish failed while snapshots failed: %v %s", err, out)
	}
	if files := waitRecordings(t, n, "live/c35snap", 1); files[0].State != "uploaded" {
		t.Errorf("recording = %+v, want uploaded", files[0])
	}
}

// TestSnapshotNoVideoNoFFmpeg_C35 runs a node without ffmpeg in its PATH:
// start-up says so at ERROR; a video stream's status says ffmpeg is
// missing, an audio-only stream's that it has no video; both publishes
// play on.
func TestSnapshotNoVideoNoFFmpeg_C35(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	n := startNode(t, nodeConfig{
		s3extra:   "  buckets: [{name: snaps}]\n",
		liveextra: "  apps: [{name: live, publish_key: k, snapshot: {bucket: snaps, interval: 1s}}]\n",
		env:       []string{"PATH=" + t.TempDir()},
	})
	if l := n.logLines("snapshots cannot be taken: ffmpeg not found"); len(l) != 1 || l[0]["level"] != "ERROR" {
		t.Errorf("start-up log lines %v, want one ERROR saying ffmpeg is missing", l)
	}
	radio := livetest.Publish(t, livetest.AudioOnly, 4*time.Second, n.RTMP+"/live/radio?key=k")
	cam := livetest.Publish(t, livetest.VideoOnly, 4*time.Second, n.RTMP+"/live/cam?key=k")
	st := waitSnapshot(t, n, "live/radio", "no video", func(s snapStatus) bool {
		return s.Snapshot.State == "failed" && !strings.HasPrefix(s.Snapshot.Error, "ffmpeg")
	})
	if want := "stream live/radio has no video track; no snapshots"; st.Snapshot.Error != want {
		t.Errorf("audio-only snapshot error = %q, want %q", st.Snapshot.Error, want)
	}
	st = waitSnapshot(t, n, "live/cam", "failed", func(s snapStatus) bool { return s.Snapshot.State == "failed" })
	if !strings.HasPrefix(st.Snapshot.Error, "ffmpeg not found") || !strings.Contains(st.Snapshot.Error, "snapshots need ffmpeg") {
		t.Errorf("snapshot error = %q, want ffmpeg not found ... snapshots need ffmpeg", st.Snapshot.Error)
	}
	for _, p := range []*livetest.Publisher{radio, cam} {
		if out, err := p.Wait(30 * time.Second); err != nil {
			t.Errorf("publish: %v %s", err, out)
		}
	}
}
