package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// docServer serves one file; etag is sent as given (bare in A1).
func docServer(t *testing.T, etag string) string {
	t.Helper()
	body := bytes.Repeat([]byte("doctor\n"), 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		w.Header().Set("Via", "1.1 strata-test")
		w.Header().Set("X-Request-Id", "r1")
		w.Header().Set("Cache-Control", "public, max-age=60")
		http.ServeContent(w, r, "f.bin", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/f.bin"
}

func runDoctor(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code = Main(ctx, append([]string{"doctor"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDoctorJSONAndExitCode_A1(t *testing.T) {
	u := docServer(t, "abc123") // unquoted: a bad finding
	code, out, errs := runDoctor(t, u, "--json", "--timeout", "20s")
	if code != ExitFail {
		t.Fatalf("exit %d, want %d (a bad finding); stderr:\n%s\nstdout:\n%s", code, ExitFail, errs, out)
	}
	var rep struct {
		URL      string             `json:"url"`
		Timing   map[string]float64 `json:"timing"`
		Findings []struct {
			ID, Case, Level, Summary, Fix string
			Evidence                      []string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, out)
	}
	if rep.URL != u {
		t.Errorf("url %q, want %q", rep.URL, u)
	}
	for _, name := range []string{"time_namelookup", "time_connect", "time_appconnect", "time_starttransfer", "time_total"} {
		if _, ok := rep.Timing[name]; !ok {
			t.Errorf("timing lacks %s: %v", name, rep.Timing)
		}
	}
	found := false
	for _, f := range rep.Findings {
		if f.ID == "etag.unquoted" {
			found = true
			if f.Case != "A1" || f.Level != "bad" || f.Fix == "" {
				t.Errorf("etag.unquoted: got case %q level %q fix %q, want A1 bad with a fix", f.Case, f.Level, f.Fix)
			}
		}
	}
	if !found {
		t.Errorf("no etag.unquoted finding in %s", out)
	}
}

func TestDoctorHumanOutputAndExitOK(t *testing.T) {
	u := docServer(t, `"abc123"`)
	code, out, errs := runDoctor(t, "--timeout", "20s", u)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour codes written to a buffer:\n%s", out)
	}
	for _, want := range []string{"strata doctor " + u, "timing (s): namelookup=", "\nOK\n", "etag.ok [A1]", " bad, "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "\nINFO\n"), strings.Index(out, "\nOK\n"); i >= 0 && i > j {
		t.Errorf("INFO printed after OK:\n%s", out)
	}
}

func TestDoctorCannotRun(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"ftp://example.test/x"},
		{"not a url"},
		{"http://127.0.0.1:1/", "--resolve", "nonsense"},
		{"--timeout", "soon", "http://127.0.0.1:1/"},
		{"http://a.test/", "http://b.test/"},
		{"http://127.0.0.1:1/", "--check", "no-such-check"},
	} {
		if code, _, _ := runDoctor(t, args...); code != ExitUsage {
			t.Errorf("doctor %q: exit %d, want %d", args, code, ExitUsage)
		}
	}
}
