package config

import "fmt"

// HealthCheck probes each origin of a domain actively (docs/config.md): a
// GET of Path every Interval; an origin that does not answer 2xx or 3xx
// within Timeout is skipped until a probe passes again. An empty Path turns
// the checks off.
type HealthCheck struct {
	Path     string   `yaml:"path"`
	Interval Duration `yaml:"interval"`
	Timeout  Duration `yaml:"timeout"`
}

// edgeTiers checks edge.parents and the domains' origins and health checks.
func (p *problems) edgeTiers(c *Config) {
	seen := map[string]int{}
	for i, s := range c.Edge.Parents {
		path := fmt.Sprintf("edge.parents[%d]", i)
		p.origin(path, s)
		if j, dup := seen[s]; dup {
			p.add(path, "%q is also edge.parents[%d]; list each parent once", s, j)
		}
		seen[s] = i
	}
	if c.Edge.ParentsFallbackOrigin && len(c.Edge.Parents) == 0 {
		p.add("edge.parents_fallback_origin", "is set but edge.parents is empty; list the parent edges or drop the key")
	}
	for i, d := range c.Domains {
		path := fmt.Sprintf("domains[%d]", i)
		for j, o := range d.Origins {
			p.origin(fmt.Sprintf("%s.origins[%d]", path, j), o)
			if o == d.Origin {
				p.add(fmt.Sprintf("%s.origins[%d]", path, j), "%q is the domain's origin already; origins lists the further ones", o)
			}
		}
		hc := d.HealthCheck
		switch {
		case hc.Path == "" && (hc.Interval != 0 || hc.Timeout != 0):
			p.add(path+".health_check.path", "must be set when interval or timeout is, e.g. \"/healthz\"")
		case hc.Path != "" && hc.Path[0] != '/':
			p.add(path+".health_check.path", "%q must start with \"/\"", hc.Path)
		}
		if hc.Interval < 0 {
			p.add(path+".health_check.interval", "must not be negative; 0 = 10s")
		}
		if hc.Timeout < 0 {
			p.add(path+".health_check.timeout", "must not be negative; 0 = 5s")
		}
		if hc.Interval > 0 && hc.Timeout > hc.Interval {
			p.add(path+".health_check.timeout", "%v is longer than the interval %v", hc.Timeout.D(), hc.Interval.D())
		}
	}
}
