package logs

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseNginx(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Record
	}{
		{
			name: "combined",
			line: `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08"`,
			want: Record{Kind: KindRequest, Time: time.Date(2000, 10, 10, 20, 55, 36, 0, time.UTC), Client: "192.0.2.1", Method: "GET", URI: "/apache_pb.gif", Status: 200, BytesSent: 2326, DurationMS: -1},
		},
		{
			name: "cache status and upstream lists",
			line: `192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET /v.ts HTTP/1.1" 200 10 "-" "p/1" "MISS" host=V.test rt=3.050 ua="10.8.0.2:8080, 10.8.0.3:8080" us="504, 200" uht="3.000, 0.040"`,
			want: Record{Kind: KindRequest, Time: time.Date(2000, 10, 10, 13, 55, 36, 0, time.UTC), Client: "192.0.2.1", Method: "GET", Host: "v.test", URI: "/v.ts", Status: 200, BytesSent: 10, Cache: "MISS", DurationMS: 3050,
				Upstream: []Attempt{{Addr: "10.8.0.2:8080", Status: 504, MS: 3000}, {Addr: "10.8.0.3:8080", Status: 200, MS: 40}}},
		},
		{
			name: "unquoted lists and internal redirect",
			line: `192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 502 0 "-" "-" ucs=- ua=10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80 us=502, 502 : 502`,
			want: Record{Kind: KindRequest, Time: time.Date(2000, 10, 10, 13, 55, 36, 0, time.UTC), Client: "192.0.2.1", Method: "GET", URI: "/", Status: 502, DurationMS: -1,
				Upstream: []Attempt{{Addr: "10.0.0.1:80", Status: 502, MS: -1}, {Addr: "10.0.0.2:80", Status: 502, MS: -1}, {Addr: "10.0.0.3:80", Status: 502, MS: -1}}},
		},
		{
			name: "TLS bytes on a plain port",
			line: `192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "\x16\x03\x01\x02\x00\x01\x00" 400 157 "-" "-"`,
			want: Record{Kind: KindRequest, Time: time.Date(2000, 10, 10, 13, 55, 36, 0, time.UTC), Client: "192.0.2.1", URI: `\x16\x03\x01\x02\x00\x01\x00`, Status: 400, BytesSent: 157, DurationMS: -1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Record
			if err := ParseNginx([]byte(tt.line), &got); err != nil {
				t.Fatal(err)
			}
			got.Time = got.Time.UTC()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseNginx (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "x", `1.2.3.4 - - [nope] "GET / HTTP/1.1" 200 1`, `1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 2000 1`} {
		var r Record
		if err := ParseNginx([]byte(bad), &r); err == nil {
			t.Errorf("ParseNginx(%q) = nil error", bad)
		}
	}
}

func TestParseStrata(t *testing.T) {
	line := `{"time":"2026-01-01T00:00:00.123Z","kind":"request","node":"n1","request_id":"r1","client":"[::1]:5","method":"GET","host":"A.test","uri":"/x","proto":"HTTP/1.1","status":206,"range":"bytes=0-1","bytes_sent":2,"bytes_origin":100,"cache":"MISS reason=not-cached collapsed","upstream":[{"addr":"o:80","status":200,"ms":1.5}],"duration_ms":3,"ttfb_ms":1}`
	want := Record{Kind: KindRequest, Time: time.Date(2026, 1, 1, 0, 0, 0, 123e6, time.UTC), Node: "n1", Client: "::1", Method: "GET", Host: "a.test", URI: "/x", Status: 206, Range: "bytes=0-1",
		BytesSent: 2, BytesOrigin: 100, OriginKnown: true, Cache: "MISS", DurationMS: 3, Upstream: []Attempt{{Addr: "o:80", Status: 200, MS: 1.5}}}
	var got Record
	if err := ParseStrata([]byte(line), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseStrata (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{}`, `{"time":"2026-01-01T00:00:00Z","kind":"other"}`, `{"time":"2026-01-01T00:00:00Z","bytes_sent":-1}`, `[1]`} {
		if err := ParseStrata([]byte(bad), &got); err == nil {
			t.Errorf("ParseStrata(%s) = nil error", bad)
		}
	}
}

// The counter keeps the heavy keys when it overflows, and says by how much
// a re-admitted key may be short.
func TestCounterBounded(t *testing.T) {
	c := newCounter[struct{}](8)
	for i := 0; i < 1000; i++ {
		c.add("heavy", 1)
		c.add(string(rune('a'+i%26))+"x", 1)
	}
	if len(c.m) > 8 {
		t.Fatalf("counter holds %d keys, cap 8", len(c.m))
	}
	top := c.top(1)
	if top[0].key != "heavy" || top[0].n+top[0].err < 1000 || top[0].n > 1000 {
		t.Errorf("top = %s n=%d err=%d, want heavy with 1000 within its bound", top[0].key, top[0].n, top[0].err)
	}
}

// The timeline widens its buckets rather than growing past its limit.
func TestTimelineWidens(t *testing.T) {
	a := NewAnalyzer(Options{})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 48*60; i++ {
		a.Add(&Record{Kind: KindRequest, Time: start.Add(time.Duration(i) * time.Minute), Status: 200, Cache: "HIT"})
	}
	r := a.Report()
	if len(r.Timeline) > autoMaxBuckets || time.Duration(r.Bucket) != 15*time.Minute {
		t.Errorf("timeline: %d buckets of %v, want at most %d buckets of 15m", len(r.Timeline), time.Duration(r.Bucket), autoMaxBuckets)
	}
	var sum int64
	for _, b := range r.Timeline {
		sum += b.Requests
	}
	if sum != 48*60 {
		t.Errorf("timeline sums to %d requests, want %d", sum, 48*60)
	}
}

// A 5xx burst survives the timeline widening under it (C18).
func TestBurstAcrossWidening_C18(t *testing.T) {
	a := NewAnalyzer(Options{})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := []Attempt{{Addr: "o:80", Status: 200, MS: 1}}
	for i := 0; i < 3*24*60; i++ { // three days, one request a minute
		a.Add(&Record{Kind: KindRequest, Time: start.Add(time.Duration(i) * time.Minute), Status: 200, Cache: "MISS", OriginKnown: true, Upstream: ok})
	}
	burst := start.Add(30 * time.Hour)
	for i := 0; i < 40; i++ {
		a.Add(&Record{Kind: KindRequest, Time: burst.Add(time.Duration(i) * time.Second), Status: 502, Cache: "MISS", OriginKnown: true,
			Upstream: []Attempt{{Addr: "p2:8080", Status: 502, MS: 5}}})
	}
	r := a.Report()
	var got []string
	for _, p := range r.Patterns {
		if p.Kind == Pattern5xxBurst {
			got = append(got, p.Subject)
			if p.Evidence["failed"] != int64(40) || p.From.After(burst) || !p.To.After(burst) {
				t.Errorf("burst %v to %v, evidence %v; want 40 failures around %v", p.From, p.To, p.Evidence, burst)
			}
		}
	}
	if diff := cmp.Diff([]string{"p2:8080"}, got); diff != "" {
		t.Errorf("bursts (-want +got):\n%s (bucket %v)", diff, time.Duration(r.Bucket))
	}
}
