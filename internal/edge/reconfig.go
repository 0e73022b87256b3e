package edge

import (
	"net/http"
)

// SetDomains replaces the domains the Handler serves, atomically: a request
// already routed finishes with the domain it found, the next one uses the
// new list. It is how a configuration reload changes a domain's origin
// without a restart, and the change takes effect at once (case C01): the
// idle connections of the origin transport are closed, so no request is
// sent on a connection to the old origin's address, and the next fetch
// dials afresh, which resolves the origin's name again (net.Dialer resolves
// on every dial; Strata keeps no DNS cache of its own, so an answer lives
// no longer than the system resolver keeps it, which honours its TTL).
// Health checks (health.go) restart for the new origins.
func (h *Handler) SetDomains(ds []Domain) {
	h.init()
	ds = append([]Domain(nil), ds...)
	h.live.Store(&ds)
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
