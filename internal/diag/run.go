package diag

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options configures Run. The zero value of every field but URL works.
type Options struct {
	// URL is the absolute http or https URL to diagnose.
	URL string
	// Origin, if set, is the customer's origin behind the CDN: "host:port"
	// (the URL's scheme is used) or an absolute URL whose scheme and host
	// are used. The origin checks send the URL's path and Host to it
	// directly (C03, C06, C12, A2).
	Origin string
	// Resolve pins names to addresses like curl's --resolve: each entry is
	// "HOST:PORT:ADDR"; a connection to HOST:PORT goes to ADDR:PORT
	// instead, with no DNS lookup.
	Resolve []string
	// ExpectCNAME, if set, is the name the target's CNAME chain must reach
	// (the CDN's domain, C13).
	ExpectCNAME string
	// DNSServer is the "host:port" of the DNS server the DNS check asks and
	// the probes resolve with. If empty, the first nameserver of
	// /etc/resolv.conf is asked and the system resolver is used.
	DNSServer string
	// Timeout bounds every network operation (a DNS query, a connection, a
	// whole request). If zero, 10s is used.
	Timeout time.Duration
	// MaxBody caps how much of a response body is read and hashed. If
	// zero, 64 MiB is used.
	MaxBody int64
	// Roots verifies the server's certificate chain. If nil, the system
	// roots are used. Intermediates are never fetched (C04).
	Roots *x509.CertPool
	// Checks selects the checks to run by name (see CheckNames); nil runs
	// every one.
	Checks []string
	// UserAgent is sent with every request. If empty, "strata-doctor" is
	// used.
	UserAgent string
	// NoCapture keeps the reset check from capturing packets. As root on
	// Linux it otherwise opens a packet socket, filtered in the kernel to
	// the SYN, FIN and RST segments of the address it is repeating a cut
	// connection to, to compare the TTL of the reset with the SYN-ACK's
	// (C23).
	NoCapture bool
	// Logger receives debug records of each probe. If nil, nothing is
	// logged.
	Logger *slog.Logger
}

// check is one diagnosis: a function that probes and returns findings.
type check struct {
	name string
	run  func(ctx context.Context, p *prober) []Finding
	// noBase marks a check that does not use the baseline request.
	noBase bool
}

// checks lists every check in the order they run. Before them, Run makes
// the baseline request (fetchBase) that timing reports and the HTTP checks
// compare against.
var checks = []check{
	{"timing", checkTiming, false},
	{"etag", checkETag, false},
	{"range", checkRange, false},
	{"if-range", checkIfRange, false},
	{"checksum", checkChecksum, false},
	{"vary", checkVary, false},
	{"cors", checkCORS, false},
	{"keepalive", checkKeepAlive, false},
	{"get-body", checkGetBody, false},
	{"identity", checkIdentity, false},
	{"tls", checkTLS, true},
	{"origin", checkOrigin, false},
	{"dns", checkDNS, true},
	{"websocket", checkWebSocket, true},
	{"reset", checkReset, true},
}

// CheckNames returns the names of every check, in the order Run runs
// them.
func CheckNames() []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.name
	}
	return out
}

// Run diagnoses opts.URL and returns every finding. It returns an error
// only when it cannot run at all: a bad URL or option (ErrBadURL,
// ErrBadOption) or a target name that does not resolve (ErrResolve). A
// target that resolves but fails otherwise is a finding.
func Run(ctx context.Context, opts Options) (Report, error) {
	p, err := newProber(opts)
	if err != nil {
		return Report{}, err
	}
	if err := p.resolveTarget(ctx); err != nil {
		return Report{}, err
	}
	for _, name := range opts.Checks {
		if !slices.Contains(CheckNames(), name) {
			return Report{}, fmt.Errorf("%w: unknown check %q", ErrBadOption, name)
		}
	}
	rep := Report{URL: p.u.String()}
	var selected []check
	needBase := false
	for _, c := range checks {
		if opts.Checks == nil || slices.Contains(opts.Checks, c.name) {
			selected = append(selected, c)
			needBase = needBase || !c.noBase
		}
	}
	if needBase {
		p.fetchBase(ctx)
	}
	for _, c := range selected {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("diag: interrupted: %w", err)
		}
		p.log.Debug("check", "name", c.name)
		rep.Findings = append(rep.Findings, c.run(ctx, p)...)
	}
	rep.Timing = p.timing
	return rep, nil
}

// prober holds what the checks share: the target, how to reach it, and
// the baseline response.
type prober struct {
	opts    Options
	u       *url.URL
	host    string // the URL's host name, without port or brackets
	port    string
	tls     bool
	timeout time.Duration
	maxBody int64
	log     *slog.Logger

	resolver *net.Resolver
	pins     map[string][]string // "host:port" → "ip:port"s, from --resolve

	// base is the baseline GET made by checkTiming; nil until then, and
	// when it failed. baseErr is its error.
	base    *sample
	baseErr error
	timing  *Timing
	// ranged is the 206 (or 200) the range check got to bytes=0-0; nil
	// when it did not run.
	ranged *sample
}

