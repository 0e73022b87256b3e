// Package daemon is Strata's composition root: it builds the services from a
// config.Config, owns their listeners, starts them, reports readiness, and
// shuts them down gracefully.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/strata-cdn/strata/internal/admin"
	"github.com/strata-cdn/strata/internal/cachestore"
	"github.com/strata-cdn/strata/internal/cluster"
	"github.com/strata-cdn/strata/internal/config"
	"github.com/strata-cdn/strata/internal/edge"
	"github.com/strata-cdn/strata/internal/objstore"
	"github.com/strata-cdn/strata/internal/s3api"
)

// Options are what the daemon needs besides the configuration file.
type Options struct {
	// Logger receives the daemon's and the services' logs. Nil means discard.
	Logger *slog.Logger
	// AccessKey and SecretKey are the S3 credential pair. Required.
	AccessKey, SecretKey string
	// Version is reported in metrics.
	Version string
	// ConfigPath is the configuration file, re-read by SIGHUP and POST
	// /edge/reload to apply changed domains (edge_reload.go). Empty: no
	// reload.
	ConfigPath string
}

// Daemon runs every service of one Strata node.
type Daemon struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger

	store     *objstore.Store
	lifecycle *objstore.Lifecycle
	cache     *cachestore.Store
	edge      *edge.Handler
	accessLog *accessLog // the edge's access log, closed after the edge (edge.go)
	admin     *admin.Handler
	live      *liveService
	reg       *prometheus.Registry
	servers   []*server
	tls       edgeTLS // the HTTPS listener's certificates (tls.go)

	reload  edgeReloader         // SIGHUP and POST /edge/reload (edge_reload.go)
	cluster *cluster.Coordinator // cluster purge and prefetch (cluster.go)

	wg sync.WaitGroup // one per serving goroutine
}

// server is one listener and the HTTP server on it.
type server struct {
	name string
	ln   net.Listener
	srv  *http.Server
	// https makes the start-up log give https:// addresses.
	https bool
}

// New builds a daemon from cfg. It opens nothing yet; Start does.
func New(cfg *config.Config, opts Options) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.AccessKey == "" || opts.SecretKey == "" {
		return nil, errors.New("daemon: an S3 access key and secret key are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "strata_build_info",
			Help:        "Always 1; labels name the build and the node.",
			ConstLabels: prometheus.Labels{"version": opts.Version, "node_id": cfg.NodeID},
		}, func() float64 { return 1 }),
	)
	return &Daemon{
		cfg:   cfg,
		opts:  opts,
		log:   log,
		reg:   reg,
		admin: &admin.Handler{Gatherer: reg, NodeID: cfg.NodeID},
	}, nil
}

// Start opens the store, binds every listener, and serves. When it returns
// nil, every listener accepts connections and /healthz answers 200. On
// error, everything already started is stopped.
func (d *Daemon) Start(ctx context.Context) (err error) {
	d.admin.SetNotReady("starting")
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	st, err := objstore.Open(d.cfg.DataDir, objstore.Options{
		MaxObjectSize: int64(d.cfg.S3.MaxObjectSize),
		MinPartSize:   int64(d.cfg.S3.MinPartSize),
		LifecycleDay:  d.cfg.S3.LifecycleDay.D(),
		InlineMax:     inlineMax(d.cfg.S3.InlineMax),
		Logger:        d.log.With("service", "objstore"),
	})
	if err != nil {
		return fmt.Errorf("open object store in %s: %w", d.cfg.DataDir, err)
	}
	d.store = st
	if err := d.ensureBuckets(ctx); err != nil {
		return err
	}
	d.startLifecycle()

	metrics := newHTTPMetrics(d.reg)
	s3h := &s3api.Handler{
		Store:       st,
		Credentials: d.credentials,
		Region:      d.cfg.S3.Region,
		NodeID:      d.cfg.NodeID,
		Domains:     d.cfg.S3.Domains,
		SendTimeout: d.cfg.S3.SendTimeout.D(),
		MinSendRate: int64(d.cfg.S3.MinSendRate),
		Logger:      d.log.With("service", "s3"),
		Callback:    callbackOptions(d.cfg.S3.Callback),
	}
	// Bind every listener before serving any, so a port conflict fails the
	// start as a whole. The edge is built after the S3 listener is bound:
	// with no domains configured, its origin is that listener.
	listeners := []struct {
		name, addr string
		h          http.Handler
	}{
		{"s3", d.cfg.S3.Listen, metrics.wrap("s3", s3h)},
		{"admin", d.cfg.Admin.Listen, d.admin},
		{"edge", d.cfg.Edge.Listen, nil},
	}
	for i, l := range listeners {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return fmt.Errorf("%s listener: %w (set a free address with --%s-addr or %s.listen)", l.name, err, l.name, l.name)
		}
		ln = clientListener{Listener: ln, log: d.log}
		if l.name == "edge" {
			if err := d.startEdge(); err != nil {
				ln.Close()
				return err
			}
			listeners[i].h = metrics.wrap("edge", d.edge)
		}
		d.servers = append(d.servers, &server{name: l.name, ln: ln, srv: &http.Server{
			Handler:           listeners[i].h,
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(d.log.With("service", l.name).Handler(), slog.LevelWarn),
		}})
	}
	if err := d.startEdgeTLS(ctx, metrics); err != nil {
		return err
	}
	if err := d.startLive(metrics); err != nil {
		return err
	}
	d.startCluster() // cluster.go: after the admin listener is bound
	for _, s := range d.servers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.log.Error("listener stopped", "service", s.name, "addr", s.ln.Addr().String(), "err", err)
			}
		}()
		if s.https {
			logHTTPSListener(d.log, s.name, s.ln.Addr())
		} else {
			logListener(d.log, s.name, s.ln.Addr())
		}
	}
	d.admin.SetReady()
	d.log.Info("strata is ready", "node_id", d.cfg.NodeID, "data_dir", d.cfg.DataDir)
	return nil
}

