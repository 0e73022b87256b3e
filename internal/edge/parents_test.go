package edge

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const tierHost = "cdn.example"

// withNode names the edge's node (each tier needs its own, or loop
// detection refuses the request).
func withNode(id string) edgeOption { return func(h *Handler) { h.NodeID = id } }

func withHost(host string) edgeOption {
	return withDomain(func(d *Domain) { d.Host = host })
}

func withParents(t *testing.T, urls ...string) edgeOption {
	return func(h *Handler) {
		for _, s := range urls {
			h.Parents = append(h.Parents, mustURL(t, s))
		}
	}
}

// deadURL returns the URL of a port on which nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// uncachedOrigin answers every GET with its path, uncacheable, so that each
// request through the tiers is a fetch.
func uncachedOrigin(t *testing.T) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "body of "+r.URL.Path)
	})
}

// pathFor returns a path whose first choice among parents is want.
func pathFor(t *testing.T, want string, parents ...string) string {
	t.Helper()
	for i := 0; i < 1000; i++ {
		p := fmt.Sprintf("/obj-%d", i)
		d := &Domain{Host: tierHost}
		key := primaryKey(d, &url.URL{Path: p})
		best, bestScore := "", uint64(0)
		for _, par := range parents {
			if s := hrw(key, mustURL(t, par).Host); best == "" || s > bestScore {
				best, bestScore = par, s
			}
		}
		if best == want {
			return p
		}
	}
	t.Fatalf("no path prefers %s", want)
	return ""
}

func traceOf(resp *http.Response) string { return strings.Join(resp.Header.Values(TraceHeader), ", ") }

// firstParent returns the parent the trace's first attempt went to.
func firstParent(trace string) string {
	_, rest, _ := strings.Cut(trace, "parent=")
	name, _, _ := strings.Cut(rest, " ")
	return name
}

func TestParentsConsistentChoice_C18(t *testing.T) {
	o := uncachedOrigin(t)
	a := newEdge(t, o.URL, withNode("l2-a"), withHost(tierHost))
	b := newEdge(t, o.URL, withNode("l2-b"), withHost(tierHost))
	l1 := newEdge(t, o.URL, withNode("l1"), withHost(tierHost), withParents(t, a.srv.URL, b.srv.URL))
	used := map[string]int{}
	for i := 0; i < 16; i++ {
		path := fmt.Sprintf("/c/%d", i)
		var first string
		for round := 0; round < 3; round++ {
			resp, body := l1.get(path, "Host", tierHost)
			if resp.StatusCode != 200 || string(body) != "body of "+path {
				t.Fatalf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, body, "body of "+path)
			}
			tr := traceOf(resp)
			p := firstParent(tr)
			if round == 0 {
				first = p
				used[p]++
			} else if p != first {
				t.Errorf("GET %s round %d went to parent %s, first to %s (trace %q)", path, round, p, first, tr)
			}
			if !strings.HasPrefix(tr, "l1: parent=") || !strings.Contains(tr, " 200 ") {
				t.Errorf("GET %s: trace %q, want l1's attempt then the parent's", path, tr)
			}
		}
	}
	if len(used) != 2 {
		t.Errorf("parents used %v; want both (keys spread by hash)", used)
	}
	// The parents saw the client's Host and this node in Via; the origin
	// saw both tiers.
	for _, r := range o.requests() {
		via := strings.Join(r.Header.Values("Via"), ", ")
		if !strings.Contains(via, " l1") || !strings.Contains(via, " l2-") {
			t.Errorf("origin saw Via %q; want l1 and an l2", via)
		}
	}
}

