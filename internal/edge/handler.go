package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-cdn/strata/internal/cachepolicy"
	"github.com/strata-cdn/strata/internal/cachestore"
	"github.com/strata-cdn/strata/internal/resolve"
	"github.com/strata-cdn/strata/internal/transform"
	"golang.org/x/sync/singleflight"
)

// Default values of the Handler's zero fields.
const (
	// DefaultMaxBackgroundFill is the MaxBackgroundFill of a zero Handler.
	DefaultMaxBackgroundFill = 128 << 20
	// DefaultNoRangeMemory is the NoRangeMemory of a zero Handler.
	DefaultNoRangeMemory = 10 * time.Minute
	// DefaultOriginTimeout is the OriginTimeout of a zero Handler.
	DefaultOriginTimeout = 60 * time.Second
)

// Handler is the edge: an http.Handler that serves its Domains from Cache
// and their origins. Set its fields before the first request and do not
// change them afterwards. Close waits for the fetches it runs in the
// background.
type Handler struct {
	// NodeID names this node in Via and CDN-Loop, and so detects requests
	// that loop back to it (RFC 8586, case C06). If empty, the host name
	// is used ("strata" when it is unknown).
	NodeID string
	// Domains are the sites served, matched by Host (see Domain.Host). A
	// request for a host no domain claims gets 404.
	Domains []Domain
	// Cache stores responses and slices. If nil, nothing is cached: every
	// request is forwarded (X-Cache: MISS reason=no-cache-store).
	Cache *cachestore.Store
	// Transport makes origin requests. If nil, the Handler uses an
	// *http.Transport of its own, tuned for an origin-facing proxy
	// (connection reuse, no transparent decompression, no proxy from the
	// environment), and closes its idle connections on Close.
	Transport http.RoundTripper
	// Policy is the base caching policy of every domain; a matching cache
	// rule's TTL replaces Policy.TTL. The zero value is a shared cache
	// following RFC 9111.
	Policy cachepolicy.Policy
	// MaxBackgroundFill bounds, in bytes, what a cacheable fetch still
	// reads from the origin after its last client hung up, so that the
	// object lands in the cache anyway (case C09). If zero,
	// DefaultMaxBackgroundFill is used; if negative, a fetch stops when its
	// last client leaves.
	MaxBackgroundFill int64
	// NoRangeMemory is how long the edge remembers that an origin host
	// answered a range request with 200 (case C08) and fetches whole
	// objects from it instead of slices. If zero, DefaultNoRangeMemory.
	NoRangeMemory time.Duration
	// OriginTimeout bounds the wait for an origin's response header and
	// for a slice fetch. If zero, DefaultOriginTimeout is used.
	OriginTimeout time.Duration
	// TempDir holds the spool files through which one origin fetch is
	// streamed to every client waiting for it (removed at once; only open
	// descriptors keep them). If empty, os.TempDir() is used.
	TempDir string
	// Logger receives reports of origin failures, rejected slices and
	// cache errors. If nil, they are discarded.
	Logger *slog.Logger
	// Now returns the current time for freshness and age. If nil,
	// time.Now is used.
	Now func() time.Time
	// AccessLog, if set, receives a record of every request when its
	// response ends, and "fill" records of origin traffic that outlives
	// its request (accesslog.go, docs/logs.md). It runs on the serving
	// goroutine and must not block (AccessLogWriter.Log queues or drops).
	AccessLog func(*AccessRecord)
	// Parents are other Strata edges (an L2 tier) that misses are fetched
	// through instead of the origin, each request keeping its Host
	// (parents.go). A fetch goes to the parent chosen by rendezvous hashing
	// of its cache key and, after a connection failure or a 5xx, once more
	// to the next one (case C18). Empty: fetch from the origins.
	Parents []*url.URL
	// ParentsFallbackOrigin, when set, fetches from the domain's origins
	// after the parents tried have failed; otherwise the failure is the
	// answer.
	ParentsFallbackOrigin bool
	// UpstreamFailLimit consecutive failed fetches (connection failure or
	// 5xx) mark a parent or origin down for UpstreamCooldown: it is tried
	// only when every other one is down too. Zero: the defaults
	// (DefaultUpstreamFailLimit, DefaultUpstreamCooldown).
	UpstreamFailLimit int
	UpstreamCooldown  time.Duration
	// Resolver resolves the names of origins and parents for the Handler's
	// own transport and for upgrades, caching each DNS answer for its TTL;
	// pooled connections to an address that left its name's answer are not
	// reused (resolver.go, case C01). If nil, the Handler makes one with
	// resolve.Resolver's defaults (/etc/resolv.conf, /etc/hosts). Close
	// closes it.
	Resolver *resolve.Resolver

	initOnce sync.Once
	resolver *resolve.Resolver // Resolver, or the Handler's own
	nodeID   string
	rt       http.RoundTripper
	own      *http.Transport // the Transport made by the Handler, if any
	tier     *tierTransport  // the upstream choice wrapping rt (parents.go)
	log      *slog.Logger
	idPrefix string
	idSeq    atomic.Uint64

	live atomic.Pointer[[]Domain] // Domains as replaced by SetDomains (reconfig.go)

	wg sync.WaitGroup // every background goroutine: fills, slice fetches, revalidations

	mu      sync.Mutex // guards the fields below
	closed  bool
	fills   map[string]*fill     // in-flight whole-object fetches by object key
	flights map[string]*flight   // in-flight slice and metadata fetches by key
	noRange map[string]time.Time // origin host -> until when it is known to ignore Range
	tasks   *Tasks               // the purge and prefetch tasks, closed first by Close

	marks  staleMarks     // soft purges, checked at lookup (stalemarks.go)
	access accessRegistry // requests being logged, by ID (accesslog.go)

	transforms singleflight.Group // transformed variants being made, by key (transform.go)
	minifyOnce sync.Once
	minify     *transform.Minifier

	// onFillDone, if set, is called when a fill's goroutine ends (tests
	// synchronise on it).
	onFillDone func(key string)
	// onProbe, if set, is called after each origin health check (health.go).
	onProbe func(upstream string, ok bool)
}

