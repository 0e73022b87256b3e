package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestUncachedStreamIsRelayedAsItArrives: a response that is not stored
// (no-store, chunked, possibly endless like a live stream) reaches the
// client piece by piece, without waiting for the end.
func TestUncachedStreamIsRelayedAsItArrives(t *testing.T) {
	next := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "video/x-flv")
		for i := 0; i < 3; i++ {
			fmt.Fprintf(w, "tag%d\n", i)
			w.(http.Flusher).Flush()
			<-next
		}
	})
	e := newEdge(t, o.URL)
	resp, err := e.srv.Client().Get(e.srv.URL + "/live/stream.flv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if xcache(resp) != "MISS reason=no-store" {
		t.Errorf("X-Cache %q, want MISS reason=no-store", xcache(resp))
	}
	br := bufio.NewReader(resp.Body)
	for i := 0; i < 3; i++ {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("tag%d\n", i) {
			t.Fatalf("piece %d: %q, %v", i, line, err)
		}
		next <- struct{}{}
	}
}

func TestUncachedRangeServedFromWholeBody(t *testing.T) {
	body := randomBytes(100000, 13)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Range")
		serveObject(w, r, body, `"p"`, "private")
	})
	e := newEdge(t, o.URL)
	resp, got := e.get("/p", "Range", "bytes=5000-5099")
	if resp.StatusCode != 206 || !bytes.Equal(got, body[5000:5100]) || xcache(resp) != "MISS reason=private" {
		t.Errorf("status %d X-Cache %q equal %v; want 206 MISS reason=private and the range", resp.StatusCode, xcache(resp), bytes.Equal(got, body[5000:5100]))
	}
}

func TestParseRangeMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want RangeMode
		ok   bool
	}{{"off", RangeOff, true}, {"On", RangeOn, true}, {" force ", RangeForce, true}, {"slices", RangeOff, false}} {
		got, err := ParseRangeMode(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseRangeMode(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && !strings.EqualFold(strings.TrimSpace(tc.in), got.String()) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}
