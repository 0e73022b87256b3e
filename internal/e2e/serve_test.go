package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The node starts, says where it listens (C20), answers /healthz and
// /metrics, names itself on every response (C25), and stops cleanly on
// SIGTERM.
func TestServeStartsAndStops_C20(t *testing.T) {
	n := startNode(t, nodeConfig{})
	resp, body := httpGet(t, n.Admin+"/healthz")
	if resp.StatusCode != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz = %d %q, want 200 ok", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Server"); got != "Strata/e2e-node" {
		t.Errorf("admin Server header = %q, want Strata/e2e-node", got)
	}
	resp, _ = httpGet(t, n.S3+"/no-such-bucket/key")
	if resp.StatusCode != 403 && resp.StatusCode != 404 {
		t.Errorf("anonymous GET of a missing bucket = %d, want 403 or 404", resp.StatusCode)
	}
	if got := resp.Header.Get("Server"); got != "Strata/e2e-node" {
		t.Errorf("S3 Server header = %q, want Strata/e2e-node (C25)", got)
	}
	if resp.Header.Get("X-Amz-Request-Id") == "" {
		t.Error("S3 response has no x-amz-request-id")
	}
	_, metrics := httpGet(t, n.Admin+"/metrics")
	for _, want := range []string{`strata_http_requests_total{code="`, `listener="s3"`, "strata_build_info", "go_goroutines"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := n.stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; log:\n%s", err, n.logText())
	}
	if len(n.logLines("stopped")) != 1 {
		t.Errorf("log does not end with \"stopped\":\n%s", n.logText())
	}
}

// Listening on every address logs each address the node can be reached at,
// so an operator sees whether the address clients use is among them (C20).
func TestServeLogsEveryReachableAddress_C20(t *testing.T) {
	n2 := startNode(t, nodeConfig{wildcard: true})
	lines := n2.logLines("listening on every address")
	if len(lines) != 1 {
		t.Fatalf("want one \"listening on every address\" line, log:\n%s", n2.logText())
	}
	reach, _ := lines[0]["reach"].(string)
	if !strings.Contains(reach, "http://127.0.0.1:") {
		t.Errorf("reach = %q, want it to include the loopback address", reach)
	}
}

// Without credentials in the environment the node uses the default pair and
// warns at start.
func TestServeWarnsAboutDefaultCredentials(t *testing.T) {
	n := startNode(t, nodeConfig{env: []string{"STRATA_ACCESS_KEY=", "STRATA_SECRET_KEY="}})
	w := n.logLines("STRATA_ACCESS_KEY and STRATA_SECRET_KEY are unset")
	if len(w) != 1 || w[0]["level"] != "WARN" {
		t.Fatalf("want one WARN about default credentials; log:\n%s", n.logText())
	}
}

// A bad configuration file stops the start with exit status 2 and every
// problem named by key path.
func TestServeRejectsBadConfig(t *testing.T) {
	path := t.TempDir() + "/bad.yaml"
	writeFile(t, path, "s3:\n  listne: \":9000\"\n  send_timeout: soon\nadmin: {listen: nowhere}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, strataBin, "serve", "--config", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want status 2; stderr:\n%s", err, stderr.String())
	}
	for _, want := range []string{"3 problems", "s3.listne", `did you mean "listen"`, "s3.send_timeout", "admin.listen"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
