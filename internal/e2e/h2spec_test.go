package e2e

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// h2specModule is the HTTP/2 conformance tester run against the edge's
// HTTPS listener, pinned (conformance/h2spec.sh installs the same). Tagged
// versions are not served by the module proxy; this pseudo-version is the
// v2.6.0 source.
const h2specModule = "github.com/summerwind/h2spec/cmd/h2spec@v0.0.0-20200804131034-70ac22940108"

// h2specKnownFailures are the h2spec tests Strata's HTTPS listener fails,
// each because of what Go's net/http HTTP/2 server does, which Strata
// cannot change (docs/conformance.md explains each). Any other failure
// fails TestH2spec.
var h2specKnownFailures = map[string]string{
	// Go hangs up (GOAWAY PROTOCOL_ERROR, "settings_big_or_dups") on a
	// SETTINGS frame that names a setting twice, a hardening not in RFC
	// 9113 §6.5; h2spec sends INITIAL_WINDOW_SIZE twice in one frame.
	"http2/6.5.3/1": "Go closes the connection on duplicate settings in one SETTINGS frame",
	// A request with a connection-specific field (Connection) or TE other
	// than "trailers" is malformed (RFC 9113 §8.2.2); Go answers it with
	// 400 Bad Request and ends the stream, which §8.1.1 allows ("a server
	// MAY send an HTTP response prior to closing or resetting the
	// stream"); h2spec wants RST_STREAM PROTOCOL_ERROR. The edge's handler
	// never sees the request.
	"http2/8.1.2.2/1": "Go answers 400 instead of RST_STREAM for a connection-specific header field",
	"http2/8.1.2.2/2": `Go answers 400 instead of RST_STREAM for TE other than "trailers"`,
}

// h2specReport is the part of h2spec's JUnit report read here.
type h2specReport struct {
	Suites []struct {
		Package string `xml:"package,attr"`
		Cases   []struct {
			Desc    string    `xml:"classname,attr"`
			Failure *struct{} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
			Error   *struct{} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// installH2spec builds h2spec into a temporary GOBIN (from the module
// cache after the first time) and returns its path. Without a module proxy
// to fetch it from, the test is skipped; any other failure fails it.
func installH2spec(t *testing.T) string {
	t.Helper()
	gobin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", h2specModule)
	// Outside this module, so that its go.mod plays no part.
	cmd.Dir = gobin
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := string(out)
		for _, offline := range []string{"dial tcp", "no such host", "connection refused", "network is unreachable",
			"i/o timeout", "TLS handshake timeout", "proxyconnect", "GOPROXY=off", "module lookup disabled", "server misbehaving"} {
			if strings.Contains(msg, offline) {
				t.Skipf("go install %s: no module proxy reachable: %v\n%s", h2specModule, err, msg)
			}
		}
		t.Fatalf("go install %s: %v\n%s", h2specModule, err, msg)
	}
	return filepath.Join(gobin, "h2spec")
}

// TestH2spec: h2spec's HTTP/2 conformance tests (RFC 7540, RFC 7541) run
// against the edge's HTTPS listener of the real binary, fronting an origin
// that answers every request; every test passes but the known failures of
// Go's HTTP/2 server listed in h2specKnownFailures.
func TestH2spec(t *testing.T) {
	h2spec := installH2spec(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello from the origin, over HTTP/2 at the edge\n")
	}))
	t.Cleanup(origin.Close)
	p := newE2EPKI(t)
	certFile, keyFile, _ := p.leafFiles(t, "h2spec.example.test", "", p.inter)
	n := startNode(t, nodeConfig{
		edgeextra: fmt.Sprintf("  tls_listen: 127.0.0.1:0\n  tls_roots: %s\n", p.rootFile),
		extra:     fmt.Sprintf("domains:\n  - host: \"*\"\n    origin: %s\n    tls: {cert: %s, key: %s}\n", origin.URL, certFile, keyFile),
	})
	host, port, err := net.SplitHostPort(strings.TrimPrefix(n.EdgeTLS, "https://"))
	if err != nil || n.EdgeTLS == "" {
		t.Fatalf("no HTTPS listener in the start-up log (%v):\n%s", err, n.logText())
	}

	report := filepath.Join(t.TempDir(), "h2spec.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// -t: TLS; -k: the certificate is not verified (h2spec cannot be given
	// a private root); -o: seconds to wait for each expected frame.
	cmd := exec.CommandContext(ctx, h2spec, "-t", "-k", "-h", host, "-p", port, "-o", "3", "-j", report)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("h2spec ran for %s", time.Since(start).Round(time.Millisecond))
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("h2spec wrote no report (%v): %v\n%s", runErr, err, out.String())
	}
	var rep h2specReport
	if err := xml.Unmarshal(b, &rep); err != nil {
		t.Fatalf("h2spec report: %v", err)
	}
	var total, passed int
	var failed, skipped []string
	for _, s := range rep.Suites {
		for i, c := range s.Cases {
			// h2spec's own test IDs: the section's package, then the
			// case's position in it (h2spec accepts them as arguments).
			id := fmt.Sprintf("%s/%d", s.Package, i+1)
			total++
			switch {
			case c.Failure != nil || c.Error != nil:
				failed = append(failed, id)
				if _, known := h2specKnownFailures[id]; !known {
					t.Errorf("h2spec %s failed: %s", id, c.Desc)
				}
			case c.Skipped != nil:
				skipped = append(skipped, id)
			default:
				passed++
			}
		}
	}
	t.Logf("h2spec: %d tests, %d passed, %d skipped, %d failed %v", total, passed, len(skipped), len(failed), failed)
	if total < 140 {
		t.Errorf("h2spec ran %d tests, want its full set (146)", total)
	}
	if len(skipped) > 0 {
		t.Errorf("h2spec skipped %v: the origin's answer must let every test run", skipped)
	}
	for id, why := range h2specKnownFailures {
		if !slices.Contains(failed, id) {
			// A newer Go may fix it: keep the list honest.
			t.Logf("h2spec %s passes now (%s): remove it from h2specKnownFailures and docs/conformance.md", id, why)
		}
	}
	if t.Failed() {
		t.Logf("h2spec output:\n%s", out.String())
	}
}
