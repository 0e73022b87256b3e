package daemon

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-cdn/strata/internal/cachestore"
	"github.com/strata-cdn/strata/internal/config"
	"github.com/strata-cdn/strata/internal/edge"
	"github.com/strata-cdn/strata/internal/resolve"
)

// startEdge opens the edge cache and builds the edge handler. It runs after
// the S3 listener is bound, whose address is the default origin.
func (d *Daemon) startEdge() error {
	c := d.cfg.Edge.Cache
	dir := c.Dir
	if dir == "" {
		dir = filepath.Join(d.cfg.DataDir, "cache")
	}
	cache, err := cachestore.Open(cachestore.Options{
		Dir:          dir,
		MemoryBytes:  int64(c.Memory),
		DiskBytes:    int64(c.Disk),
		MaxEntrySize: int64(c.MaxEntry),
		Logger:       d.log.With("service", "cache"),
	})
	if err != nil {
		return fmt.Errorf("open edge cache in %s: %w", dir, err)
	}
	d.cache = cache
	spool := filepath.Join(dir, "spool")
	if err := os.MkdirAll(spool, 0o755); err != nil {
		return fmt.Errorf("edge spool directory: %w", err)
	}
	domains, err := d.edgeDomains(d.cfg.Domains)
	if err != nil {
		return err
	}
	if err := d.openAccessLog(); err != nil {
		return err
	}
	parents, err := edgeParents(d.cfg.Edge) // edge_tiers.go
	if err != nil {
		return err
	}
	d.edge = &edge.Handler{
		NodeID:    d.cfg.NodeID,
		Domains:   domains,
		Cache:     cache,
		TempDir:   spool,
		Logger:    d.log.With("service", "edge"),
		AccessLog: d.accessLog.logFunc(),
		// Zero in the file means "stop with the last client", which the
		// Handler spells as a negative bound.
		MaxBackgroundFill: backgroundFill(c.BackgroundFill),
		// Origin and parent names, cached for their DNS TTL (C01).
		Resolver: edgeResolver(d.cfg.Edge.Resolver, d.log),
	}
	d.edge.Parents, d.edge.ParentsFallbackOrigin = parents, d.cfg.Edge.ParentsFallbackOrigin
	// Purge and prefetch tasks, on the admin listener under /edge/; the
	// edge closes them when it closes. Stale marks live beside the cache.
	tasks, err := edge.NewTasks(d.edge, edge.TasksOptions{
		MarksPath: filepath.Join(dir, "stale-marks.json"),
		Logger:    d.log.With("service", "edge-tasks"),
	})
	if err != nil {
		return err
	}
	d.admin.Mount("/edge/", tasks.AdminHandler())
	d.admin.Mount("GET /edge/egress", d.edge.EgressHandler()) // addresses to allow-list (C18)
	// SIGHUP and POST /edge/reload apply a changed file (edge_reload.go).
	d.startReload()
	return nil
}

// edgeDomains translates the configured domains; with none, one domain for
// every host fronts this node's own S3 listener.
func (d *Daemon) edgeDomains(cds []config.Domain) ([]edge.Domain, error) {
	if len(cds) == 0 {
		addr := d.Addr("s3").(*net.TCPAddr)
		host := addr.IP.String()
		if addr.IP.IsUnspecified() {
			host = "127.0.0.1"
		}
		origin := &url.URL{Scheme: "http", Host: net.JoinHostPort(host, fmt.Sprint(addr.Port))}
		return []edge.Domain{{Host: "*", Origin: origin, Range: edge.RangeOn, SliceSize: int64(config.DefaultSliceSize)}}, nil
	}
	out := make([]edge.Domain, 0, len(cds))
	for i, cd := range cds {
		u, err := url.Parse(cd.Origin)
		if err != nil { // validated already; kept for safety
			return nil, fmt.Errorf("domains[%d].origin: %w", i, err)
		}
		rules := make([]edge.CacheRule, 0, len(cd.CacheRules))
		for _, r := range cd.CacheRules {
			rules = append(rules, edge.CacheRule{PathPrefix: r.PathPrefix, Extensions: r.Extensions, TTL: r.TTL.D(), IgnoreVary: r.IgnoreVary})
		}
		out = append(out, edge.Domain{
			Host:       strings.ToLower(cd.Host),
			Origin:     u,
			OriginHost: cd.OriginHost,
			Range:      rangeMode(cd.Range),
			SliceSize:  int64(cd.SliceSize),
			Rules:      rules,
		})
		if err := edgeOrigins(i, cd, &out[len(out)-1]); err != nil { // edge_tiers.go
			return nil, err
		}
		applyDomainRules(cd, &out[len(out)-1]) // edge_rules.go
	}
	return out, nil
}

func rangeMode(s string) edge.RangeMode {
	switch s {
	case "off":
		return edge.RangeOff
	case "force":
		return edge.RangeForce
	}
	return edge.RangeOn
}

// backgroundFill translates edge.cache.background_fill into
// edge.Handler.MaxBackgroundFill, whose zero means its default.
func backgroundFill(b config.ByteSize) int64 {
	if b == 0 {
		return -1
	}
	return int64(b)
}

// edgeResolver builds the resolver of origin and parent names from
// edge.resolver; zero values are the resolver's defaults.
func edgeResolver(c config.EdgeResolver, log *slog.Logger) *resolve.Resolver {
	return &resolve.Resolver{
		Nameservers: c.Nameservers,
		MinTTL:      c.MinTTL.D(),
		MaxTTL:      c.MaxTTL.D(),
		StaleGrace:  c.StaleGrace.D(),
		Logger:      log.With("service", "resolver"),
	}
}
