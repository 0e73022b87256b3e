package daemon

import (
	"fmt"
	"net/url"

	"github.com/strata-cdn/strata/internal/config"
	"github.com/strata-cdn/strata/internal/edge"
)

// edgeParents parses edge.parents (validated already).
func edgeParents(c config.Edge) ([]*url.URL, error) {
	out := make([]*url.URL, 0, len(c.Parents))
	for i, s := range c.Parents {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("edge.parents[%d]: %w", i, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// edgeOrigins sets a domain's further origins and health check from its
// configuration.
func edgeOrigins(i int, cd config.Domain, d *edge.Domain) error {
	for j, s := range cd.Origins {
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("domains[%d].origins[%d]: %w", i, j, err)
		}
		d.Origins = append(d.Origins, u)
	}
	if hc := cd.HealthCheck; hc.Path != "" {
		d.HealthCheck = &edge.HealthCheck{Path: hc.Path, Interval: hc.Interval.D(), Timeout: hc.Timeout.D()}
	}
	return nil
}
