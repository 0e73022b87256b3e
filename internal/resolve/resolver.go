// Package resolve resolves host names to addresses with the TTL of their
// DNS answer, and dials through it, so that connections made from a name
// follow that name's DNS: an answer is cached no longer than its TTL
// (clamped to a floor and a ceiling), a connection can tell whether its
// address is still one of the name's addresses, and a failed re-resolution
// keeps the last answer for a bounded grace (stale-if-error, RFC 8767). The
// edge resolves its origins and parents with it (case C01).
//
// Names are looked up in /etc/hosts first, then by DNS (A and AAAA) through
// the nameservers of /etc/resolv.conf or those configured, with its search
// list and ndots. IP literals and names of /etc/hosts are answered without
// DNS, with the fixed TTL FixedTTL.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Default values of a Resolver's zero fields, and its fixed lifetimes.
const (
	// DefaultMinTTL is the floor of an answer's lifetime: a TTL of 0 (or
	// 1 s) does not make every request wait for a DNS query.
	DefaultMinTTL = time.Second
	// DefaultMaxTTL is the ceiling of an answer's lifetime: a name whose
	// answer changes is followed within 5 minutes even with a TTL of days.
	DefaultMaxTTL = 300 * time.Second
	// DefaultStaleGrace is how long after its expiry the last answer of a
	// name is still used while re-resolution fails (RFC 8767 §5 suggests
	// up to days; an origin's moves are rarer than DNS outages).
	DefaultStaleGrace = time.Hour
	// StaleRetry is how often a name served stale is asked for again
	// (RFC 8767 §4: 30 s).
	StaleRetry = 30 * time.Second
	// FixedTTL is the lifetime of answers from the hosts file and of IP
	// literals.
	FixedTTL = 5 * time.Second
	// DefaultConfPath and DefaultHostsPath are the files read when
	// ConfPath and HostsPath are empty.
	DefaultConfPath  = "/etc/resolv.conf"
	DefaultHostsPath = "/etc/hosts"
)

// Errors callers branch on.
var (
	// ErrNotFound: the name does not exist (NXDOMAIN) or has neither A nor
	// AAAA records. It is an answer, not a failure, so no stale answer is
	// used in its place (RFC 8767 §4).
	ErrNotFound = errors.New("no such host")
	// ErrClosed: the Resolver was closed.
	ErrClosed = errors.New("resolver closed")
)

// Source says where an Answer came from.
type Source string

// The sources of an Answer.
const (
	SourceDNS     Source = "dns"
	SourceHosts   Source = "hosts"   // the hosts file, or localhost (RFC 6761 §6.3)
	SourceLiteral Source = "literal" // the name is an IP address
)

// Answer is the resolution of one name.
type Answer struct {
	// Host is the name asked for, lower case, without a trailing dot.
	Host string
	// Addrs are its addresses: IPv4 first, then IPv6, each in the order
	// the source gave them.
	Addrs []netip.Addr
	// TTL is the lifetime given to the answer when it was resolved: the
	// smallest TTL of the records (CNAMEs included) clamped to
	// [MinTTL, MaxTTL], or FixedTTL.
	TTL time.Duration
	// Expires is when the answer stops being used without asking again.
	Expires time.Time
	Source  Source
	// Stale reports an answer kept after its expiry because re-resolution
	// failed (stale-if-error).
	Stale bool
}

// Contains reports whether a is one of the answer's addresses.
func (an *Answer) Contains(a netip.Addr) bool {
	return slices.Contains(an.Addrs, a.Unmap())
}

// Resolver resolves names and caches each answer for its TTL. Its zero
// value reads /etc/resolv.conf and /etc/hosts and uses the defaults above.
// Set its fields before the first lookup. It is safe for concurrent use;
// concurrent lookups of one name share one resolution.
type Resolver struct {
	// Nameservers, "ip" or "ip:port", replace those of ConfPath (its
	// search list and options still apply).
	Nameservers []string
	// ConfPath and HostsPath name the resolver configuration and the hosts
	// file; empty: DefaultConfPath and DefaultHostsPath. Both are read
	// again when they change (checked at most every FixedTTL).
	ConfPath  string
	HostsPath string
	// MinTTL and MaxTTL clamp the lifetime of DNS answers. Zero:
	// DefaultMinTTL, DefaultMaxTTL.
	MinTTL time.Duration
	MaxTTL time.Duration
	// StaleGrace bounds how long after its expiry an answer is still used
	// when re-resolution fails (timeout, SERVFAIL, REFUSED). Zero:
	// DefaultStaleGrace; negative: never.
	StaleGrace time.Duration
	// Timeout bounds one query to one server. Zero: the timeout option of
	// ConfPath (5 s by default).
	Timeout time.Duration
	// Logger receives changed answers (info) and failed re-resolutions
	// served stale (warn). If nil, they are discarded.
	Logger *slog.Logger
	// Now returns the current time for the cache. If nil, time.Now.
	Now func() time.Time

	initOnce sync.Once
	log      *slog.Logger
	base     context.Context // cancelled by Close; the lookups' context
	cancel   context.CancelFunc
	group    singleflight.Group
	conf     watched[Conf]
	hosts    watched[map[string][]netip.Addr]

	mu     sync.Mutex // guards the fields below
	cache  map[string]*entry
	closed bool
	wg     sync.WaitGroup // the running resolutions

	// testHookLookup, if set, is called by Lookup after a cache miss,
	// before it joins or starts the resolution.
	testHookLookup func(name string)
}