func TestParentRetryOn504_C18(t *testing.T) {
	o := uncachedOrigin(t)
	// The origin's WAF has blacklisted l2-a: everything it fetches gets 504.
	waf := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "blocked by WAF", http.StatusGatewayTimeout)
	})
	a := newEdge(t, waf.URL, withNode("l2-a"), withHost(tierHost))
	b := newEdge(t, o.URL, withNode("l2-b"), withHost(tierHost))
	l1 := newEdge(t, o.URL, withNode("l1"), withHost(tierHost), withParents(t, a.srv.URL, b.srv.URL))
	path := pathFor(t, a.srv.URL, a.srv.URL, b.srv.URL)
	resp, body := l1.get(path, "Host", tierHost)
	if resp.StatusCode != 200 || string(body) != "body of "+path {
		t.Fatalf("GET %s: %d %q; want 200 from the second parent", path, resp.StatusCode, body)
	}
	tr := traceOf(resp)
	ah, bh := mustURL(t, a.srv.URL).Host, mustURL(t, b.srv.URL).Host
	want := "l1: parent=" + ah + " 504 "
	if !strings.HasPrefix(tr, want) || !strings.Contains(tr, "; parent="+bh+" 200 ") {
		t.Errorf("trace %q; want %q… then parent=%s 200", tr, want, bh)
	}
	if !strings.Contains(tr, "l2-b: origin=") {
		t.Errorf("trace %q; want l2-b's own origin attempt appended", tr)
	}
	if waf.gets.Load() != 1 {
		t.Errorf("blacklisted path fetched %d times, want 1", waf.gets.Load())
	}
}

func TestParentDeadRetry_C18(t *testing.T) {
	o := uncachedOrigin(t)
	dead := deadURL(t)
	b := newEdge(t, o.URL, withNode("l2-b"), withHost(tierHost))
	l1 := newEdge(t, o.URL, withNode("l1"), withHost(tierHost), withParents(t, dead, b.srv.URL))
	path := pathFor(t, dead, dead, b.srv.URL)
	resp, _ := l1.get(path, "Host", tierHost)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d; want 200 from the live parent", path, resp.StatusCode)
	}
	tr := traceOf(resp)
	if want := "l1: parent=" + mustURL(t, dead).Host + " error "; !strings.HasPrefix(tr, want) {
		t.Errorf("trace %q; want prefix %q", tr, want)
	}
}

func TestParentHealthScoring_C18(t *testing.T) {
	o := uncachedOrigin(t)
	dead := deadURL(t)
	b := newEdge(t, o.URL, withNode("l2-b"), withHost(tierHost))
	l1 := newEdge(t, o.URL, withNode("l1"), withHost(tierHost), withParents(t, dead, b.srv.URL),
		func(h *Handler) { h.UpstreamFailLimit = 2 })
	path := pathFor(t, dead, dead, b.srv.URL)
	deadHost := mustURL(t, dead).Host
	for i, wantDeadTried := range []bool{true, true, false, false} {
		resp, _ := l1.get(path, "Host", tierHost)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d, want 200", i, resp.StatusCode)
		}
		tr := traceOf(resp)
		if got := strings.Contains(tr, "parent="+deadHost); got != wantDeadTried {
			t.Errorf("request %d: dead parent tried = %v, want %v (trace %q)", i, got, wantDeadTried, tr)
		}
	}
	eg := l1.h.Egress()
	var down bool
	for _, u := range eg.Upstreams {
		if u.Upstream == deadHost {
			down = u.Down
		}
	}
	if !down {
		t.Errorf("egress report %+v: want the dead parent marked down", eg.Upstreams)
	}
}

func TestParentsAllDown_C18(t *testing.T) {
	o := uncachedOrigin(t)
	d1, d2 := deadURL(t), deadURL(t)
	tests := []struct {
		name     string
		fallback bool
		want     int
	}{
		{"no fallback: the failure is the answer", false, http.StatusBadGateway},
		{"fallback to the origin", true, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l1 := newEdge(t, o.URL, withNode("l1"), withHost(tierHost), withParents(t, d1, d2),
				func(h *Handler) { h.ParentsFallbackOrigin = tc.fallback })
			resp, body := l1.get("/x", "Host", tierHost)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.want)
			}
			if tc.fallback {
				if tr := traceOf(resp); strings.Count(tr, "parent=") != 2 || !strings.Contains(tr, "origin="+mustURL(t, o.URL).Host+" 200") {
					t.Errorf("trace %q; want both parents then the origin", tr)
				}
			} else if !strings.Contains(string(body), "every upstream failed") {
				t.Errorf("body %q; want the attempts listed", body)
			}
		})
	}
}

