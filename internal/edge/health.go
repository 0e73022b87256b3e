package edge

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Defaults of a HealthCheck's zero fields.
const (
	DefaultHealthInterval = 10 * time.Second
	DefaultHealthTimeout  = 5 * time.Second
)

// HealthCheck probes each origin of a domain actively: a GET of Path every
// Interval; an origin that does not answer 2xx or 3xx within Timeout is
// down (tried only when every origin is down) until a probe succeeds again.
type HealthCheck struct {
	// Path is the probed path, below the origin URL's path prefix, e.g.
	// "/healthz".
	Path string
	// Interval between probes; zero: DefaultHealthInterval.
	Interval time.Duration
	// Timeout of one probe; zero: DefaultHealthTimeout.
	Timeout time.Duration
}

// startHealthChecks starts one probing goroutine per origin of each domain
// with a HealthCheck; stopHealthChecks (from Close) ends them.
func (t *tierTransport) startHealthChecks() {
	stop := make(chan struct{})
	t.mu.Lock()
	t.stop = stop
	t.mu.Unlock()
	domains := t.h.domains()
	for i := range domains {
		d := &domains[i]
		if d.HealthCheck == nil || d.HealthCheck.Path == "" {
			continue
		}
		origins := append([]*url.URL{d.Origin}, d.Origins...)
		for _, o := range origins {
			dd := *d
			dd.Origin = o
			u := originURL(&dd, &url.URL{Path: d.HealthCheck.Path})
			up := upstream{kind: "origin", name: o.Host, url: u, host: dd.originHost()}
			hc := *d.HealthCheck
			t.h.goBackground(func() { t.probeLoop(stop, up, hc) })
		}
	}
}

// stopHealthChecks ends the running health checks.
func (t *tierTransport) stopHealthChecks() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stop != nil {
		close(t.stop)
		t.stop = nil
	}
}

// restartHealthChecks replaces the health checks with those of the current
// domains (after SetDomains).
func (t *tierTransport) restartHealthChecks() {
	t.stopHealthChecks()
	t.startHealthChecks()
}

// probeLoop probes up now and every interval until stopped.
func (t *tierTransport) probeLoop(stop <-chan struct{}, up upstream, hc HealthCheck) {
	iv, to := hc.Interval, hc.Timeout
	if iv <= 0 {
		iv = DefaultHealthInterval
	}
	if to <= 0 {
		to = DefaultHealthTimeout
	}
	tick := time.NewTicker(iv)
	defer tick.Stop()
	for {
		ok := t.probe(stop, up, to)
		t.mu.Lock()
		hs := t.state(up)
		changed := hs.probeDown == ok
		hs.probeDown = !ok
		t.mu.Unlock()
		if changed {
			t.h.log.Warn("edge: origin health changed", "upstream", up.name, "healthy", ok, "url", up.url.Redacted())
		}
		if t.h.onProbe != nil {
			t.h.onProbe(up.name, ok)
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// probe sends one health check request and reports whether it passed.
func (t *tierTransport) probe(stop <-chan struct{}, up upstream, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() { // end the probe at once when the Handler closes
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(t.observe(ctx, up), http.MethodGet, up.url.String(), nil)
	if err != nil {
		return false
	}
	req.Host = up.host
	req.Header.Set("User-Agent", "strata-health-check")
	req.Header["Via"] = []string{"1.1 " + t.h.nodeID}
	resp, err := t.probeRT.RoundTrip(req)
	if err != nil {
		return false
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}
