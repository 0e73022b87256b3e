package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/livetest"
)

// recordNode starts a node whose app "live" records into bucket "rec".
func recordNode(t *testing.T, record string) *node {
	t.Helper()
	return startNode(t, nodeConfig{
		s3extra:   "  buckets: [{name: rec}]\n",
		liveextra: "  apps: [{name: live, publish_key: k, record: " + record + "}]\n",
	})
}

// encodeFLV makes an FLV test stream with ffmpeg: 160x120 H.264 at 25 fps
// and AAC with the given channels, secs long, as tags.
func encodeFLV(t *testing.T, channels, secs int) []flv.Tag {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.flv")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", strconv.Itoa(secs), "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "48k", "-ac", strconv.Itoa(channels), "-f", "flv", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := flv.ReadTags(b)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

// pushFLV publishes tags to url with ffmpeg (-c copy, as fast as it
// reads), and waits for it to finish.
func pushFLV(t *testing.T, tags []flv.Tag, url string) {
	t.Helper()
	buf := flv.Header(true, true)
	for _, tg := range tags {
		buf = flv.AppendTag(buf, tg)
	}
	p := filepath.Join(t.TempDir(), "push.flv")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-i", p, "-c", "copy", "-f", "flv", url).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg push: %v: %s", err, out)
	}
}

// recFile is a file in GET /live/recordings.
type recFile struct {
	Key             string   `json:"key"`
	State           string   `json:"state"`
	Error           string   `json:"error"`
	DurationSeconds float64  `json:"duration_seconds"`
	Size            int64    `json:"size"`
	Tracks          []string `json:"tracks"`
	StartReason     string   `json:"start_reason"`
	EndReason       string   `json:"end_reason"`
	Notes           []string `json:"notes"`
}

// waitRecordings polls the admin API until stream has n files that are
// uploaded or failed, and returns them.
func waitRecordings(t *testing.T, n *node, stream string, want int) []recFile {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var body []byte
	for time.Now().Before(deadline) {
		_, body = liveGet(t, n.Admin+"/live/recordings")
		var list struct {
			Recordings []struct {
				Stream string    `json:"stream"`
				Files  []recFile `json:"files"`
			} `json:"recordings"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("/live/recordings: %v: %s", err, body)
		}
		for _, s := range list.Recordings {
			done := 0
			for _, f := range s.Files {
				if f.State == "uploaded" || f.State == "failed" {
					done++
				}
			}
			if s.Stream == stream && done >= want {
				return s.Files
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("stream %s: %d finished recordings not listed within 60s: %s\nlog:\n%s", stream, want, body, n.logText())
	return nil
}

// probedFile is what ffprobe says of a recorded object.
type probedFile struct {
	Duration float64
	Streams  []struct {
		CodecName string `json:"codec_name"`
		Channels  int    `json:"channels"`
		StartTime string `json:"start_time"`
	}
}

// fetchAndProbe downloads key from bucket rec through the S3 API and runs
// ffprobe on it.
func fetchAndProbe(t *testing.T, n *node, key string) probedFile {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := filepath.Join(t.TempDir(), filepath.Base(key))
	if err := minioClient(t, n).FGetObject(ctx, "rec", key, p, minio.GetObjectOptions{}); err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", p).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", key, err)
	}
	var res struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecName string `json:"codec_name"`
			Channels  int    `json:"channels"`
			StartTime string `json:"start_time"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out)
	}
	pf := probedFile{Streams: res.Streams}
	pf.Duration, _ = strconv.ParseFloat(res.Format.Duration, 64)
	// Chrome and ffmpeg must be able to seek in it: decode from 1s on.
	if out, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-ss", "1", "-i", p, "-f", "null", "-").CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("ffmpeg seeking in %s: %v: %s", key, err, out)
	}
	return pf
}

func near(got, want, tol float64) bool { return got >= want-tol && got <= want+tol }

