package logs

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// generated returns the report of a generated hour of logs in format f.
func generated(t *testing.T, f Format) (*Report, []byte) {
	t.Helper()
	var log bytes.Buffer
	if _, err := Generate(&log, GenOptions{Format: f, Seed: 1, Malformed: 2}); err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(Options{Bucket: time.Minute})
	if err := a.Read("generated."+string(f), bytes.NewReader(log.Bytes()), nil); err != nil {
		t.Fatal(err)
	}
	r := a.Report()
	r.Inputs = []string{"generated." + string(f)}
	return r, log.Bytes()
}

// golden compares got with testdata/golden/name, or rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

// Each generated pattern is detected, with its case, in both formats; the
// text and JSON reports match the golden files.
func TestGoldenReports_C09_C18(t *testing.T) {
	for _, f := range []Format{FormatStrata, FormatNginx} {
		t.Run(string(f), func(t *testing.T) {
			r, _ := generated(t, f)
			var got []string
			for _, p := range r.Patterns {
				got = append(got, p.Kind+" "+p.Case+" "+p.Subject)
			}
			sort.Strings(got)
			want := []string{
				"5xx-burst C18 10.8.0.2:8080",
				"hammering  www.example.test/api/config.json",
				"hit-ratio-drop  cache",
				"range-storm C09 dl.example.test/downloads/big.zip",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("patterns (-want +got):\n%s", diff)
			}
			if r.Malformed != 2 {
				t.Errorf("malformed = %d, want the 2 garbage lines", r.Malformed)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			golden(t, string(f)+".txt", text.Bytes())
			j, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, string(f)+".json", append(j, '\n'))
		})
	}
}

// Gzip input is detected by its magic number and gives the same report.
func TestGzipInput(t *testing.T) {
	r, log := generated(t, FormatStrata)
	var z bytes.Buffer
	zw := newGzip(&z)
	zw.Write(log)
	zw.Close()
	a := NewAnalyzer(Options{Bucket: time.Minute})
	if err := a.Read("generated.strata", &z, nil); err != nil {
		t.Fatal(err)
	}
	got := a.Report()
	got.Inputs = r.Inputs
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("gzip report differs (-plain +gzip):\n%s", diff)
	}
}

// Noise alone shows no pattern.
func TestNoPatternsInNoise(t *testing.T) {
	var log bytes.Buffer
	evs := hourEvents(newRand(7), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 5000)
	for i := range evs {
		e := &evs[i]
		if e.host != "www.example.test" || e.uri == "/api/config.json" {
			continue
		}
		if m := e.t.Minute(); m >= 40 && m < 45 {
			continue
		}
		log.Write(e.append(nil, FormatStrata))
	}
	a := NewAnalyzer(Options{Bucket: time.Minute})
	if err := a.Read("noise", &log, nil); err != nil {
		t.Fatal(err)
	}
	if r := a.Report(); len(r.Patterns) != 0 {
		t.Errorf("patterns in plain noise: %+v", r.Patterns)
	}
}

// The HTML page is self-contained: no script or external resource, one
// SVG per chart.
func TestHTMLSelfContained(t *testing.T) {
	r, _ := generated(t, FormatStrata)
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "src=", "href=", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if n := strings.Count(page, "<svg"); n != 4 {
		t.Errorf("page has %d charts, want 4", n)
	}
}
