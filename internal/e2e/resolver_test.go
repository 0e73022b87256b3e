package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-cdn/strata/internal/resolve/dnstest"
)

// TestOriginDNSResolver_C01: the node resolves its origin's name through
// edge.resolver.nameservers and caches the answer for its TTL; when the
// name moves to another address, a reload (the configuration unchanged)
// re-resolves it at once, and GET /edge/egress shows the new answer.
func TestOriginDNSResolver_C01(t *testing.T) {
	// Two origins on one port: 127.0.0.1 says "one", 127.0.0.2 "two".
	var port int
	for range 20 {
		l1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l1.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.2", strconv.Itoa(port)))
		if err != nil {
			l1.Close()
			continue
		}
		for _, o := range []struct {
			l    net.Listener
			name string
		}{{l1, "one"}, {l2, "two"}} {
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "no-store")
				io.WriteString(w, o.name)
			})}
			go srv.Serve(o.l)
			t.Cleanup(func() { srv.Close() })
		}
		break
	}
	dns := dnstest.Start(t)
	dns.Set("origin.e2e.test", 300, "127.0.0.1")
	const host = "dns.e2e.test"
	n := startNode(t, nodeConfig{
		edgeextra: fmt.Sprintf("  resolver:\n    nameservers: [%q]\n    max_ttl: 10m\n", dns.Addr),
		extra:     fmt.Sprintf("domains:\n  - {host: %s, origin: \"http://origin.e2e.test:%d\"}\n", host, port),
	})
	get := func() string {
		t.Helper()
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
	if got := get(); got != "one" {
		t.Fatalf("GET: %q, want one (origin.e2e.test -> 127.0.0.1)", got)
	}
	dns.Set("origin.e2e.test", 300, "127.0.0.2")
	if got := get(); got != "one" {
		t.Errorf("GET within the TTL: %q, want one (the answer is cached for 300s)", got)
	}
	resp, err := http.Post(n.Admin+"/edge/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /edge/reload: %d", resp.StatusCode)
	}
	if got := get(); got != "two" {
		t.Errorf("GET after the reload: %q, want two (the name re-resolved)", got)
	}
	resp, err = http.Get(n.Admin + "/edge/egress")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eg struct {
		Upstreams []struct {
			Upstream string `json:"upstream"`
			DNS      *struct {
				Addresses []string `json:"addresses"`
				TTL       int64    `json:"ttl"`
			} `json:"dns"`
		} `json:"upstreams"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&eg); err != nil {
		t.Fatal(err)
	}
	if len(eg.Upstreams) != 1 || eg.Upstreams[0].DNS == nil || strings.Join(eg.Upstreams[0].DNS.Addresses, ",") != "127.0.0.2" || eg.Upstreams[0].DNS.TTL != 300 {
		t.Errorf("egress %+v; want origin.e2e.test resolved to 127.0.0.2, ttl 300", eg)
	}
	if !strings.Contains(n.logText(), "resolve: answer changed") {
		t.Errorf("the log does not report the changed answer")
	}
}