// TestRecordingSplitsOnAudioConfigChange_C33 publishes 3s of mono AAC and
// then, in the same publish, 3s of stereo: the recording has one file per
// audio configuration, each playable with its own channel count, and the
// listing says why the second began.
func TestRecordingSplitsOnAudioConfigChange_C33(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	n := recordNode(t, "{bucket: rec}")
	mono, stereo := encodeFLV(t, 1, 3), encodeFLV(t, 2, 3)
	tags := append([]flv.Tag{}, mono...)
	for _, tg := range stereo {
		if tg.Type == flv.TagScript {
			continue
		}
		tg.Timestamp += 3000
		tags = append(tags, tg)
	}
	pushFLV(t, tags, n.RTMP+"/live/c33?key=k")

	files := waitRecordings(t, n, "live/c33", 2)
	if len(files) != 2 {
		t.Fatalf("files = %+v, want 2 (one per audio configuration)", files)
	}
	if want := "audio config changed: 1 ch → 2 ch"; !strings.Contains(files[1].StartReason, want) || !strings.Contains(files[0].EndReason, want) {
		t.Errorf("reasons: first ends %q, second starts %q; want %q", files[0].EndReason, files[1].StartReason, want)
	}
	for i, f := range files {
		if f.State != "uploaded" {
			t.Fatalf("file %d: %+v, want uploaded", i+1, f)
		}
		pf := fetchAndProbe(t, n, f.Key)
		if len(pf.Streams) != 2 || pf.Streams[0].CodecName != "h264" || pf.Streams[1].CodecName != "aac" || pf.Streams[1].Channels != i+1 {
			t.Errorf("file %d (%s): streams %+v, want h264 and aac with %d channels", i+1, f.Key, pf.Streams, i+1)
		}
		if !near(pf.Duration, 3, 0.3) || !near(f.DurationSeconds, 3, 0.3) {
			t.Errorf("file %d: ffprobe duration %.2fs, listed %.2fs; want about 3s", i+1, pf.Duration, f.DurationSeconds)
		}
	}
	if len(n.logLines("recording file started")) < 2 {
		t.Errorf("the log does not report each file's start:\n%s", n.logText())
	}
}

// TestRecordingKeepsLateVideo_C34 publishes a stream whose first two
// seconds carry audio only: the recording holds all five seconds, video
// from 2s, and its report says the video started late.
func TestRecordingKeepsLateVideo_C34(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	n := recordNode(t, "{bucket: rec, prefix: \"cams/{stream}/\"}")
	var tags []flv.Tag
	for _, tg := range encodeFLV(t, 2, 5) {
		if tg.Type == flv.TagVideo && tg.Timestamp < 2000 && len(tg.Body) > 1 && tg.Body[1] != 0 {
			continue // frames, not the sequence header
		}
		tags = append(tags, tg)
	}
	pushFLV(t, tags, n.RTMP+"/live/c34?key=k")

	files := waitRecordings(t, n, "live/c34", 1)
	if len(files) != 1 || files[0].State != "uploaded" {
		t.Fatalf("files = %+v, want one uploaded", files)
	}
	f := files[0]
	if !strings.HasPrefix(f.Key, "cams/c34/") || !strings.HasSuffix(f.Key, "_001.mp4") {
		t.Errorf("key = %q, want cams/c34/..._001.mp4", f.Key)
	}
	if !near(f.DurationSeconds, 5, 0.3) {
		t.Errorf("listed duration %.2fs, want about 5s", f.DurationSeconds)
	}
	found := false
	for _, note := range f.Notes {
		found = found || strings.Contains(note, "video starts 2.0 s after audio")
	}
	if !found {
		t.Errorf("notes = %q, want one saying video starts 2.0 s after audio", f.Notes)
	}
	pf := fetchAndProbe(t, n, f.Key)
	if !near(pf.Duration, 5, 0.3) || len(pf.Streams) != 2 {
		t.Fatalf("ffprobe: %.2fs, streams %+v; want about 5s with video and audio", pf.Duration, pf.Streams)
	}
	if st, _ := strconv.ParseFloat(pf.Streams[0].StartTime, 64); pf.Streams[0].CodecName != "h264" || !near(st, 2, 0.2) {
		t.Errorf("video stream %+v, want h264 starting at about 2s", pf.Streams[0])
	}
}

