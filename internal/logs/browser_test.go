package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/browsertest"
)

// browserDir holds the Node project (playwright-core) that drives Chromium.
const browserDir = "testdata/browser"

// The HTML report renders its four charts in headless Chromium, with every
// series and status bar drawn, no console error and no request beyond the
// page itself.
func TestHTMLReportInChromium(t *testing.T) {
	node := browsertest.Need(t, browserDir, "playwright-core")
	r, _ := generated(t, FormatStrata)
	var page bytes.Buffer
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "check_page.mjs", "file://"+path)
	cmd.Dir = browserDir
	cmd.Env = append(os.Environ(), "CHROMIUM="+browsertest.Chromium)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node check_page.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	var got struct {
		Charts, Series, Bars int
		Width                []float64
		Names                []string
		Errors               []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("check_page.mjs output %q: %v", out, err)
	}
	if diff := cmp.Diff([]string{"requests", "bytes", "hit-ratio", "status"}, got.Names); diff != "" {
		t.Errorf("charts (-want +got):\n%s", diff)
	}
	// requests 1, bytes to clients and from origin 2, hit ratio 1.
	if got.Series != 4 || got.Bars != len(r.Status) {
		t.Errorf("rendered %d series and %d bars, want 4 and %d", got.Series, got.Bars, len(r.Status))
	}
	for i, w := range got.Width {
		if w < 100 {
			t.Errorf("chart %d rendered %.0f px wide", i, w)
		}
	}
	if len(got.Errors) != 0 {
		t.Errorf("page errors: %q", got.Errors)
	}
}