// Addr returns the bound address of the named listener ("s3", "admin",
// "edge", "live", "rtmp"), or nil before Start.
func (d *Daemon) Addr(name string) net.Addr {
	if name == "rtmp" {
		return d.rtmpAddr()
	}
	for _, s := range d.servers {
		if s.name == name {
			return s.ln.Addr()
		}
	}
	return nil
}

// Shutdown stops accepting connections, lets in-flight requests finish until
// ctx is done, then closes the rest and the store. It waits for every
// goroutine the daemon started.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.admin.SetNotReady("shutting down")
	d.stopLive() // ends publishes, so HTTP-FLV responses finish
	var errs []error
	for _, s := range d.servers {
		if err := s.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
			s.srv.Close()
		}
	}
	d.wg.Wait()
	d.closeEngines()
	return errors.Join(errs...)
}

// close stops whatever a failed Start had begun.
func (d *Daemon) close() {
	d.stopLive()
	for _, s := range d.servers {
		s.srv.Close()
		s.ln.Close()
	}
	d.wg.Wait()
	d.servers = nil
	d.closeEngines()
}

// closeEngines closes the edge (waiting for its background fetches), the
// cache and the store, in that order.
func (d *Daemon) closeEngines() {
	d.stopReload()
	d.stopCluster() // cluster.go
	d.tls.close()
	if d.edge != nil {
		d.edge.Close()
		d.edge = nil
	}
	d.closeAccessLog()
	if d.cache != nil {
		if err := d.cache.Close(); err != nil {
			d.log.Error("close edge cache", "err", err)
		}
		d.cache = nil
	}
	if d.lifecycle != nil {
		if err := d.lifecycle.Close(); err != nil {
			d.log.Error("stop lifecycle", "err", err)
		}
		d.lifecycle = nil
	}
	if d.store != nil {
		if err := d.store.Close(); err != nil {
			d.log.Error("close object store", "err", err)
		}
		d.store = nil
	}
}

func (d *Daemon) credentials(accessKey string) (string, bool) {
	if accessKey == d.opts.AccessKey {
		return d.opts.SecretKey, true
	}
	return "", false
}

// ensureBuckets creates the buckets the configuration declares.
func (d *Daemon) ensureBuckets(ctx context.Context) error {
	for i, b := range d.cfg.S3.Buckets {
		err := d.store.CreateBucket(ctx, b.Name)
		if err != nil && !errors.Is(err, objstore.ErrBucketExists) {
			return fmt.Errorf("s3.buckets[%d]: create bucket %q: %w", i, b.Name, err)
		}
		if err := d.store.SetBucketPublicRead(ctx, b.Name, b.PublicRead); err != nil {
			return fmt.Errorf("s3.buckets[%d]: set access of bucket %q: %w", i, b.Name, err)
		}
	}
	return nil
}

// callbackOptions maps s3.callback onto the S3 handler's callback limits:
// without deny_networks, s3api.DefaultCallbackDeny.
func callbackOptions(c config.S3Callback) s3api.CallbackOptions {
	var o s3api.CallbackOptions
	o.Deny = s3api.DefaultCallbackDeny
	if c.DenyNetworks != nil {
		o.Deny, _, _ = config.Prefixes(c.DenyNetworks) // validated at load
	}
	o.Allow, _, _ = config.Prefixes(c.AllowNetworks)
	return o
}

// inlineMax maps s3.inline_max onto objstore.Options.InlineMax, where 0
// means the default and a negative value turns inlining off.
func inlineMax(v config.ByteSize) int64 {
	if v == 0 {
		return -1
	}
	return int64(v)
}