// TestRecordingFailureInStreamStatus_C35 configures recording credentials
// the store refuses: start-up says so loudly, a publish still plays, and
// the stream's status carries the cause, naming the bucket; the file that
// could not be uploaded is listed as failed with the same cause.
func TestRecordingFailureInStreamStatus_C35(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	n := startNode(t, nodeConfig{
		s3extra: "  buckets: [{name: rec}]\n",
		liveextra: "  apps:\n" +
			"    - {name: live, publish_key: k, record: {bucket: rec, access_key: intruder, secret_key: not-the-secret}}\n" +
			"    - {name: gone, publish_key: k, record: {bucket: no-such-bucket}}\n",
	})
	deadline := time.Now().Add(30 * time.Second)
	for len(n.logLines("recording target is not writable")) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	causes := map[string]string{}
	for _, l := range n.logLines("recording target is not writable") {
		app, _ := l["app"].(string)
		causes[app], _ = l["err"].(string)
		if l["level"] != "ERROR" {
			t.Errorf("start-up check logged at %v, want ERROR", l["level"])
		}
	}
	if !strings.Contains(causes["live"], "access denied on bucket rec (InvalidAccessKeyId") {
		t.Errorf("start-up cause for app live = %q, want access denied on bucket rec (InvalidAccessKeyId...)", causes["live"])
	}
	if !strings.Contains(causes["gone"], "bucket no-such-bucket does not exist") {
		t.Errorf("start-up cause for app gone = %q, want bucket no-such-bucket does not exist", causes["gone"])
	}

	pub := livetest.Publish(t, livetest.AudioVideo, 4*time.Second, n.RTMP+"/live/c35?key=k")
	type status struct {
		Stream    string   `json:"stream"`
		Warnings  []string `json:"warnings"`
		Recording *struct {
			State string `json:"state"`
			Error string `json:"error"`
		} `json:"recording"`
	}
	var got status
	for time.Now().Before(deadline.Add(30 * time.Second)) {
		_, body := liveGet(t, n.Admin+"/live/streams")
		var list struct {
			Streams []status `json:"streams"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("/live/streams: %v: %s", err, body)
		}
		if len(list.Streams) == 1 && list.Streams[0].Recording != nil && list.Streams[0].Recording.State == "failed" {
			got = list.Streams[0]
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got.Recording == nil || !strings.Contains(got.Recording.Error, "access denied on bucket rec (InvalidAccessKeyId") {
		t.Fatalf("stream status %+v; want recording failed: access denied on bucket rec", got)
	}
	warned := false
	for _, w := range got.Warnings {
		warned = warned || strings.HasPrefix(w, "recording: failed: access denied on bucket rec")
	}
	if !warned {
		t.Errorf("warnings = %q, want \"recording: failed: access denied on bucket rec ...\"", got.Warnings)
	}
	// Playback is unaffected.
	resp, head := liveGet(t, n.Live+"/live/live/c35.m3u8")
	if resp.StatusCode != 200 || !bytes.HasPrefix(head, []byte("#EXTM3U")) {
		t.Errorf("HLS playlist while recording fails: %s %q", resp.Status, head)
	}
	if out, err := pub.Wait(60 * time.Second); err != nil {
		t.Fatalf("publish failed while recording failed: %v %s", err, out)
	}
	files := waitRecordings(t, n, "live/c35", 1)
	if files[0].State != "failed" || !strings.Contains(files[0].Error, "access denied on bucket rec") {
		t.Errorf("recording = %+v, want failed with access denied on bucket rec", files[0])
	}
}
