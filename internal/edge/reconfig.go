package edge

import (
	"net/http"
)

// SetDomains replaces the domains the Handler serves, atomically: a request
// already routed finishes with the domain it found, the next one uses the
// new list. It is how a configuration reload changes a domain's origin
// without a restart, and the change takes effect at once (case C01): the
// idle connections of the origin transport are closed, so no request is
// sent on a connection to the old origin's address, and every cached DNS
// answer is expired, so the next fetch resolves the origin's name afresh
// (the answers are kept for stale-if-error). Between changes, answers live
// for their TTL and pooled connections follow them (resolver.go). Health
// checks (health.go) restart for the new origins.
func (h *Handler) SetDomains(ds []Domain) {
	h.init()
	ds = append([]Domain(nil), ds...)
	h.live.Store(&ds)
	h.resolver.Expire()
	h.tier.restartHealthChecks()
	closeIdle(h.rt)
	closeIdle(h.Transport)
	if h.own != nil {
		h.own.CloseIdleConnections()
	}
}

// domains returns the domains currently served.
func (h *Handler) domains() []Domain {
	if p := h.live.Load(); p != nil {
		return *p
	}
	return h.Domains
}

// closeIdle closes the idle connections of rt when it can.
func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