// entry is the cached state of one name.
type entry struct {
	ans       *Answer   // the last good answer (Stale set while served stale), or nil
	expires   time.Time // until when ans or err is served without asking again
	goodUntil time.Time // the expiry of the last good answer: the grace counts from it
	err       error     // the cached failure when ans is nil
}

func (r *Resolver) init() {
	r.initOnce.Do(func() {
		r.log = r.Logger
		if r.log == nil {
			r.log = slog.New(slog.DiscardHandler)
		}
		r.base, r.cancel = context.WithCancel(context.Background())
		r.cache = map[string]*entry{}
		r.conf = watched[Conf]{path: r.ConfPath, parse: ParseConf}
		if r.conf.path == "" {
			r.conf.path = DefaultConfPath
		}
		r.hosts = watched[map[string][]netip.Addr]{path: r.HostsPath, parse: ParseHosts}
		if r.hosts.path == "" {
			r.hosts.path = DefaultHostsPath
		}
	})
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Resolver) minTTL() time.Duration {
	if r.MinTTL > 0 {
		return r.MinTTL
	}
	return DefaultMinTTL
}

func (r *Resolver) maxTTL() time.Duration {
	m := DefaultMaxTTL
	if r.MaxTTL > 0 {
		m = r.MaxTTL
	}
	return max(m, r.minTTL())
}

func (r *Resolver) staleGrace() time.Duration {
	switch {
	case r.StaleGrace < 0:
		return 0
	case r.StaleGrace == 0:
		return DefaultStaleGrace
	}
	return r.StaleGrace
}

// clampTTL applies MinTTL and MaxTTL to a record TTL in seconds.
func (r *Resolver) clampTTL(sec uint32) time.Duration {
	return min(max(time.Duration(sec)*time.Second, r.minTTL()), r.maxTTL())
}

// normalize returns the lookup key of a host name and whether it was
// rooted (written with a trailing dot).
func normalize(host string) (name string, rooted bool, err error) {
	name = strings.ToLower(host)
	if strings.HasSuffix(name, ".") && !strings.HasSuffix(name, "..") {
		name, rooted = name[:len(name)-1], true
	}
	if name == "" || len(name) > 253 {
		return "", false, fmt.Errorf("resolve %q: not a host name", host)
	}
	return name, rooted, nil
}

// Lookup returns the addresses of host: from the cache while its answer
// lives, else resolved afresh (one resolution shared by concurrent
// callers; it goes on if the callers leave, bounded by the query timeouts,
// so that its answer is cached). An IP literal is its own answer.
func (r *Resolver) Lookup(ctx context.Context, host string) (Answer, error) {
	a, err := r.lookup(ctx, host)
	if err != nil {
		return Answer{}, err
	}
	out := *a
	out.Addrs = slices.Clone(a.Addrs)
	return out, nil
}

// lookup is Lookup returning the shared, immutable answer.
func (r *Resolver) lookup(ctx context.Context, host string) (*Answer, error) {
	r.init()
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		a = a.Unmap()
		return &Answer{Host: a.String(), Addrs: []netip.Addr{a}, TTL: FixedTTL, Expires: r.now().Add(FixedTTL), Source: SourceLiteral}, nil
	}
	name, rooted, err := normalize(host)
	if err != nil {
		return nil, err
	}
	key := name
	if rooted {
		key += "."
	}
	now := r.now()
	r.mu.Lock()
	if e := r.cache[key]; e != nil && now.Before(e.expires) {
		r.mu.Unlock()
		if e.ans == nil {
			return nil, e.err
		}
		return e.ans, nil
	}
	r.mu.Unlock()
	if r.testHookLookup != nil {
		r.testHookLookup(key)
	}
	ch := r.group.DoChan(key, func() (any, error) { return r.refresh(key, name, rooted) })
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Answer), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("resolve %s: %w", name, ctx.Err())
	}
}

