package edge

import "net/http"

// protocolPolicy applies the domain's request-level policies before the
// cache is consulted: a CORS preflight is answered at the edge, a GET or
// HEAD body is discarded or refused (C11), an upload is held to the
// domain's limit (C25), and an Upgrade is proxied (C02). It reports false
// when it has answered the request.
func (x *exchange) protocolPolicy() bool {
	r := x.r
	if isPartialUpgrade(r) {
		x.h.log.Info("edge: upgrade fields incomplete", "handled", "plain",
			"upgrade", r.Header.Get("Upgrade"), "connection", r.Header.Get("Connection"), "request", x.id)
	}
	switch {
	case x.dom.CORS != nil && isPreflight(r):
		x.servePreflight()
		return false
	case isUpgrade(r):
		x.serveUpgrade()
		return false
	}
	x.limitClient() // timeouts.go
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return x.discardSafeBody()
	}
	return x.limitUpload()
}

// isPartialUpgrade reports a request with an Upgrade field that Connection
// does not name, or a Connection: upgrade without Upgrade: a proxy on the
// way kept one and dropped the other, so it is served as a plain request
// and the log says so (C02).
func isPartialUpgrade(r *http.Request) bool {
	return !isUpgrade(r) && (r.Header.Get("Upgrade") != "" || headerHasTokenFold(r.Header, "Connection", "upgrade"))
}
