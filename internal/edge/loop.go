package edge

import (
	"net/http"
	"strings"
)

// isLoop reports whether a request has already passed through this node:
// its Via names the node as a recipient (RFC 9110 §7.6.3) or its CDN-Loop
// names it (RFC 8586 §2). Such a request would circle between the edge and
// an origin that routes back to it (C06).
func (h *Handler) isLoop(hdr http.Header) bool {
	for _, line := range hdr.Values("Via") {
		for _, elem := range strings.Split(line, ",") {
			// Via element: received-protocol RWS received-by [ RWS comment ]
			f := strings.Fields(elem)
			if len(f) >= 2 && strings.EqualFold(f[1], h.nodeID) {
				return true
			}
		}
	}
	for _, line := range hdr.Values("Cdn-Loop") {
		for _, elem := range strings.Split(line, ",") {
			// CDN-Loop element: cdn-id *( OWS ";" OWS cdn-info )
			id, _, _ := strings.Cut(elem, ";")
			if strings.EqualFold(strings.TrimSpace(id), h.nodeID) {
				return true
			}
		}
	}
	return false
}
