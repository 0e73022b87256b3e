package snapshot

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/flv"
)

func needFFmpeg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skipf("ffmpeg not installed (make deps installs it): %v", err)
	}
}

// size decodes a JPEG's dimensions.
func size(t *testing.T, img []byte) (int, int) {
	t.Helper()
	c, err := jpeg.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("image does not decode as JPEG: %v", err)
	}
	return c.Width, c.Height
}

// hevcKeyframe splits testdata/key.h265 (one libx265 keyframe, Annex-B)
// into the parameter sets and a length-prefixed frame, as an FLV tag of a
// HEVC stream carries them.
func hevcKeyframe(t *testing.T) (Params, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "key.h265"))
	if err != nil {
		t.Fatal(err)
	}
	p := Params{Codec: flv.VideoH265, LengthSize: 4}
	var frame [][]byte
	for _, n := range bytes.Split(b, []byte{0, 0, 1}) {
		n = bytes.TrimRight(n, "\x00") // the zero_byte of the next 4-byte start code
		if len(n) < 2 {
			continue
		}
		if typ := n[0] >> 1 & 0x3f; typ >= 32 && typ <= 34 {
			p.Sets = append(p.Sets, n)
		} else {
			frame = append(frame, n)
		}
	}
	if len(p.Sets) != 3 || len(frame) == 0 {
		t.Fatalf("testdata/key.h265: %d parameter sets and %d other units, want 3 and some", len(p.Sets), len(frame))
	}
	return p, lp(4, frame...)
}

// TestFFmpegJPEG_C35 decodes real H.264 and H.265 keyframes with ffmpeg
// into JPEGs of the stream's size, or of the width asked for.
func TestFFmpegJPEG_C35(t *testing.T) {
	needFFmpeg(t)
	t.Parallel()
	avc, avcFrame := firstKeyframe(t)
	hevc, hevcFrame := hevcKeyframe(t)
	tests := []struct {
		name         string
		p            Params
		payload      []byte
		width        int
		wantW, wantH int
	}{
		{"h264", avc, avcFrame, 0, 160, 120},
		{"h264 scaled", avc, avcFrame, 80, 80, 60},
		{"h265", hevc, hevcFrame, 0, 160, 120},
	}
	for _, tt := range tests {
		f, err := Keyframe(tt.p, tt.payload)
		if err != nil {
			t.Fatal(err)
		}
		img, err := FFmpeg{}.JPEG(context.Background(), f, tt.width)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if w, h := size(t, img); w != tt.wantW || h != tt.wantH {
			t.Errorf("%s: image %dx%d, want %dx%d", tt.name, w, h, tt.wantW, tt.wantH)
		}
	}
}

// TestFFmpegErrors_C35: each way ffmpeg fails comes back with its cause.
func TestFFmpegErrors_C35(t *testing.T) {
	needFFmpeg(t)
	t.Parallel()
	avc, payload := firstKeyframe(t)
	good, err := Keyframe(avc, payload)
	if err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(t.TempDir(), "slow-ffmpeg")
	if err := os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		enc  FFmpeg
		f    Frame
		err  error
		text string
	}{
		{"missing", FFmpeg{Path: "/nonexistent/ffmpeg"}, good, ErrNoFFmpeg, "snapshots need ffmpeg"},
		{"garbage", FFmpeg{}, Frame{Codec: flv.VideoH264, Data: []byte("not a video")}, ErrEncode, "ffmpeg failed (exit status 1): "},
		{"too large", FFmpeg{MaxImage: 100}, good, ErrEncode, "larger than 100 bytes"},
		{"timeout", FFmpeg{Path: slow, Timeout: 200 * time.Millisecond}, good, ErrEncode, "timed out after 200ms"},
	}
	for _, tt := range tests {
		img, err := tt.enc.JPEG(context.Background(), tt.f, 0)
		if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: JPEG = %d bytes, %v; want %v containing %q", tt.name, len(img), err, tt.err, tt.text)
		}
	}
	if err := (FFmpeg{Path: "/nonexistent/ffmpeg"}).Ready(); !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("Ready of a missing binary = %v, want ErrNoFFmpeg", err)
	}
	if err := (FFmpeg{}).Ready(); err != nil {
		t.Errorf("Ready = %v, want nil", err)
	}
}

func TestArgs(t *testing.T) {
	got := strings.Join(Args("hevc", 320), " ")
	want := "-hide_banner -loglevel error -nostdin -f hevc -i pipe:0 -frames:v 1 -vf scale=320:-2 -f image2pipe -c:v mjpeg -q:v 3 pipe:1"
	if got != want {
		t.Errorf("Args = %q, want %q", got, want)
	}
}
