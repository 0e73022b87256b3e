package edge

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TraceHeader is the response field in which an edge records each attempt
// of the fetch that answered a miss: which upstream (parent or origin), its
// status and the time it took, so that a retry on another tier is visible
// to the client (case C18). Each node that fetched adds one element, its
// own first, e.g.
//
//	X-Strata-Trace: l1: parent=l2-a:80 504 12ms; parent=l2-b:80 200 8ms, l2-b: origin=10.0.0.5:80 200 5ms
//
// A response served from the cache carries none (it describes no fetch).
const TraceHeader = "X-Strata-Trace"

// Defaults of the upstream health scoring.
const (
	// DefaultUpstreamFailLimit is the UpstreamFailLimit of a zero Handler.
	DefaultUpstreamFailLimit = 3
	// DefaultUpstreamCooldown is the UpstreamCooldown of a zero Handler.
	DefaultUpstreamCooldown = 30 * time.Second
)

// maxParentTries is how many parents one fetch tries: the first choice and
// one retry on the next (C18).
const maxParentTries = 2

// upstreamKey is the context key of the upstreamInfo of an origin request.
type upstreamKey struct{}

// upstreamInfo says which domain and client URL an origin request serves, so
// that the tier transport can send it to a parent or another origin instead.
type upstreamInfo struct {
	dom *Domain
	url *url.URL
}

// withUpstream marks ctx as the context of an origin request for d and the
// client URL u (forward.go, newOriginRequest).
func withUpstream(ctx context.Context, d *Domain, u *url.URL) context.Context {
	return context.WithValue(ctx, upstreamKey{}, &upstreamInfo{dom: d, url: u})
}

// upstream is one place a fetch can be sent to.
type upstream struct {
	kind string // "parent" or "origin"
	name string // host[:port], as the trace and health scores name it
	url  *url.URL
	host string // the Host field sent to it
}

// attempt is one try of a fetch, as the trace records it.
type attempt struct {
	up     upstream
	status int
	err    error
	dur    time.Duration
}

func (a attempt) String() string {
	res := strconv.Itoa(a.status)
	if a.err != nil {
		res = "error"
	}
	return a.up.kind + "=" + a.up.name + " " + res + " " + strconv.FormatInt(a.dur.Milliseconds(), 10) + "ms"
}

// tierTransport sends origin requests to the node's parents (chosen by
// rendezvous hashing of the cache key) or the domain's origins, retrying on
// the next one after a connection failure or a 5xx, and scores each
// upstream's health.
type tierTransport struct {
	h       *Handler
	next    http.RoundTripper
	probeRT http.RoundTripper // the health checks' transport (health.go)

	mu     sync.Mutex
	health map[string]*upstreamHealth // by upstream kind+name
	egress map[string]*egressSeen     // by upstream name (egress.go)
	stop   chan struct{}              // closed to end the health checks (health.go)
}

// upstreamHealth is an upstream's passive (and, for origins with a health
// check, active) health score.
type upstreamHealth struct {
	fails     int       // consecutive failed fetches
	downUntil time.Time // skipped until then, unless all are down
	probeDown bool      // the last active health check failed (health.go)
}

// newTierTransport wraps next; the domains' health checks (started by
// startHealthChecks) send their probes through probe, not accounted as any
// request's fetch.
func newTierTransport(h *Handler, probe, next http.RoundTripper) *tierTransport {
	return &tierTransport{h: h, next: next, probeRT: probe, health: map[string]*upstreamHealth{}, egress: map[string]*egressSeen{}}
}

// RoundTrip sends req to the first healthy upstream in the order of the
// request's candidates and retries on the next one when it cannot be
// reached or answers 5xx. A request with a body is tried once (its body
// cannot be replayed).
func (t *tierTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	info, _ := req.Context().Value(upstreamKey{}).(*upstreamInfo)
	if info == nil {
		return t.next.RoundTrip(req)
	}
	cands := t.candidates(info, req)
	if req.Body != nil && req.Body != http.NoBody {
		cands = cands[:1]
	}
	ctx := req.Context()
	var attempts []attempt
	var lastErr error
	for i, c := range cands {
		last := i == len(cands)-1
		r2 := req.Clone(t.observe(ctx, c))
		r2.URL, r2.Host = c.url, c.host
		if c.kind == "origin" && c.url == nil {
			r2.URL, r2.Host = req.URL, req.Host
		}
		start := time.Now()
		resp, err := t.next.RoundTrip(r2)
		a := attempt{up: c, err: err, dur: time.Since(start)}
		if err == nil {
			a.status = resp.StatusCode
		}
		attempts = append(attempts, a)
		switch {
		case err != nil:
			lastErr = err
			if ctx.Err() != nil {
				// The client (or the fetch's timeout) gave up: not the
				// upstream's fault, and no retry helps.
				return nil, t.failure(attempts, err)
			}
			t.markFailed(c)
			t.h.log.Warn("edge: upstream attempt failed", "kind", c.kind, "upstream", c.name, "url", r2.URL.Redacted(), "err", err, "ms", a.dur.Milliseconds())
			continue
		case resp.StatusCode >= 500:
			t.markFailed(c)
			t.h.log.Warn("edge: upstream attempt failed", "kind", c.kind, "upstream", c.name, "url", r2.URL.Redacted(), "status", resp.StatusCode, "ms", a.dur.Milliseconds())
			if !last {
				_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
				resp.Body.Close()
				continue
			}
		default:
			t.markOK(c)
		}
		line := traceLine(t.h.nodeID, attempts)
		t.h.log.Debug("edge: upstream fetch", "trace", line)
		resp.Header[TraceHeader] = append([]string{line}, resp.Header.Values(TraceHeader)...)
		return resp, nil
	}
	if lastErr == nil {
		lastErr = errors.New("no upstream to fetch from")
	}
	return nil, t.failure(attempts, lastErr)
}

