package edge

import (
	"strings"

	"github.com/strata-cdn/strata/internal/cachepolicy"
)

// surrogateProduct is the device token every Strata node answers to in
// Surrogate-Control (";strata"), besides its own node ID: an origin can
// address all its CDN nodes at once or one of them.
const surrogateProduct = "strata"

// edgePolicy returns the caching policy of the edge: Handler.Policy, made a
// surrogate that follows Surrogate-Control (Edge Architecture 1.0; the
// field is consumed here and never passed on to clients) and that does
// not store a response carrying Set-Cookie unless a cache rule says so
// (cachepolicy.Policy.RefuseSetCookie): a CDN must not hand one client's
// cookie to the next.
func (h *Handler) edgePolicy() cachepolicy.Policy {
	p := h.Policy
	if p.SurrogateTargets == nil {
		p.SurrogateTargets = []string{surrogateProduct, h.surrogateToken()}
	}
	p.RefuseSetCookie = true
	return p
}

// surrogateToken is the device token this node advertises in
// Surrogate-Capability: its node ID when that is a token (RFC 9110
// §5.6.2), else "strata".
func (h *Handler) surrogateToken() string {
	id := h.nodeID
	if id == "" {
		return surrogateProduct
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return surrogateProduct
		}
	}
	return id
}

// addSurrogateCapability appends this node's capability to a request header
// bound for the origin (Edge Architecture 1.0 §2.1), after those of the
// surrogates before it.
func (h *Handler) addSurrogateCapability(hd map[string][]string) {
	v := h.surrogateToken() + "=" + cachepolicy.SurrogateCapability
	if prior := hd["Surrogate-Capability"]; len(prior) > 0 {
		v = strings.Join(prior, ", ") + ", " + v
	}
	hd["Surrogate-Capability"] = []string{v}
}
