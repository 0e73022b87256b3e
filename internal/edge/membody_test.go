package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
)

// TestMemoryHitWrittenWhole checks that an object held in the memory tier,
// and ranges of it, are served byte-exact from the stored bytes
// (membody.go), including bodies and ranges that span several writes.
func TestMemoryHitWrittenWhole(t *testing.T) {
	const size = 600 << 10 // under the store's MemoryEntryMax: in memory
	body := randomBytes(size, 12)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		serveObject(w, r, body, `"mem1"`, "max-age=600")
	})
	e := newEdge(t, o.URL)
	if _, got := e.get("/m"); !bytes.Equal(got, body) {
		t.Fatalf("the fill's response differs from the origin's body")
	}
	e.waitFill()
	if ent, err := e.store.Get("*/m?#v="); err != nil {
		t.Fatalf("stored entry: %v", err)
	} else {
		if _, ok := ent.MemoryBody(); !ok {
			t.Fatalf("the object is not held in memory; the test needs it there")
		}
		ent.Close()
	}
	for _, tc := range []struct {
		rng        string
		start, end int // inclusive end; -1: whole body
	}{
		{"", 0, -1},
		{"bytes=0-0", 0, 0},
		{"bytes=262143-262144", 262143, 262144},
		{"bytes=100-524388", 100, 524388},
		{"bytes=-1", size - 1, size - 1},
		{"bytes=300000-", 300000, size - 1},
	} {
		t.Run(fmt.Sprintf("range %q", tc.rng), func(t *testing.T) {
			var hdr []string
			want, wantStatus := body, http.StatusOK
			if tc.rng != "" {
				hdr = []string{"Range", tc.rng}
				want, wantStatus = body[tc.start:tc.end+1], http.StatusPartialContent
			}
			resp, got := e.get("/m", hdr...)
			if resp.StatusCode != wantStatus || xcache(resp) != "HIT" {
				t.Fatalf("status %d, X-Cache %q; want %d, HIT", resp.StatusCode, xcache(resp), wantStatus)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("body: %d bytes differing from the origin's %d", len(got), len(want))
			}
			if cl := resp.ContentLength; cl != int64(len(want)) {
				t.Errorf("Content-Length %d, want %d", cl, len(want))
			}
			checkEdgeHeaders(t, resp)
		})
	}
}