// failure is the error of a fetch none of whose attempts succeeded: it lists
// them and wraps the last error (so a timeout stays a timeout).
func (t *tierTransport) failure(attempts []attempt, err error) error {
	if len(attempts) <= 1 {
		return err
	}
	return fmt.Errorf("every upstream failed (%s): %w", traceLine(t.h.nodeID, attempts), err)
}

func traceLine(node string, attempts []attempt) string {
	parts := make([]string, len(attempts))
	for i, a := range attempts {
		parts[i] = a.String()
	}
	return node + ": " + strings.Join(parts, "; ")
}

// candidates returns the upstreams of one fetch in the order they are
// tried: up to two parents by rendezvous hash of the cache key (healthy
// ones first), then, with no parents or when ParentsFallbackOrigin is set,
// the domain's origins (healthy ones first).
func (t *tierTransport) candidates(info *upstreamInfo, req *http.Request) []upstream {
	var out []upstream
	if len(t.h.Parents) > 0 {
		key := primaryKey(info.dom, info.url)
		ps := make([]upstream, 0, len(t.h.Parents))
		for _, p := range t.h.Parents {
			u := &url.URL{Scheme: p.Scheme, Host: p.Host, Path: info.url.Path, RawPath: info.url.RawPath, RawQuery: info.url.RawQuery}
			ps = append(ps, upstream{kind: "parent", name: p.Host, url: u, host: parentHost(info.dom)})
		}
		sort.SliceStable(ps, func(i, j int) bool { return hrw(key, ps[i].name) > hrw(key, ps[j].name) })
		ps = t.healthyFirst(ps)
		if len(ps) > maxParentTries {
			ps = ps[:maxParentTries]
		}
		out = append(out, ps...)
		if !t.h.ParentsFallbackOrigin {
			return out
		}
	}
	origins := []upstream{{kind: "origin", name: info.dom.Origin.Host}} // url nil: req as built
	for _, o := range info.dom.Origins {
		d := *info.dom
		d.Origin = o
		origins = append(origins, upstream{kind: "origin", name: o.Host, url: originURL(&d, info.url), host: d.originHost()})
	}
	return append(out, t.healthyFirst(origins)...)
}

// parentHost is the Host sent to a parent: the domain's own host, which the
// parent serves too; a wildcard domain sends its origin's host.
func parentHost(d *Domain) string {
	if d.Host == "*" {
		return d.originHost()
	}
	return d.Host
}

// hrw is the rendezvous (highest random weight) score of a node for a key:
// each key goes to the node with the highest score, and removing a node
// moves only the keys it had.
func hrw(key, node string) uint64 {
	f := fnv.New64a()
	_, _ = io.WriteString(f, node)
	_, _ = f.Write([]byte{0})
	_, _ = io.WriteString(f, key)
	// FNV's low bits mix poorly for similar inputs; finish with a
	// splitmix64 step.
	z := f.Sum64() + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// healthyFirst moves the upstreams that are down to the end, keeping the
// order otherwise: a down upstream is tried only when all are down.
func (t *tierTransport) healthyFirst(us []upstream) []upstream {
	now := t.h.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var up, down []upstream
	for _, u := range us {
		if hs := t.health[u.kind+" "+u.name]; hs != nil && (hs.probeDown || now.Before(hs.downUntil)) {
			down = append(down, u)
		} else {
			up = append(up, u)
		}
	}
	return append(up, down...)
}

func (t *tierTransport) state(u upstream) *upstreamHealth {
	k := u.kind + " " + u.name
	hs := t.health[k]
	if hs == nil {
		hs = &upstreamHealth{}
		t.health[k] = hs
	}
	return hs
}

// markFailed counts a failed fetch; UpstreamFailLimit consecutive ones put
// the upstream down for UpstreamCooldown.
func (t *tierTransport) markFailed(u upstream) {
	limit, cool := t.h.UpstreamFailLimit, t.h.UpstreamCooldown
	if limit <= 0 {
		limit = DefaultUpstreamFailLimit
	}
	if cool <= 0 {
		cool = DefaultUpstreamCooldown
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	hs := t.state(u)
	hs.fails++
	if hs.fails >= limit {
		hs.downUntil = t.h.now().Add(cool)
		hs.fails = 0
		t.h.log.Warn("edge: upstream marked down", "kind", u.kind, "upstream", u.name, "for", cool)
	}
}

func (t *tierTransport) markOK(u upstream) {
	t.mu.Lock()
	defer t.mu.Unlock()
	hs := t.state(u)
	hs.fails = 0
	hs.downUntil = time.Time{}
}

// observe returns ctx with a client trace recording the local address of
// the connection each fetch to u uses (egress.go).
func (t *tierTransport) observe(ctx context.Context, u upstream) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) {
			if ci.Conn != nil {
				t.sawEgress(u, ci.Conn.LocalAddr())
			}
		},
	})
}
