// Package livetest runs ffmpeg and ffprobe for the live streaming tests:
// publishers of test-pattern streams, and probes of what Strata serves.
// Tests skip when the binaries are missing (make test installs them).
package livetest

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Kind selects the tracks of a test stream.
type Kind int

// Test stream kinds.
const (
	AudioVideo Kind = iota // H.264 test pattern + AAC sine
	VideoOnly              // H.264 test pattern
	AudioOnly              // AAC sine
	VideoG711              // H.264 + G.711 A-law, 8 kHz mono
	VideoMP3               // H.264 + MP3
)

// Need skips t when ffmpeg or ffprobe is missing.
func Need(t testing.TB) {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (make deps installs it): %v", b, err)
		}
	}
}

// Args returns ffmpeg arguments that publish a real-time stream of kind
// for d to url.
func Args(kind Kind, d time.Duration, url string) []string {
	secs := []string{"-t", formatSecs(d)}
	video := []string{"-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"}
	audio := []string{"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"}
	venc := []string{"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p"}
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin"}
	switch kind {
	case AudioVideo:
		args = append(append(append(append(args, video...), audio...), venc...), "-c:a", "aac", "-b:a", "64k")
	case VideoOnly:
		args = append(append(args, video...), venc...)
	case AudioOnly:
		args = append(append(args, audio...), "-c:a", "aac", "-b:a", "64k")
	case VideoG711:
		args = append(append(append(append(args, video...), audio...), venc...), "-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1")
	case VideoMP3:
		args = append(append(append(append(args, video...), audio...), venc...), "-c:a", "libmp3lame", "-ar", "44100")
	}
	args = append(args, secs...)
	return append(args, "-f", "flv", url)
}

func formatSecs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// Publisher is a running ffmpeg publish.
type Publisher struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// Publish starts ffmpeg publishing kind to url for d; cleanup kills it.
func Publish(t testing.TB, kind Kind, d time.Duration, url string) *Publisher {
	t.Helper()
	p := &Publisher{done: make(chan struct{})}
	p.cmd = exec.Command("ffmpeg", Args(kind, d, url)...)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start ffmpeg: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// Wait waits for ffmpeg to exit (at most timeout) and returns its
// standard error output and exit error.
func (p *Publisher) Wait(timeout time.Duration) (string, error) {
	select {
	case <-p.done:
		return p.stderr.String(), p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return p.stderr.String(), context.DeadlineExceeded
	}
}

// Done is closed when ffmpeg has exited.
func (p *Publisher) Done() <-chan struct{} { return p.done }

// Stream is one stream as ffprobe reports it.
type Stream struct {
	CodecType string `json:"codec_type"`
	CodecName string `json:"codec_name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}

// Probe runs ffprobe on url (bounded by timeout) and returns its streams
// and standard error output.
func Probe(t testing.TB, url string, timeout time.Duration, extra ...string) ([]Stream, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append([]string{"-v", "error", "-show_streams", "-of", "json"}, extra...)
	cmd := exec.CommandContext(ctx, "ffprobe", append(args, url)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var res struct {
		Streams []Stream `json:"streams"`
	}
	if jerr := json.Unmarshal(out.Bytes(), &res); err == nil && jerr != nil {
		err = jerr
	}
	return res.Streams, errb.String(), err
}

// CountPackets runs ffprobe -count_packets on url (extra flags go before
// it), bounded by timeout, and returns the format's duration in seconds
// and the packets read per stream type ("video", "audio").
func CountPackets(t testing.TB, url string, timeout time.Duration, extra ...string) (float64, map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append([]string{"-v", "error", "-count_packets", "-show_entries", "stream=codec_type,nb_read_packets:format=duration", "-of", "json"}, extra...)
	out, err := exec.CommandContext(ctx, "ffprobe", append(args, url)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", url, err, out)
	}
	var p struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecType string `json:"codec_type"`
			Packets   string `json:"nb_read_packets"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out)
	}
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	n := map[string]int{}
	for _, st := range p.Streams {
		v, _ := strconv.Atoi(st.Packets)
		n[st.CodecType] += v
	}
	return d, n
}

// Kill stops ffmpeg at once.
func (p *Publisher) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}