// init prepares the Handler's defaults once.
func (h *Handler) init() {
	h.initOnce.Do(func() {
		h.nodeID = h.NodeID
		if h.nodeID == "" {
			h.nodeID, _ = os.Hostname()
			if h.nodeID == "" {
				h.nodeID = "strata"
			}
		}
		h.resolver = h.Resolver
		if h.resolver == nil {
			h.resolver = &resolve.Resolver{Logger: h.Logger}
		}
		h.rt = h.Transport
		if h.rt == nil {
			h.own = newTransport(newOriginDialer(h.resolver, h.Logger))
			h.rt = h.own
		}
		h.rt = h.withTimeouts(h.rt) // each attempt's domain timeouts (timeouts.go)
		// Parents, origin failover and health checks (parents.go); the
		// access log accounts each attempt (unchanged without one).
		h.tier = newTierTransport(h, h.rt, h.accountOrigin(h.rt))
		h.rt = h.tier
		h.log = h.Logger
		if h.log == nil {
			h.log = slog.New(slog.DiscardHandler)
		}
		var b [4]byte
		_, _ = rand.Read(b[:])
		h.idPrefix = hex.EncodeToString(b[:])
		h.fills = make(map[string]*fill)
		h.flights = make(map[string]*flight)
		h.noRange = make(map[string]time.Time)
		h.tier.startHealthChecks() // last: the probes read the fields above
	})
}

// newTransport returns the origin transport of a Handler without one. Its
// connections are dialed by od, which honours the TTL of the origins' DNS
// answers, pooled connections included (resolver.go, case C01).
func newTransport(od *originDialer) *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // an edge talks to its origins directly
		DialContext:           od.dial,
		DialTLSContext:        od.dialTLS,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Bodies are cached and served as the origin encoded them; the
		// client's Accept-Encoding and the origin's Vary decide.
		DisableCompression: true,
	}
}

