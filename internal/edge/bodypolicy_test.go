package edge

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUploadLimit_C25: an upload over the domain's limit is answered 413
// with a body and headers naming the tier and node, whether its
// Content-Length says so up front or a chunked body grows past the limit
// while streaming; one within the limit streams to the origin.
func TestUploadLimit_C25(t *testing.T) {
	var received atomic.Int64
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		received.Store(n)
		if err != nil {
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	const limit = 1 << 20
	e := newEdge(t, o.URL, withDomain(func(d *Domain) { d.MaxUpload = limit }))
	tests := []struct {
		name     string
		size     int
		chunked  bool
		status   int
		atOrigin bool // the request reached the origin (not checked for a streamed refusal: it races the cut)
	}{
		{"within", limit, false, http.StatusCreated, true},
		{"within-chunked", limit - 10, true, http.StatusCreated, true},
		{"over-length", limit + 1, false, http.StatusRequestEntityTooLarge, false},
		{"over-chunked", 3 * limit, true, http.StatusRequestEntityTooLarge, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(o.requests())
			var body io.Reader = strings.NewReader(strings.Repeat("u", tt.size))
			if tt.chunked {
				body = io.MultiReader(body)
			}
			req, _ := http.NewRequest(http.MethodPut, e.srv.URL+"/bucket/big", body)
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, b, tt.status)
			}
			if got := len(o.requests()) > before; got != tt.atOrigin && !(tt.chunked && tt.status == http.StatusRequestEntityTooLarge) {
				t.Errorf("reached origin = %v, want %v", got, tt.atOrigin)
			}
			if tt.status != http.StatusRequestEntityTooLarge {
				if got := received.Load(); got != int64(tt.size) {
					t.Errorf("origin received %d bytes, want %d", got, tt.size)
				}
				return
			}
			if got := received.Load(); tt.atOrigin && got > limit {
				t.Errorf("origin received %d bytes, want at most the limit %d", got, limit)
			}
			for _, s := range []string{testNode, "edge tier", "1048576", "max_upload", resp.Header.Get("X-Request-Id")} {
				if !strings.Contains(string(b), s) {
					t.Errorf("413 body %q does not name %q", b, s)
				}
			}
			if resp.Header.Get("X-Strata-Node") != testNode || resp.Header.Get("X-Strata-Tier") != "edge" {
				t.Errorf("413 headers: node %q tier %q", resp.Header.Get("X-Strata-Node"), resp.Header.Get("X-Strata-Tier"))
			}
			checkEdgeHeaders(t, resp)
		})
	}
}
