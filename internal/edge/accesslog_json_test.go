package edge

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// referenceJSON is the record as encoding/json writes it from its tags,
// time first: what appendAccessRecord must reproduce byte for byte.
func referenceJSON(r *AccessRecord) ([]byte, error) {
	type plain AccessRecord // without MarshalJSON
	return json.Marshal(struct {
		Time string `json:"time"`
		*plain
	}{r.Time.UTC().Format(accessTimeLayout), (*plain)(r)})
}

func checkAccessJSON(t *testing.T, r *AccessRecord) {
	t.Helper()
	want, werr := referenceJSON(r)
	got, gerr := appendAccessRecord(nil, r)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("errors: appendAccessRecord %v, encoding/json %v", gerr, werr)
	}
	if werr != nil {
		return
	}
	if string(got) != string(want) {
		t.Fatalf("appendAccessRecord:\n got %s\nwant %s", got, want)
	}
	viaMarshal, err := json.Marshal(r)
	if err != nil || string(viaMarshal) != string(want) {
		t.Fatalf("json.Marshal (MarshalJSON): %s, %v\nwant %s", viaMarshal, err, want)
	}
}

func TestAccessRecordJSONMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 22, 3, 4, 5, 678900000, time.FixedZone("x", 3600))
	tests := []struct {
		name string
		rec  AccessRecord
	}{
		{"zero", AccessRecord{}},
		{"hit", AccessRecord{
			Time: at, Kind: AccessKindRequest, Node: "edge-1", RequestID: "ab12-3", Client: "127.0.0.1:5000",
			Method: "GET", Host: "www.example.test", URI: "/a/b.js?v=1", Proto: "HTTP/1.1", Status: 200,
			BytesSent: 1024, Cache: "HIT", DurationMS: 0.006, TTFBMS: 0.005, UserAgent: "wrk",
		}},
		{"everything", AccessRecord{
			Time: at, Kind: AccessKindFill, Node: "n", RequestID: "r", Client: "c", Method: "HEAD", Host: "h",
			URI: "/u", Proto: "HTTP/2.0", Status: -1, Range: "bytes=0-99", BytesSent: math.MaxInt64,
			BytesOrigin: math.MinInt64, Cache: "MISS reason=not-cached collapsed",
			Upstream: []UpstreamAttempt{
				{Addr: "10.0.0.1:80", Status: 200, MS: 12.5},
				{Addr: "[::1]:443", MS: 1e-7, Error: "dial tcp: i/o timeout"},
			},
			UpstreamMore: 3, DurationMS: 1e21, TTFBMS: -2.5e-9, Referer: "https://r.test/?a=1&b=<2>",
			Upgrade: true, Error: "body cut short: 5 of 10 bytes", Dropped: 7,
		}},
		{"escapes", AccessRecord{
			Kind: "\"\\\b\f\n\r\t\x00\x1f\x7f<>&", Node: "\u2028\u2029é😀", URI: "/\xff\xfe\xc3",
			UserAgent: "a\xe2\x80", Referer: "\xed\xa0\x80", DurationMS: 123456789.125,
		}},
		{"floats", AccessRecord{DurationMS: 1e-6, TTFBMS: 999999999999999999999}},
		{"small float", AccessRecord{DurationMS: 5e-324, TTFBMS: -1e-300}},
		{"nan", AccessRecord{DurationMS: math.NaN()}},
		{"inf", AccessRecord{TTFBMS: math.Inf(1)}},
		{"inf attempt", AccessRecord{Upstream: []UpstreamAttempt{{MS: math.Inf(-1)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAccessJSON(t, &tt.rec) })
	}
}

// The writer's lines are the records' JSON, one a line.
func TestAccessLogWriterLines(t *testing.T) {
	var out bytes.Buffer // read after Close, which waits for the writer
	l := NewAccessLogWriter(&out, AccessLogOptions{Node: "n"})
	recs := []*AccessRecord{
		{Kind: AccessKindRequest, Node: "n", URI: "/a", Status: 200, DurationMS: 1.5},
		{Kind: AccessKindRequest, Node: "n", URI: "/b<&>", Status: 404, Error: "x\ny"},
		{Kind: AccessKindRequest, Node: "n", DurationMS: math.NaN()}, // not encodable: skipped
		{Kind: AccessKindFill, Node: "n", Upstream: []UpstreamAttempt{{Addr: "o:80", Status: 200, MS: 2}}},
	}
	var want string
	for _, r := range recs {
		l.Log(r)
		if b, err := referenceJSON(r); err == nil {
			want += string(b) + "\n"
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}

func FuzzAccessRecordJSON(f *testing.F) {
	f.Add("request", "/a?b=1", "wrk", "HIT", int64(1024), 0.006, 0.005, int64(1_700_000_000_000))
	f.Add("fill", "/\xff<\u2028>", "a\"b\\c", "MISS reason=x", int64(-1), 1e-7, 1e21, int64(-62135596800000))
	f.Fuzz(func(t *testing.T, kind, uri, ua, cache string, n int64, d, ttfb float64, ms int64) {
		r := &AccessRecord{
			Time: time.UnixMilli(ms), Kind: kind, Node: cache, URI: uri, UserAgent: ua, Cache: cache,
			BytesSent: n, Status: int(n % 1000), DurationMS: d, TTFBMS: ttfb, Error: ua + uri,
			Upstream: []UpstreamAttempt{{Addr: kind, Status: int(n), MS: ttfb, Error: uri}},
		}
		checkAccessJSON(t, r)
	})
}