// Close waits for the background fetches to finish, releases the idle
// origin connections of the Handler's own transport and closes the
// Resolver (given or its own). Requests served after Close are answered
// without background work.
func (h *Handler) Close() error {
	h.init()
	h.mu.Lock()
	t := h.tasks
	h.mu.Unlock()
	if t != nil {
		t.Close() // its prefetches are requests to h: end them first
	}
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.tier.stopHealthChecks()
	h.wg.Wait()
	if h.own != nil {
		h.own.CloseIdleConnections()
	}
	return h.resolver.Close() // its background re-resolutions end here
}

// goBackground runs fn in a goroutine the Handler owns; it reports false (and
// does not run fn) after Close.
func (h *Handler) goBackground(fn func()) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
	return true
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) maxBackgroundFill() int64 {
	switch {
	case h.MaxBackgroundFill == 0:
		return DefaultMaxBackgroundFill
	case h.MaxBackgroundFill < 0:
		return 0
	}
	return h.MaxBackgroundFill
}

func (h *Handler) originTimeout() time.Duration {
	if h.OriginTimeout > 0 {
		return h.OriginTimeout
	}
	return DefaultOriginTimeout
}

// requestID returns the request's X-Request-Id when it is a sane token (so
// one ID follows a request through the tiers), else a new one.
func (h *Handler) requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 && isToken(id) {
		return id
	}
	return h.idPrefix + "-" + strconv.FormatUint(h.idSeq.Add(1), 36)
}

// ServeHTTP serves one request: route by Host, refuse loops, then serve
// from the cache or forward to the origin.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.init()
	x := &exchange{h: h, w: w, r: r, start: time.Now(), id: h.requestID(r)}
	if h.AccessLog != nil {
		defer h.beginAccess(x).end() // wraps x.w
	}
	x.dom = h.domainFor(r.Host)
	if x.dom == nil {
		x.fail(http.StatusNotFound, "MISS reason=unknown-host",
			"no domain is configured for host "+strconv.Quote(stripPort(r.Host))+" on this edge")
		return
	}
	if h.isLoop(r.Header) {
		x.fail(http.StatusLoopDetected, "MISS reason=loop",
			"loop detected for domain "+strconv.Quote(x.dom.Host)+": the request already passed through edge node "+
				strconv.Quote(h.nodeID)+" (its Via or CDN-Loop names this node), so the origin "+
				x.dom.Origin.Host+" routes back to this edge; point the domain's origin at a server outside this CDN")
		return
	}
	if r.Method == http.MethodConnect {
		x.fail(http.StatusMethodNotAllowed, "MISS reason=method", "CONNECT is not served by the edge")
		return
	}
	if !x.protocolPolicy() { // protocols.go: CORS preflight, bodies, upgrades
		return
	}
	rule := x.dom.rule(r.URL.Path)
	x.policy = h.edgePolicy()
	if rule != nil {
		if rule.TTL > 0 {
			x.policy.TTL = rule.TTL
		}
		x.vary.Ignore = rule.IgnoreVary
	}
	if x.dom.Transform != nil {
		// The edge asks the origin with its own Accept-Encoding and makes
		// each client's coding itself: one stored response serves all.
		x.vary.Ignore = append(x.vary.Ignore[:len(x.vary.Ignore):len(x.vary.Ignore)], "Accept-Encoding")
	}
	x.primary = primaryKey(x.dom, r.URL)
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		x.forwardUnsafe()
	case h.Cache == nil:
		x.passThrough("MISS reason=no-cache-store")
	default:
		x.serveCacheable()
	}
}

// exchange is one client request being served.
type exchange struct {
	h       *Handler
	w       http.ResponseWriter
	r       *http.Request
	start   time.Time
	id      string
	dom     *Domain
	policy  cachepolicy.Policy
	vary    cachepolicy.VaryOptions
	primary string // cache key of the URL, before the variant

	wrote bool // the response header has been written
}

// ctx is the client's context: done when the client hangs up.
func (x *exchange) ctx() context.Context { return x.r.Context() }
