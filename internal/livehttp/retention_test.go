package livehttp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/cachestore"
	"github.com/strata-cdn/strata/internal/edge"
	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/hls"
	"github.com/strata-cdn/strata/internal/live"
)

// fakeClock is a clock the test moves by hand, shared by the origin and
// the edges so retention and freshness are judged on the same time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// waitMux waits until the newest packager of key has a muxer for which
// cond holds; the packager signals every new segment.
func waitMux(t *testing.T, h *Handler, key live.Key, cond func(m *hls.Muxer) bool) {
	t.Helper()
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	for {
		p := h.latest(key)
		if p == nil {
			t.Fatalf("no HLS packager for %s", key)
		}
		p.mu.Lock()
		ok := p.mux != nil && cond(p.mux)
		updated := p.updated
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-updated:
		case <-timeout.C:
			t.Fatalf("HLS packager of %s did not reach the expected state within 20s", key)
		}
	}
}

// coldEdge starts an edge with an empty cache in front of origin.
func coldEdge(t *testing.T, origin string, clk *fakeClock) *httptest.Server {
	t.Helper()
	store, err := cachestore.Open(cachestore.Options{Dir: t.TempDir(), MemoryBytes: 16 << 20, DiskBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(origin)
	if err != nil {
		t.Fatal(err)
	}
	eh := &edge.Handler{
		NodeID:  "edge-test",
		Domains: []edge.Domain{{Host: "*", Origin: u}},
		Cache:   store,
		TempDir: t.TempDir(),
		Now:     clk.Now,
	}
	srv := httptest.NewServer(eh)
	t.Cleanup(func() {
		srv.Close()
		eh.Close()
		store.Close()
	})
	return srv
}

var maxAgeRE = regexp.MustCompile(`(?:^|[ ,])max-age=(\d+)`)

// freshFor is how long a cache may still serve resp: max-age minus Age
// (RFC 9111 §4.2.1, §4.2.3).
func freshFor(t *testing.T, resp *http.Response) time.Duration {
	t.Helper()
	m := maxAgeRE.FindStringSubmatch(resp.Header.Get("Cache-Control"))
	if m == nil {
		t.Fatalf("Cache-Control %q has no max-age", resp.Header.Get("Cache-Control"))
	}
	maxAge, _ := strconv.Atoi(m[1])
	age, _ := strconv.Atoi(resp.Header.Get("Age"))
	return time.Duration(maxAge-age) * time.Second
}

// TestColdEdgeSegmentNearEndOfRetention_C30: segments slide out of the
// playlist; a cold edge in front of the live origin fetching one of them
// near the end of its retention gets 200 with a max-age no longer than
// what is left of the retention, and once the retention is over both that
// edge and a new one get 404. The origin and the edges share a clock the
// test moves, so nothing waits in real time.
func TestColdEdgeSegmentNearEndOfRetention_C30(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: t0}
	hub := &live.Hub{Now: clk.Now}
	h := &Handler{Hub: hub, NodeID: "origin-test", Now: clk.Now,
		HLS: hls.Options{TargetDuration: time.Second, PlaylistSize: 3}}
	h.Start()
	t.Cleanup(h.Close)
	origin := httptest.NewServer(h)
	t.Cleanup(origin.Close)

	key := live.Key{App: "live", Name: "radio"}
	s, err := hub.Publish(key, "127.0.0.1:50000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	md, err := flv.Metadata([]flv.Field{{Name: "audiocodecid", Value: float64(flv.SoundAAC)}})
	if err != nil {
		t.Fatal(err)
	}
	write := func(tag flv.Tag) {
		t.Helper()
		if err := s.WriteTag(tag); err != nil {
			t.Fatalf("WriteTag: %v", err)
		}
	}
	// onMetaData fixes the track set; the packager subscribes after it.
	write(flv.Tag{Type: flv.TagScript, Body: md})
	waitMux(t, h, key, func(*hls.Muxer) bool { return true })
	write(flv.Tag{Type: flv.TagAudio, Body: []byte{0xaf, 0, 0x12, 0x10}})

	// Six seconds of AAC, each second written at its own time: segment k
	// completes at t0+(k+1)s, and segment k leaves the playlist (3
	// segments) when segment k+3 completes, at t0+(k+4)s.
	for sec := 1; sec <= 6; sec++ {
		clk.Set(t0.Add(time.Duration(sec) * time.Second))
		start := (sec - 1) * 1000
		if sec > 1 {
			start += 20
		}
		for ms := start; ms <= sec*1000; ms += 20 {
			write(flv.Tag{Type: flv.TagAudio, Timestamp: uint32(ms), Body: []byte{0xaf, 1, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c}})
		}
		waitMux(t, h, key, func(m *hls.Muxer) bool { return m.Segments() == sec })
	}
	resp, body := get(t, origin.URL+"/live/live/radio.m3u8")
	seg := func(n int) string { return "radio/" + s.ID() + "-" + strconv.Itoa(n) + ".ts" }
	if resp.StatusCode != 200 || strings.Contains(string(body), seg(0)) || !strings.Contains(string(body), seg(3)) {
		t.Fatalf("playlist: %s\n%s\nwant segments 3-5 listed and 0 gone", resp.Status, body)
	}

	// Retention is 2 x 3 x 1s = 6s. Segment 0 left the playlist at t0+4s,
	// so it goes at t0+10s; at t0+8.5s it has 1.5s left.
	clk.Set(t0.Add(8500 * time.Millisecond))
	cases := []struct {
		seg  int
		left time.Duration // retention left at t0+8.5s
	}{
		{0, 1500 * time.Millisecond},
		{2, 3500 * time.Millisecond},
		{5, 6 * time.Second}, // still listed: its whole retention is ahead
	}
	edgeURL := ""
	for _, tc := range cases {
		e := coldEdge(t, origin.URL, clk)
		if tc.seg == 0 {
			edgeURL = e.URL
		}
		resp, data := get(t, e.URL+"/live/live/"+seg(tc.seg))
		if resp.StatusCode != http.StatusOK || len(data) == 0 || data[0] != 0x47 {
			t.Fatalf("cold edge, segment %d at t0+8.5s: %s, %d bytes; want 200 with TS", tc.seg, resp.Status, len(data))
		}
		if xc := resp.Header.Get("X-Cache"); !strings.HasPrefix(xc, "MISS") {
			t.Errorf("segment %d: X-Cache %q; want a MISS from a cold edge", tc.seg, xc)
		}
		fresh := freshFor(t, resp)
		if fresh > tc.left || fresh < tc.left-time.Second {
			t.Errorf("segment %d: Cache-Control %q, Age %q: fresh for %v; want at most the %v of retention left, rounded down",
				tc.seg, resp.Header.Get("Cache-Control"), resp.Header.Get("Age"), fresh, tc.left)
		}
	}

	// Past segment 0's retention the origin has dropped it; the edge that
	// cached it must not serve it, and a new edge gets 404 too.
	clk.Set(t0.Add(10500 * time.Millisecond))
	for name, u := range map[string]string{"the edge that cached it": edgeURL, "a cold edge": coldEdge(t, origin.URL, clk).URL} {
		resp, body := get(t, u+"/live/live/"+seg(0))
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "is not retained") {
			t.Errorf("%s, segment 0 past its retention: %s (X-Cache %q) %q; want 404 saying it is not retained", name, resp.Status, resp.Header.Get("X-Cache"), short(body))
		}
	}
	// The direct answer from the origin says the same.
	resp, err = http.Get(origin.URL + "/live/live/" + seg(0))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("origin, segment 0 past its retention: %s, want 404", resp.Status)
	}
}

// short returns the start of body for a failure message.
func short(body []byte) string {
	if len(body) > 120 {
		return string(body[:120]) + "..."
	}
	return string(body)
}