// refresh resolves name and updates its cache entry: a new answer replaces
// the old; a failure keeps the old answer for the stale grace, except when
// the name is gone (ErrNotFound).
func (r *Resolver) refresh(key, name string, rooted bool) (*Answer, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	r.wg.Add(1)
	r.mu.Unlock()
	defer r.wg.Done()

	ans, err := r.resolve(r.base, name, rooted)
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.cache[key]
	if e == nil {
		e = &entry{}
		r.cache[key] = e
		r.prune(now)
	}
	if err == nil {
		ans.Expires = now.Add(ans.TTL)
		if e.ans != nil && !slices.Equal(e.ans.Addrs, ans.Addrs) {
			r.log.Info("resolve: answer changed", "host", name, "old", e.ans.Addrs, "new", ans.Addrs, "ttl", ans.TTL)
		}
		*e = entry{ans: ans, expires: ans.Expires, goodUntil: ans.Expires}
		return ans, nil
	}
	if grace := r.staleGrace(); e.ans != nil && grace > 0 && !errors.Is(err, ErrNotFound) && now.Before(e.goodUntil.Add(grace)) {
		st := *e.ans
		st.Stale = true
		st.Expires = now.Add(min(StaleRetry, r.maxTTL()))
		if end := e.goodUntil.Add(grace); end.Before(st.Expires) {
			st.Expires = end
		}
		e.ans, e.expires = &st, st.Expires
		r.log.Warn("resolve: re-resolution failed; using the last answer (stale-if-error)", "host", name,
			"addrs", st.Addrs, "expired_ago", now.Sub(e.goodUntil).Round(time.Second), "until", e.goodUntil.Add(grace), "err", err)
		return &st, nil
	}
	// No answer to fall back on: remember the failure for MinTTL so that a
	// burst of requests does not become a burst of queries.
	*e = entry{err: err, expires: now.Add(r.minTTL())}
	return nil, err
}

// prune drops entries with nothing left to serve, when the cache has grown
// (names come from configuration, so it rarely does). r.mu is held.
func (r *Resolver) prune(now time.Time) {
	if len(r.cache) < 1024 {
		return
	}
	for k, e := range r.cache {
		if now.After(e.expires) && (e.ans == nil || now.After(e.goodUntil.Add(r.staleGrace()))) {
			delete(r.cache, k)
		}
	}
}

// resolve answers name from the hosts file, as localhost, or by DNS.
func (r *Resolver) resolve(ctx context.Context, name string, rooted bool) (*Answer, error) {
	now := r.now()
	if addrs := r.hosts.get(now)[name]; len(addrs) > 0 {
		return &Answer{Host: name, Addrs: orderAddrs(addrs), TTL: FixedTTL, Source: SourceHosts}, nil
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") { // RFC 6761 §6.3
		return &Answer{Host: name, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}, TTL: FixedTTL, Source: SourceHosts}, nil
	}
	conf := r.conf.get(now)
	if len(r.Nameservers) > 0 {
		conf.Nameservers = nil
		for _, s := range r.Nameservers {
			if a, ok := nameserverAddr(s); ok {
				conf.Nameservers = append(conf.Nameservers, a)
			}
		}
	}
	if r.Timeout > 0 {
		conf.Timeout = r.Timeout
	}
	addrs, ttl, err := r.lookupDNS(ctx, &conf, name, rooted)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", name, err)
	}
	return &Answer{Host: name, Addrs: orderAddrs(addrs), TTL: r.clampTTL(ttl), Source: SourceDNS}, nil
}

// orderAddrs puts IPv4 addresses before IPv6 ones, keeping the order
// within each family.
func orderAddrs(in []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(in))
	for _, a := range in {
		if a.Unmap().Is4() {
			out = append(out, a.Unmap())
		}
	}
	for _, a := range in {
		if !a.Unmap().Is4() {
			out = append(out, a)
		}
	}
	return out
}

// Peek returns the cached answer of host without resolving it, expired or
// not (see Answer.Expires); false when there is none.
func (r *Resolver) Peek(host string) (Answer, bool) {
	r.init()
	name, rooted, err := normalize(host)
	if err != nil {
		return Answer{}, false
	}
	if rooted {
		name += "."
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.cache[name]
	if e == nil || e.ans == nil {
		return Answer{}, false
	}
	out := *e.ans
	out.Addrs = slices.Clone(out.Addrs)
	return out, true
}

// Remaining returns how long a still lives, by the Resolver's clock.
func (r *Resolver) Remaining(a Answer) time.Duration {
	return max(a.Expires.Sub(r.now()), 0)
}

// Expire ends the life of every cached answer now, so that the next lookup
// of each name asks again (a configuration change re-resolves its origins).
// The answers are kept for stale-if-error.
func (r *Resolver) Expire() {
	r.init()
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.cache {
		e.expires = now
		if e.ans != nil && e.goodUntil.After(now) {
			e.goodUntil = now
		}
	}
}

// Close cancels the resolutions in progress and waits for them to end;
// later lookups of names not cached fail with ErrClosed.
func (r *Resolver) Close() error {
	r.init()
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}
