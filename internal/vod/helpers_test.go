package vod

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/livetest"
)

// fileSource is a Source over a local file.
type fileSource struct {
	f    *os.File
	size int64
}

func (s *fileSource) ReadAt(p []byte, off int64) (int, error) { return s.f.ReadAt(p, off) }
func (s *fileSource) Size() int64                             { return s.size }

func openSource(t *testing.T, path string) *fileSource {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return &fileSource{f: f, size: st.Size()}
}

// bytesSource is a Source over bytes.
type bytesSource struct{ *bytes.Reader }

func (s bytesSource) Size() int64 { return s.Reader.Size() }

// memSink keeps what the packager writes.
type memSink struct {
	mu    sync.Mutex
	objs  map[string][]byte
	types map[string]string
	order []string
}

func (s *memSink) Put(_ context.Context, name string, data []byte, ct string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objs == nil {
		s.objs, s.types = map[string][]byte{}, map[string]string{}
	}
	s.objs[name] = bytes.Clone(data)
	s.types[name] = ct
	s.order = append(s.order, name)
	return nil
}

// writeDir writes the sink's objects into a directory.
func (s *memSink) writeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	names := make([]string, 0, len(s.objs))
	for n := range s.objs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), s.objs[n], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ffmpegCache holds generated inputs by their arguments, so tests that
// share an input encode it once per run.
var ffmpegCache sync.Map

// encode runs ffmpeg with args (inputs and codecs; the output file is
// appended) and returns the output's path.
func encode(t *testing.T, name string, args ...string) string {
	t.Helper()
	livetest.Need(t)
	key := name + "\x00" + filepath.Join(args...)
	if p, ok := ffmpegCache.Load(key); ok {
		return p.(string)
	}
	dir, err := os.MkdirTemp("", "vod-test-")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	full := append(append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...), p)
	if out, err := exec.CommandContext(ctx, "ffmpeg", full...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v: %s", full, err, out)
	}
	ffmpegCache.Store(key, p)
	return p
}

// Inputs the tests share.
var (
	// 30 s of 25 fps H.264 with a keyframe every 2 s, and AAC.
	argsAV = []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "30", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "48k"}
	// Case C28: 4 video frames, one every 120 s, against 480 s of AAC.
	argsSparse = []string{"-f", "lavfi", "-i", "color=c=black:s=320x240:r=1/120", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050",
		"-t", "480", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "16k", "-ac", "1"}
)

// probe runs ffprobe on path and returns the format duration and the
// packets read per stream type.
func probe(t *testing.T, path string) (float64, map[string]int) {
	t.Helper()
	return livetest.CountPackets(t, path, 120*time.Second, "-allowed_extensions", "ALL")
}