func TestEgressLists_C18(t *testing.T) {
	o := uncachedOrigin(t)
	l1 := newEdge(t, o.URL, withNode("l1"), withHost(tierHost))
	if resp, _ := l1.get("/e", "Host", tierHost); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	srv := httptest.NewServer(l1.h.EgressHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/edge/egress")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eg Egress
	if err := json.NewDecoder(resp.Body).Decode(&eg); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || eg.Node != "l1" {
		t.Fatalf("GET /edge/egress: %d node %q", resp.StatusCode, eg.Node)
	}
	if len(eg.Addresses) != 1 || eg.Addresses[0] != "127.0.0.1" {
		t.Errorf("addresses %v, want [127.0.0.1]", eg.Addresses)
	}
	if len(eg.Upstreams) != 1 || eg.Upstreams[0].Upstream != mustURL(t, o.URL).Host || eg.Upstreams[0].Kind != "origin" ||
		len(eg.Upstreams[0].LocalAddresses) != 1 {
		t.Errorf("upstreams %+v; want the origin with its local address", eg.Upstreams)
	}
}

func TestOriginsFailover_C18(t *testing.T) {
	good := uncachedOrigin(t)
	dead := deadURL(t)
	e := newEdge(t, dead, withNode("l1"), withHost(tierHost),
		withDomain(func(d *Domain) { d.Origins = []*url.URL{mustURL(t, good.URL)} }))
	resp, body := e.get("/f", "Host", tierHost)
	if resp.StatusCode != 200 || string(body) != "body of /f" {
		t.Fatalf("GET: %d %q; want 200 from the second origin", resp.StatusCode, body)
	}
	want := "l1: origin=" + mustURL(t, dead).Host + " error "
	if tr := traceOf(resp); !strings.HasPrefix(tr, want) || !strings.Contains(tr, "origin="+mustURL(t, good.URL).Host+" 200") {
		t.Errorf("trace %q; want the dead origin then the good one", tr)
	}
}

func TestOriginsHealthCheck_C18(t *testing.T) {
	sick := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "sick "+r.URL.Path)
	})
	good := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "good "+r.URL.Path)
	})
	probes := make(chan string, 16)
	e := newEdge(t, sick.URL, withNode("l1"), withHost(tierHost), withDomain(func(d *Domain) {
		d.Origins = []*url.URL{mustURL(t, good.URL)}
		d.HealthCheck = &HealthCheck{Path: "/healthz", Interval: time.Hour}
	}), func(h *Handler) {
		h.onProbe = func(name string, ok bool) { probes <- fmt.Sprintf("%s %v", name, ok) }
	})
	e.h.init() // starts the probes
	got := map[string]bool{}
	for range 2 {
		select {
		case p := <-probes:
			got[p] = true
		case <-time.After(20 * time.Second):
			t.Fatal("no health check within 20s")
		}
	}
	sickHost, goodHost := mustURL(t, sick.URL).Host, mustURL(t, good.URL).Host
	if want := map[string]bool{sickHost + " false": true, goodHost + " true": true}; !cmp.Equal(got, want) {
		t.Fatalf("probes %v, want %v", got, want)
	}
	resp, body := e.get("/h", "Host", tierHost)
	if resp.StatusCode != 200 || string(body) != "good /h" {
		t.Fatalf("GET: %d %q; want the healthy origin's answer", resp.StatusCode, body)
	}
	if tr, want := traceOf(resp), "l1: origin="+goodHost+" 200 "; !strings.HasPrefix(tr, want) || strings.Contains(tr, sickHost) {
		t.Errorf("trace %q; want only %q…", tr, want)
	}
	if n := sick.gets.Load(); n != 1 {
		t.Errorf("the origin marked down got %d GETs, want 1 (the probe)", n)
	}
}

// The access log lists every attempt of a retried fetch (C18).
func TestParentAttemptsLogged_C18(t *testing.T) {
	o := uncachedOrigin(t)
	dead := deadURL(t)
	b := newEdge(t, o.URL, withNode("l2-b"), withHost(tierHost))
	rec := newRecorder()
	l1 := newEdge(t, o.URL, withNode("l1"), withHost(tierHost), withParents(t, dead, b.srv.URL),
		func(h *Handler) { h.AccessLog = rec.log })
	path := pathFor(t, dead, dead, b.srv.URL)
	if resp, _ := l1.get(path, "Host", tierHost); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := rec.next(t)
	var got []string
	for _, a := range r.Upstream {
		got = append(got, fmt.Sprintf("%s %d %v", a.Addr, a.Status, a.Error != ""))
	}
	want := []string{mustURL(t, dead).Host + " 0 true", mustURL(t, b.srv.URL).Host + " 200 false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("access record upstream attempts (-want +got):\n%s", diff)
	}
}