func newProber(opts Options) (*prober, error) {
	u, err := url.Parse(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an absolute http or https URL", ErrBadURL, opts.URL)
	}
	p := &prober{
		opts: opts, u: u, host: u.Hostname(), port: u.Port(), tls: u.Scheme == "https",
		timeout: opts.Timeout, maxBody: opts.MaxBody, log: opts.Logger,
		pins: map[string][]string{},
	}
	if p.port == "" {
		p.port = "80"
		if p.tls {
			p.port = "443"
		}
	}
	if p.timeout <= 0 {
		p.timeout = 10 * time.Second
	}
	if p.maxBody <= 0 {
		p.maxBody = 64 << 20
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.opts.UserAgent == "" {
		p.opts.UserAgent = "strata-doctor"
	}
	for _, r := range opts.Resolve {
		from, to, err := ParseResolve(r)
		if err != nil {
			return nil, err
		}
		p.pins[from] = to
	}
	p.resolver = net.DefaultResolver
	if opts.DNSServer != "" {
		srv := opts.DNSServer
		p.resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv)
		}}
	}
	return p, nil
}

// ParseResolve parses a curl --resolve entry "HOST:PORT:ADDR[,ADDR…]"
// (an ADDR may be a bracketed IPv6 address) into the dial address it
// replaces and the ones it dials instead, all "host:port".
func ParseResolve(s string) (from string, to []string, err error) {
	host, rest, ok1 := strings.Cut(s, ":")
	port, addrs, ok2 := strings.Cut(rest, ":")
	if n, err := strconv.ParseUint(port, 10, 16); !ok1 || !ok2 || host == "" || strings.ContainsAny(host, "[]/ \t") ||
		err != nil || n == 0 || addrs == "" {
		return "", nil, fmt.Errorf("%w: --resolve %q: want HOST:PORT:ADDR", ErrBadOption, s)
	}
	for _, a := range strings.Split(addrs, ",") {
		a = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(a), "["), "]")
		if net.ParseIP(a) == nil {
			return "", nil, fmt.Errorf("%w: --resolve %q: %q is not an IP address", ErrBadOption, s, a)
		}
		to = append(to, net.JoinHostPort(a, port))
	}
	return net.JoinHostPort(host, port), to, nil
}

// targetAddr is the "host:port" the URL names.
func (p *prober) targetAddr() string { return net.JoinHostPort(p.host, p.port) }

// resolveTarget fails with ErrResolve when the target's name resolves to
// nothing, the one DNS failure that stops Run.
func (p *prober) resolveTarget(ctx context.Context) error {
	_, err := p.addrs(ctx)
	return err
}

// addrs returns the addresses ("ip:port") a connection to the target may
// go to: the --resolve pin, the IP literal, or every DNS answer.
func (p *prober) addrs(ctx context.Context) ([]string, error) {
	if to, ok := p.pins[p.targetAddr()]; ok {
		return to, nil
	}
	if net.ParseIP(p.host) != nil {
		return []string{p.targetAddr()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	ips, err := p.resolver.LookupHost(ctx, p.host)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrResolve, p.host, err)
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = net.JoinHostPort(ip, p.port)
	}
	return out, nil
}

// dial connects like curl: through the --resolve pins when there are
// some, trying each in turn.
func (p *prober) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: p.timeout, Resolver: p.resolver}
	to, ok := p.pins[addr]
	if !ok {
		return d.DialContext(ctx, network, addr)
	}
	var errs []error
	for _, a := range to {
		c, err := d.DialContext(ctx, network, a)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// client returns an HTTP/1.1 client for the probes: no redirects followed
// (the URL itself is diagnosed), no transparent decompression (bodies are
// hashed as sent), certificates not verified (the tls check does that, so
// the HTTP checks still run against a broken chain), and at most one idle
// connection, so consecutive requests reuse it when the server allows.
// dial overrides where connections go; nil means p.dial.
func (p *prober) client(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	if dial == nil {
		dial = p.dial
	}
	tr := &http.Transport{
		DialContext:           dial,
		TLSClientConfig:       &tls.Config{ServerName: p.host, InsecureSkipVerify: true}, //nolint:gosec // verified by the tls check
		TLSHandshakeTimeout:   p.timeout,
		ResponseHeaderTimeout: p.timeout,
		DisableCompression:    true,
		MaxIdleConns:          1,
		MaxIdleConnsPerHost:   1,
		IdleConnTimeout:       p.timeout,
		// A non-nil empty map disables HTTP/2: Connection and Upgrade
		// semantics (C02, C19) exist only in HTTP/1.1.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &http.Client{
		Transport: tr,
		Timeout:   p.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// newRequest builds a GET (or method) for the target URL with the
// doctor's User-Agent and the given header fields ("Name", "value" pairs).
func (p *prober) newRequest(ctx context.Context, method string, kv ...string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("diag: build request: %w", err)
	}
	req.Header.Set("User-Agent", p.opts.UserAgent)
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	return req, nil
}

// probeBody caps the body read by the requests after the baseline: they
// look at heads and small ranges, and a 1 GB file must not be read a dozen
// times.
const probeBody = 1 << 20

// get sends one request built by newRequest on c and reads the response,
// hashing at most probeBody bytes of its body.
func (p *prober) get(ctx context.Context, c *http.Client, kv ...string) (*sample, error) {
	req, err := p.newRequest(ctx, http.MethodGet, kv...)
	if err != nil {
		return nil, err
	}
	return p.do(c, req, probeBody)
}

// errNoBase is reported by checks that need the baseline response.
var errNoBase = errors.New("no baseline response")

// needBase returns the baseline response, or a skip finding for the
// check named id when there is none.
func (p *prober) needBase(id, caseID string) (*sample, []Finding) {
	if p.base != nil {
		return p.base, nil
	}
	err := p.baseErr
	if err == nil {
		err = errNoBase
	}
	return nil, []Finding{{ID: id + ".skipped", Case: caseID, Level: Info,
		Summary: "not checked: the first request failed", Evidence: []string{err.Error()}}}
}
