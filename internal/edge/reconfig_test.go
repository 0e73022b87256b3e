package edge

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSetDomainsOriginChange_C01: a changed origin takes effect on the next
// request, and the idle connections to the old one are closed at once.
func TestSetDomainsOriginChange_C01(t *testing.T) {
	oldClosed := make(chan struct{}, 16)
	old := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "old")
	}))
	old.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			oldClosed <- struct{}{}
		}
	}
	old.Start()
	t.Cleanup(old.Close)
	next := uncachedOrigin(t)
	e := newEdge(t, old.URL, withNode("l1"), withHost(tierHost))
	if _, body := e.get("/o", "Host", tierHost); string(body) != "old" {
		t.Fatalf("before the change: body %q, want old", body)
	}
	ds := []Domain{{Host: tierHost, Origin: mustURL(t, next.URL)}}
	e.h.SetDomains(ds)
	ds[0].Host = "changed.example" // SetDomains keeps its own copy
	select {
	case <-oldClosed:
	case <-time.After(20 * time.Second):
		t.Fatal("the idle connection to the old origin was not closed")
	}
	resp, body := e.get("/o", "Host", tierHost)
	if resp.StatusCode != 200 || string(body) != "body of /o" {
		t.Fatalf("after the change: %d %q; want the new origin's answer", resp.StatusCode, body)
	}
	eg := e.h.Egress()
	if len(eg.Upstreams) != 1 || eg.Upstreams[0].Upstream != mustURL(t, next.URL).Host {
		t.Errorf("egress upstreams %+v; want only the new origin", eg.Upstreams)
	}
}
