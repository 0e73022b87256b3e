package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/livetest"
)

func runVOD(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"vod"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVODUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "Usage:"},
		{"unknown subcommand", []string{"pack"}, `unknown command "pack"`},
		{"no input", []string{"analyze"}, "give --s3, --bucket and --key"},
		{"both inputs", []string{"analyze", "--file", "x.mp4", "--bucket", "b"}, "not both"},
		{"no output", []string{"package", "--s3", "http://127.0.0.1:1", "--bucket", "b", "--key", "k"}, "give --out"},
		{"short segment", []string{"package", "--s3", "http://127.0.0.1:1", "--bucket", "b", "--key", "k", "--out", "o/", "--segment", "500ms"}, "at least 1s"},
		{"bad key", []string{"package", "--s3", "http://127.0.0.1:1", "--bucket", "b", "--key", "k", "--out", "o/", "--encrypt-key-uri", "k", "--encrypt-key", "abc"}, "32 hex digits"},
		{"bad cut", []string{"analyze", "--file", "x.mp4", "--cut", "gop"}, "--cut"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runVOD(tt.args...)
			if code != ExitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", code, errOut, ExitUsage, tt.want)
			}
		})
	}
}

// "strata vod analyze --file" reports a case-C28 file in words and JSON;
// --strict makes its warning fail the command.
func TestVODAnalyzeFile_C28(t *testing.T) {
	livetest.Need(t)
	p := filepath.Join(t.TempDir(), "sparse.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "color=c=black:s=160x120:r=1/30", "-f", "lavfi", "-i", "sine=sample_rate=8000",
		"-t", "120", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "8k", "-ac", "1", p).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	code, out, errOut := runVOD("analyze", "--file", p)
	if code != ExitOK || !strings.Contains(out, "WARNING sparse_track: video track 1 has 4 frames over 120.0 s (one every 30.0 s)") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runVOD("analyze", "--file", p, "--json", "--strict")
	var rep struct {
		Findings []struct{ Code string } `json:"findings"`
	}
	if code != ExitFail || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Findings) == 0 || rep.Findings[0].Code != "sparse_track" {
		t.Errorf("--strict --json: exit %d\n%s", code, out)
	}
}
