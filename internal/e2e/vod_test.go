package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/livetest"
)

// vodInput encodes an MP4 with ffmpeg and uploads it to bucket vod as key.
func vodInput(t *testing.T, n *node, key string, args ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(key))
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	full := append(append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...), p)
	if out, err := exec.CommandContext(ctx, "ffmpeg", full...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	if _, err := minioClient(t, n).FPutObject(ctx, "vod", key, p, minio.PutObjectOptions{ContentType: "video/mp4"}); err != nil {
		t.Fatalf("upload %s: %v", key, err)
	}
	return p
}

// strata runs the strata binary with the test credentials and returns its
// exit code and output.
func strata(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, strataBin, args...)
	cmd.Env = append(os.Environ(), "STRATA_ACCESS_KEY="+testAccessKey, "STRATA_SECRET_KEY="+testSecretKey)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("strata %v: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

// hlsProbe runs ffprobe on a playlist URL: its duration and packets per
// stream type.
func hlsProbe(t *testing.T, url string) (float64, map[string]int) {
	t.Helper()
	return livetest.CountPackets(t, url, 120*time.Second)
}

// The case end to end: an MP4 with 4 video frames against 8 minutes of
// audio is uploaded to a node, packaged with AES-128 by "strata vod
// package", and played through the node's edge: the playlist plays the
// whole 480 s with every frame, has one segment per 6 s, and the report
// names the sparse track with its numbers. --strict refuses it and
// publishes nothing.
func TestVODPackageSparseEncrypted_C28(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	n := startNode(t, nodeConfig{s3extra: "  buckets: [{name: vod, public_read: true}]\n"})
	in := vodInput(t, n, "in/case.mp4", "-f", "lavfi", "-i", "color=c=black:s=320x240:r=1/120", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050",
		"-t", "480", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "16k", "-ac", "1")
	inDur, inPkts := hlsProbe(t, in)
	if inPkts["video"] != 4 {
		t.Fatalf("input has %d video frames, want 4", inPkts["video"])
	}

	// analyze only reports; --strict makes the finding fail it.
	code, out, errOut := strata(t, "vod", "analyze", "--s3", n.S3, "--bucket", "vod", "--key", "in/case.mp4")
	if code != 0 || !strings.Contains(out, "4 frames over 480.0 s (one every 120.0 s) against "+strconv.Itoa(inPkts["audio"])+" audio frames") {
		t.Fatalf("vod analyze: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := strata(t, "vod", "package", "--strict", "--s3", n.S3, "--bucket", "vod", "--key", "in/case.mp4", "--out", "strict/"); code != 1 || !strings.Contains(out, "sparse_track") {
		t.Errorf("vod package --strict: exit %d, want 1 with the finding\n%s", code, out)
	}
	if resp, _ := httpGet(t, n.Edge+"/vod/strict/index.m3u8"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a refused input published a playlist: %d", resp.StatusCode)
	}

	keyURI := n.Edge + "/vod/out/case/enc.key"
	code, out, errOut = strata(t, "vod", "package", "--s3", n.S3, "--bucket", "vod", "--key", "in/case.mp4", "--out", "out/case/",
		"--encrypt-key-uri", keyURI, "--json")
	if code != 0 {
		t.Fatalf("vod package: exit %d\n%s%s", code, out, errOut)
	}
	var res struct {
		Report struct {
			Findings []struct {
				Code, Message string
			} `json:"findings"`
			Segmenting struct {
				Mode string `json:"mode"`
			} `json:"segmenting"`
		} `json:"report"`
		Segments []struct {
			Name string `json:"name"`
		} `json:"segments"`
		Duration float64 `json:"duration_seconds"`
		Key      string  `json:"key_object"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if len(res.Report.Findings) == 0 || res.Report.Findings[0].Code != "sparse_track" || res.Report.Segmenting.Mode != "time" {
		t.Errorf("report: %+v", res.Report)
	}
	if want := int(math.Ceil(inDur / 6)); len(res.Segments) != want {
		t.Errorf("%d segments, want %d (%.1f s / 6 s)", len(res.Segments), want, inDur)
	}

	resp, body := httpGet(t, n.Edge+"/vod/out/case/index.m3u8")
	if resp.StatusCode != 200 || !strings.Contains(body, "#EXT-X-PLAYLIST-TYPE:VOD") || !strings.Contains(body, "#EXT-X-ENDLIST") ||
		!strings.Contains(body, `#EXT-X-KEY:METHOD=AES-128,URI="`+keyURI+`"`) {
		t.Fatalf("playlist: %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.apple.mpegurl" {
		t.Errorf("playlist Content-Type %q", ct)
	}
	resp, seg := httpGet(t, n.Edge+"/vod/out/case/"+res.Segments[0].Name)
	if resp.StatusCode != 200 || len(seg) == 0 || seg[0] == 0x47 {
		t.Errorf("segment 0: %d, %d bytes, first byte %#x: want encrypted", resp.StatusCode, len(seg), seg[:min(1, len(seg))])
	}
	gotDur, gotPkts := hlsProbe(t, n.Edge+"/vod/out/case/index.m3u8")
	if math.Abs(gotDur-inDur) > 0.1 {
		t.Errorf("ffprobe: the playlist plays %.3f s, the input %.3f s", gotDur, inDur)
	}
	for kind, c := range inPkts {
		if gotPkts[kind] != c {
			t.Errorf("ffprobe: the playlist has %d %s packets, the input %d", gotPkts[kind], kind, c)
		}
	}
}

// A clean H.264 + AAC file is cut on keyframes, unencrypted.
func TestVODPackageKeyframes_C28(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	n := startNode(t, nodeConfig{s3extra: "  buckets: [{name: vod, public_read: true}]\n"})
	in := vodInput(t, n, "clip.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "48k")
	inDur, inPkts := hlsProbe(t, in)
	code, out, errOut := strata(t, "vod", "package", "--s3", n.S3, "--bucket", "vod", "--key", "clip.mp4", "--out", "hls/clip", "--segment", "4s")
	if code != 0 || !strings.Contains(out, "Segmenting on video keyframes, target 4 s") || !strings.Contains(out, "Wrote 5 segments") {
		t.Fatalf("vod package: exit %d\n%s%s", code, out, errOut)
	}
	gotDur, gotPkts := hlsProbe(t, n.Edge+"/vod/hls/clip/index.m3u8")
	if math.Abs(gotDur-inDur) > 0.1 || gotPkts["video"] != inPkts["video"] || gotPkts["audio"] != inPkts["audio"] {
		t.Errorf("ffprobe: %.3f s %v, input %.3f s %v", gotDur, gotPkts, inDur, inPkts)
	}
}

// A live recording (fragmented MP4 written by the recorder) packages as
// VOD from the recordings bucket: recording and VOD packaging meet in the
// store.
func TestVODPackagesLiveRecording_C28(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	n := startNode(t, nodeConfig{
		s3extra:   "  buckets: [{name: rec, public_read: true}]\n",
		liveextra: "  apps: [{name: live, publish_key: k, record: {bucket: rec}}]\n",
	})
	pushFLV(t, encodeFLV(t, 2, 8), n.RTMP+"/live/vodsrc?key=k")
	files := waitRecordings(t, n, "live/vodsrc", 1)
	if len(files) != 1 || files[0].State != "uploaded" {
		t.Fatalf("recordings: %+v", files)
	}
	code, out, errOut := strata(t, "vod", "package", "--s3", n.S3, "--bucket", "rec", "--key", files[0].Key, "--out", "vod/vodsrc/", "--segment", "2s")
	if code != 0 || !strings.Contains(out, "fragmented MP4") || !strings.Contains(out, "Segmenting on video keyframes") {
		t.Fatalf("vod package of %s: exit %d\n%s%s", files[0].Key, code, out, errOut)
	}
	gotDur, gotPkts := hlsProbe(t, n.Edge+"/rec/vod/vodsrc/index.m3u8")
	if !near(gotDur, files[0].DurationSeconds, 0.1) || gotPkts["video"] < 190 || gotPkts["audio"] == 0 {
		t.Errorf("ffprobe: %.3f s %v; the recording lasts %.3f s", gotDur, gotPkts, files[0].DurationSeconds)
	}
}
