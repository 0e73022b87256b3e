package admin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMount: a mounted handler serves its subtree beside the built-in
// routes, on a real listener.
func TestMount(t *testing.T) {
	h := &Handler{NodeID: "n1"}
	h.Mount("/edge/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "edge:"+r.URL.Path)
	}))
	h.SetReady()
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range []struct{ path, want string }{
		{"/edge/tasks/x", "edge:/edge/tasks/x"},
		{"/healthz", "ok\n"},
	} {
		resp, err := srv.Client().Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != c.want || resp.Header.Get("Server") != "Strata/n1" {
			t.Errorf("GET %s: %d %q (Server %q), want 200 %q", c.path, resp.StatusCode, b, resp.Header.Get("Server"), c.want)
		}
	}
}
