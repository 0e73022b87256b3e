package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-cdn/strata/internal/logs"
)

// writeLog writes a generated log in format f to dir, gzip-compressed when
// zip is set, and returns its path.
func writeLog(t *testing.T, dir string, f logs.Format, zip bool) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := logs.Generate(&b, logs.GenOptions{Format: f, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	name := filepath.Join(dir, string(f)+".log")
	if zip {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		data, name = z.Bytes(), name+".gz"
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// "strata logs analyze" reads plain and gzip logs of both formats, flags
// after the files, and reports the patterns as JSON, text and HTML.
func TestLogsAnalyze_C09_C18(t *testing.T) {
	dir := t.TempDir()
	strata := writeLog(t, dir, logs.FormatStrata, false)
	nginx := writeLog(t, dir, logs.FormatNginx, true)
	page := filepath.Join(dir, "report.html")
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"logs", "analyze", strata, nginx, "--json", "--html", page, "--bucket", "1m"}, &out, &errb)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("stderr not empty when it is not a terminal: %q", errb.String())
	}
	var rep logs.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json output: %v", err)
	}
	kinds := map[string]bool{}
	for _, p := range rep.Patterns {
		kinds[p.Kind+" "+p.Case] = true
	}
	for _, want := range []string{"range-storm C09", "5xx-burst C18", "hammering ", "hit-ratio-drop "} {
		if !kinds[want] {
			t.Errorf("no %q pattern in %v", want, kinds)
		}
	}
	if len(rep.Formats) != 2 || rep.Totals.Requests < 20000 {
		t.Errorf("formats %v, %d requests; want both formats and both files' requests", rep.Formats, rep.Totals.Requests)
	}
	if html, err := os.ReadFile(page); err != nil || !strings.Contains(string(html), "<svg") {
		t.Errorf("html report: %v, %d bytes", err, len(html))
	}

	out.Reset()
	if code := Main(context.Background(), []string{"logs", "analyze", strata}, &out, &errb); code != ExitOK {
		t.Fatalf("text: exit %d", code)
	}
	for _, want := range []string{"range-storm [C09] dl.example.test/downloads/big.zip", "5xx-burst [C18] 10.8.0.2:8080", "Top MISS URLs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

func TestLogsAnalyzeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"logs"},
		{"logs", "analyse", "x"},
		{"logs", "analyze"},
		{"logs", "analyze", "--format", "apache", "x"},
		{"logs", "analyze", filepath.Join(t.TempDir(), "missing.log")},
	} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), args, &out, &errb); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
	}
}
