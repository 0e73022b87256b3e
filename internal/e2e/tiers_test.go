package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTiersL1TwoL2Origin_C18: L1 fetches through two L2 binaries; the
// origin's WAF has blacklisted one of them, which answers 504. The client
// still gets 200, and X-Strata-Trace shows both attempts; L1 logs the failed
// one and lists the address it fetches from on GET /edge/egress.
func TestTiersL1TwoL2Origin_C18(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "origin "+r.URL.Path)
	}))
	defer origin.Close()
	waf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "blocked", http.StatusGatewayTimeout)
	}))
	defer waf.Close()
	const host = "cdn.e2e.test"
	dom := func(o string) string {
		return fmt.Sprintf("domains:\n  - {host: %s, origin: %q, range: \"off\"}\n", host, o)
	}
	l2a := startNode(t, nodeConfig{nodeID: "l2-a", extra: dom(waf.URL)})
	l2b := startNode(t, nodeConfig{nodeID: "l2-b", extra: dom(origin.URL)})
	l1 := startNode(t, nodeConfig{nodeID: "l1", extra: dom(origin.URL),
		edgeextra: fmt.Sprintf("  parents: [%q, %q]\n", l2a.Edge, l2b.Edge)})
	aHost := strings.TrimPrefix(l2a.Edge, "http://")
	bHost := strings.TrimPrefix(l2b.Edge, "http://")

	get := func(path string) (*http.Response, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", l1.Edge+path, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// Each path goes first to the parent its hash picks; find one that
	// picks the blacklisted L2 (half of them do).
	found := false
	for i := 0; i < 40 && !found; i++ {
		path := fmt.Sprintf("/f/%d", i)
		resp, body := get(path)
		if resp.StatusCode != 200 || body != "origin "+path {
			t.Fatalf("GET %s: %d %q; want 200 from the origin", path, resp.StatusCode, body)
		}
		tr := strings.Join(resp.Header.Values("X-Strata-Trace"), ", ")
		if strings.HasPrefix(tr, "l1: parent="+aHost+" 504 ") {
			found = true
			if !strings.Contains(tr, "; parent="+bHost+" 200 ") || !strings.Contains(tr, "l2-b: origin=") {
				t.Errorf("trace %q; want l2-a's 504, then l2-b's 200 and l2-b's own origin fetch", tr)
			}
		}
	}
	if !found {
		t.Fatal("no request went to the blacklisted L2 first")
	}
	if len(l1.logLines("edge: upstream attempt failed")) == 0 {
		t.Errorf("L1 did not log the failed attempt; log:\n%s", l1.logText())
	}
	resp, body := httpGet(t, l1.Admin+"/edge/egress")
	var eg struct {
		Addresses []string `json:"addresses"`
		Upstreams []struct {
			Kind     string `json:"kind"`
			Upstream string `json:"upstream"`
		} `json:"upstreams"`
	}
	if err := json.Unmarshal([]byte(body), &eg); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /edge/egress: %d %q %v", resp.StatusCode, body, err)
	}
	if len(eg.Addresses) != 1 || eg.Addresses[0] != "127.0.0.1" {
		t.Errorf("egress addresses %v, want [127.0.0.1]", eg.Addresses)
	}
	kinds := map[string]int{}
	for _, u := range eg.Upstreams {
		kinds[u.Kind]++
	}
	if kinds["parent"] != 2 || kinds["origin"] != 1 {
		t.Errorf("egress upstreams %+v; want two parents and the origin", eg.Upstreams)
	}
}

// TestReloadOriginChange_C01: a changed origin in the configuration file
// takes effect on the next request after POST /edge/reload, and after
// SIGHUP; an invalid file changes nothing.
func TestReloadOriginChange_C01(t *testing.T) {
	mk := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, name)
		}))
		t.Cleanup(s.Close)
		return s
	}
	o1, o2, o3 := mk("one"), mk("two"), mk("three")
	const host = "reload.e2e.test"
	dom := func(o string) string { return fmt.Sprintf("domains:\n  - {host: %s, origin: %q}\n", host, o) }
	n := startNode(t, nodeConfig{nodeID: "l1", extra: dom(o1.URL)})
	base, err := os.ReadFile(n.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(o string) {
		cfg := strings.Replace(string(base), dom(o1.URL), dom(o), 1)
		if err := os.WriteFile(n.cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	get := func() string {
		req, _ := http.NewRequest("GET", n.Edge+"/x", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	reload := func() (int, string) {
		resp, err := http.Post(n.Admin+"/edge/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if got := get(); got != "one" {
		t.Fatalf("before reload: %q, want one", got)
	}
	rewrite(o2.URL)
	if code, body := reload(); code != 200 || !strings.Contains(body, `"reloaded":true`) {
		t.Fatalf("POST /edge/reload: %d %s", code, body)
	}
	if got := get(); got != "two" {
		t.Errorf("after reload: %q, want two", got)
	}
	// An invalid file is refused and the edge keeps its domains.
	if err := os.WriteFile(n.cfgPath, []byte(string(base)+"bogus_key: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := reload(); code != http.StatusUnprocessableEntity {
		t.Errorf("reload of an invalid file: %d %s, want 422", code, body)
	}
	if got := get(); got != "two" {
		t.Errorf("after a refused reload: %q, want two", got)
	}
	// SIGHUP reloads too.
	rewrite(o3.URL)
	n.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(20 * time.Second)
	for len(n.logLines("edge domains reloaded")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no reload logged within 20s of SIGHUP; log:\n%s", n.logText())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := get(); got != "three" {
		t.Errorf("after SIGHUP: %q, want three", got)
	}
}
