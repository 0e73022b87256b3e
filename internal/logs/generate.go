package logs

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"
)

// GenOptions describe a synthetic log made by Generate.
type GenOptions struct {
	// Format is FormatStrata (the default) or FormatNginx.
	Format Format
	// Seed makes the output reproducible.
	Seed uint64
	// Start is the time of the first hour. If zero, 2026-01-01T00:00:00Z.
	Start time.Time
	// Hours is how many hours to generate, each with the same scenario.
	// If zero, one.
	Hours int
	// Bytes, when larger than what Hours make, adds hours until at least
	// this much is written.
	Bytes int64
	// NoisePerHour is the number of ordinary requests per hour. If zero,
	// 10,000.
	NoisePerHour int
	// Malformed adds this many garbage lines per hour.
	Malformed int
}

// Generate writes a synthetic access log for tests and benchmarks. Every
// hour has ordinary traffic (a few hundred clients and URLs, about 90% cache
// hits) and, at fixed minutes, each pattern the analyzer detects:
//   - 00:10-00:20 a range storm (C09): two clients ask dl.example.test for
//     /downloads/big.zip in 1 MiB ranges, every one a miss that cost the
//     origin 8 MiB;
//   - 00:30-00:35 client 198.51.100.9 fetches /api/config.json twice a
//     second;
//   - 00:40-00:45 a hit-ratio drop: ordinary traffic misses 80% of the time;
//   - 00:50-00:53 a 5xx burst (C18): parent 10.8.0.2:8080 answers
//     video.example.test with 504 and the request is retried on
//     10.8.0.3:8080.
//
// It returns the bytes written.
func Generate(w io.Writer, g GenOptions) (int64, error) {
	if g.Format == "" || g.Format == FormatAuto {
		g.Format = FormatStrata
	}
	if g.Start.IsZero() {
		g.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if g.Hours <= 0 {
		g.Hours = 1
	}
	if g.NoisePerHour <= 0 {
		g.NoisePerHour = 10000
	}
	cw := &countWriter{w: bufio.NewWriterSize(w, 1<<20)}
	rng := rand.New(rand.NewPCG(g.Seed, 0x5747a7a))
	var buf []byte
	for h := 0; h < g.Hours || (g.Bytes > 0 && cw.n < g.Bytes); h++ {
		evs := hourEvents(rng, g.Start.Add(time.Duration(h)*time.Hour), g.NoisePerHour)
		for i := range evs {
			buf = evs[i].append(buf[:0], g.Format)
			if _, err := cw.Write(buf); err != nil {
				return cw.n, err
			}
			if g.Malformed > 0 && i%(len(evs)/g.Malformed+1) == len(evs)/(2*g.Malformed+1) {
				if _, err := fmt.Fprintf(cw, "garbage line %d \x16\x03\x01 not a log\n", i); err != nil {
					return cw.n, err
				}
			}
		}
	}
	return cw.n, cw.w.(*bufio.Writer).Flush()
}

// genEvent is one generated record.
type genEvent struct {
	kind              string
	t                 time.Time
	client, host, uri string
	status            int
	rng               string
	sent, origin      int64
	cache             string
	up                []Attempt
	ms                float64
	ua, ref           string
}

func hourEvents(rng *rand.Rand, start time.Time, noise int) []genEvent {
	evs := make([]genEvent, 0, noise+1000)
	at := func(fromMin, toMin float64) time.Time {
		d := fromMin + rng.Float64()*(toMin-fromMin)
		return start.Add(time.Duration(d * float64(time.Minute))).Truncate(time.Millisecond)
	}
	const origin = "10.9.0.1:80"
	for i := 0; i < noise; i++ {
		t := at(0, 60)
		missP := 0.1
		if m := t.Sub(start).Minutes(); m >= 40 && m < 45 {
			missP = 0.8 // a purge emptied the cache
		}
		e := genEvent{
			kind: KindRequest, t: t,
			client: fmt.Sprintf("10.1.%d.%d", rng.IntN(4), rng.IntN(60)+1),
			host:   "www.example.test",
			uri:    fmt.Sprintf("/static/obj-%d.js", rng.IntN(500)),
			status: 200, cache: "HIT", ms: 0.4 + float64(rng.IntN(20))/10,
			ua: "Mozilla/5.0 (generated)", ref: "https://www.example.test/",
		}
		size := int64(1000 + rng.IntN(50000))
		e.sent = size
		switch r := rng.Float64(); {
		case r < 0.02:
			e.status, e.sent, e.cache = 404, 120, "MISS"
			e.up = []Attempt{{Addr: origin, Status: 404, MS: 3}}
			e.origin = 120
		case r < 0.05:
			e.status, e.sent = 304, 0
		case rng.Float64() < missP:
			e.cache = "MISS"
			e.origin = size
			e.up = []Attempt{{Addr: origin, Status: 200, MS: 5 + float64(rng.IntN(40))}}
			e.ms += e.up[0].MS
		}
		evs = append(evs, e)
		if e.cache == "MISS" && e.status == 200 && rng.IntN(50) == 0 {
			// The client hung up; the fill completed in the background.
			e.kind, e.sent, e.origin, e.up = KindFill, 0, size/2, nil
			e.t = e.t.Add(200 * time.Millisecond)
			evs = append(evs, e)
		}
	}
	// C09: a range storm on a big zip that never caches.
	for i := 0; i < 120; i++ {
		off := int64(rng.IntN(300)) << 20
		evs = append(evs, genEvent{
			kind: KindRequest, t: at(10, 20),
			client: []string{"203.0.113.7", "203.0.113.8"}[i%2],
			host:   "dl.example.test", uri: "/downloads/big.zip",
			status: 206, rng: fmt.Sprintf("bytes=%d-%d", off, off+1<<20-1),
			sent: 1 << 20, origin: 8 << 20, cache: "MISS",
			up: []Attempt{{Addr: origin, Status: 200, MS: 12}}, ms: 900,
			ua: "Downloader/2.1",
		})
	}
	// A client hammering one object.
	for i := 0; i < 600; i++ {
		evs = append(evs, genEvent{
			kind: KindRequest, t: start.Add(30*time.Minute + time.Duration(i)*500*time.Millisecond),
			client: "198.51.100.9", host: "www.example.test", uri: "/api/config.json",
			status: 200, sent: 512, cache: "HIT", ms: 0.3, ua: "poller/1.0",
		})
	}
	// C18: one parent's origin WAF blocks it; the edge retries another.
	for i := 0; i < 100; i++ {
		evs = append(evs, genEvent{
			kind: KindRequest, t: at(50, 53),
			client: fmt.Sprintf("10.2.0.%d", rng.IntN(50)+1),
			host:   "video.example.test", uri: fmt.Sprintf("/vod/seg-%d.ts", rng.IntN(1000)),
			status: 200, sent: 400000, origin: 400000, cache: "MISS",
			up: []Attempt{{Addr: "10.8.0.2:8080", Status: 504, MS: 3000}, {Addr: "10.8.0.3:8080", Status: 200, MS: 40}},
			ms: 3050, ua: "player/3",
		})
	}
	slices.SortStableFunc(evs, func(a, b genEvent) int { return cmp.Compare(a.t.UnixNano(), b.t.UnixNano()) })
	return evs
}

// genLine is the wire form Generate writes for Strata (docs/logs.md).
type genLine struct {
	Time        string       `json:"time"`
	Kind        string       `json:"kind"`
	Node        string       `json:"node"`
	RequestID   string       `json:"request_id"`
	Client      string       `json:"client"`
	Method      string       `json:"method"`
	Host        string       `json:"host"`
	URI         string       `json:"uri"`
	Proto       string       `json:"proto"`
	Status      int          `json:"status"`
	Range       string       `json:"range,omitempty"`
	BytesSent   int64        `json:"bytes_sent"`
	BytesOrigin int64        `json:"bytes_origin"`
	Cache       string       `json:"cache,omitempty"`
	Upstream    []genAttempt `json:"upstream,omitempty"`
	DurationMS  float64      `json:"duration_ms"`
	TTFBMS      float64      `json:"ttfb_ms"`
	UserAgent   string       `json:"user_agent,omitempty"`
	Referer     string       `json:"referer,omitempty"`
}

type genAttempt struct {
	Addr   string  `json:"addr"`
	Status int     `json:"status"`
	MS     float64 `json:"ms"`
}

func (e *genEvent) append(b []byte, f Format) []byte {
	if f == FormatNginx {
		if e.kind != KindRequest {
			return b // nginx has no fill records
		}
		b = fmt.Appendf(b, "%s - - [%s] \"GET %s HTTP/1.1\" %d %d %q %q", e.client, e.t.Format(nginxTime), e.uri, e.status, e.sent, orDash(e.ref), orDash(e.ua))
		cache := e.cache
		if cache == "" {
			cache = "-"
		}
		b = fmt.Appendf(b, " %q host=%s rt=%.3f", cache, e.host, e.ms/1000)
		if len(e.up) > 0 {
			var addrs, sts, ts string
			for i, a := range e.up {
				if i > 0 {
					addrs, sts, ts = addrs+", ", sts+", ", ts+", "
				}
				addrs += a.Addr
				sts += fmt.Sprint(a.Status)
				ts += fmt.Sprintf("%.3f", a.MS/1000)
			}
			b = fmt.Appendf(b, " ua=%q us=%q uht=%q", addrs, sts, ts)
		}
		return append(b, '\n')
	}
	l := genLine{
		Time: e.t.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Kind: e.kind, Node: "edge-1",
		RequestID: fmt.Sprintf("gen-%x", e.t.UnixNano()), Client: e.client + ":40000", Method: "GET",
		Host: e.host, URI: e.uri, Proto: "HTTP/1.1", Status: e.status, Range: e.rng,
		BytesSent: e.sent, BytesOrigin: e.origin, Cache: e.cache, DurationMS: e.ms, TTFBMS: e.ms / 2,
		UserAgent: e.ua, Referer: e.ref,
	}
	if e.cache == "MISS" {
		l.Cache = "MISS reason=not-cached"
	}
	for _, a := range e.up {
		l.Upstream = append(l.Upstream, genAttempt{a.Addr, a.Status, a.MS})
	}
	j, _ := json.Marshal(l)
	return append(append(b, j...), '\n')
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
