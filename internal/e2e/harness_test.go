package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// strataBin is the binary built once by TestMain.
var strataBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strata-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	strataBin = filepath.Join(dir, "strata")
	build := exec.Command("go", "build", "-o", strataBin, "github.com/strata-cdn/strata/cmd/strata")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build strata:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	testAccessKey = "e2e-access"
	testSecretKey = "e2e-secret-key"
)

// node is a running strata serve process.
type node struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	cfgPath string // the configuration file it was started with
	S3      string // base URL of the S3 API
	Admin   string // base URL of the admin API
	Edge    string // base URL of the edge (CDN)
	EdgeTLS string // https://host:port of the edge's HTTPS listener, if any
	Live    string // base URL of live playback (HTTP-FLV, HLS)
	RTMP    string // rtmp://host:port of RTMP ingest

	mu    sync.Mutex
	lines []map[string]any // every JSON log line so far
	waitc chan error       // receives cmd.Wait's result once
	exitc chan struct{}    // closed when the process has exited
	err   error            // cmd.Wait's result, valid after exitc closes
}

// nodeConfig is the YAML configuration a test node starts with, on top of
// loopback listeners on free ports and JSON logs.
type nodeConfig struct {
	dataDir string // reuse a data directory (restart); new temp dir if empty
	extra   string // more YAML at the top level
	s3extra string // more YAML under s3:, indented by two spaces
	// liveextra is more YAML under live:, indented by two spaces.
	liveextra string
	// edgeextra is more YAML under edge:, indented by two spaces (e.g.
	// "  tls_listen: 127.0.0.1:0\n").
	edgeextra string
	// liveListen is live.http_listen; 127.0.0.1:0 if empty.
	liveListen string
	env        []string
	// wildcard makes the S3 API listen on every address (":0") instead of
	// loopback only.
	wildcard bool
	// nodeID is node_id; "e2e-node" if empty (nodes of one tier chain need
	// distinct IDs, or loop detection refuses their requests).
	nodeID string
}

// startNode starts strata serve and waits until it logs that it is ready.
func startNode(t *testing.T, nc nodeConfig) *node {
	t.Helper()
	if nc.dataDir == "" {
		nc.dataDir = t.TempDir()
	}
	cfgPath := filepath.Join(t.TempDir(), "strata.yaml")
	s3Listen := "127.0.0.1:0"
	liveListen := nc.liveListen
	if liveListen == "" {
		liveListen = "127.0.0.1:0"
	}
	if nc.wildcard {
		s3Listen = ":0"
	}
	if nc.nodeID == "" {
		nc.nodeID = "e2e-node"
	}
	cfg := fmt.Sprintf("node_id: %s\ndata_dir: %s\nlog: {level: debug, format: json}\ns3:\n  listen: %q\n  min_part_size: 5MiB\n%sadmin:\n  listen: 127.0.0.1:0\nedge:\n  listen: 127.0.0.1:0\n%slive:\n  rtmp_listen: 127.0.0.1:0\n  http_listen: %s\n%s%s", nc.nodeID, nc.dataDir, s3Listen, nc.s3extra, nc.edgeextra, liveListen, nc.liveextra, nc.extra)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(strataBin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "STRATA_ACCESS_KEY="+testAccessKey, "STRATA_SECRET_KEY="+testSecretKey)
	cmd.Env = append(cmd.Env, nc.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, cmd: cmd, dataDir: nc.dataDir, cfgPath: cfgPath, exitc: make(chan struct{})}
	ready := make(chan struct{})
	go n.readLog(stderr, ready)
	t.Cleanup(func() {
		n.cmd.Process.Kill()
		<-n.exitc
	})
	select {
	case <-ready:
	case <-n.exitc:
		t.Fatalf("strata exited before it was ready: %v\nlog:\n%s", n.err, n.logText())
	case <-time.After(60 * time.Second):
		t.Fatalf("strata not ready after 60s; log:\n%s", n.logText())
	}
	for _, l := range n.logLines("listening") {
		addr, _ := l["addr"].(string)
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("listening line has addr %q: %v", addr, err)
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		url := "http://" + net.JoinHostPort(host, port)
		switch l["service"] {
		case "s3":
			n.S3 = url
		case "admin":
			n.Admin = url
		case "edge":
			n.Edge = url
		case "edge-tls":
			n.EdgeTLS = "https://" + net.JoinHostPort(host, port)
		case "live":
			n.Live = url
		case "rtmp":
			n.RTMP = "rtmp://" + net.JoinHostPort(host, port)
		}
	}
	if n.S3 == "" || n.Admin == "" || n.Edge == "" {
		t.Fatalf("start-up log does not say where s3, admin and edge listen:\n%s", n.logText())
	}
	return n
}

// readLog collects the process's JSON log lines until it exits.
func (n *node) readLog(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	once := sync.Once{}
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			m = map[string]any{"msg": "(not json) " + sc.Text()}
		}
		n.mu.Lock()
		n.lines = append(n.lines, m)
		n.mu.Unlock()
		if m["msg"] == "strata is ready" {
			once.Do(func() { close(ready) })
		}
	}
	n.err = n.cmd.Wait()
	close(n.exitc)
}

// logLines returns the log lines whose msg starts with prefix.
func (n *node) logLines(prefix string) []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []map[string]any
	for _, l := range n.lines {
		if msg, _ := l["msg"].(string); strings.HasPrefix(msg, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func (n *node) logText() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var b strings.Builder
	for _, l := range n.lines {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// stop sends SIGTERM and waits for the exit status.
func (n *node) stop() error {
	n.t.Helper()
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exitc:
		return n.err
	case <-time.After(60 * time.Second):
		n.t.Fatalf("strata did not exit within 60s of SIGTERM; log:\n%s", n.logText())
		return nil
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (n *node) kill() {
	n.cmd.Process.Kill()
	<-n.exitc
}

func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
