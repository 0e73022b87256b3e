package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/strata-cdn/strata/internal/config"
)

// errNoConfigFile is the reload error of a node started without --config.
var errNoConfigFile = errors.New("the node was started without --config: there is no file to reload")

// edgeReloader re-reads the configuration file on SIGHUP or POST
// /edge/reload and applies its domains (case C01) and certificates (C04,
// C05) to the running edge.
type edgeReloader struct {
	mu   sync.Mutex // one reload at a time; guards edgeTLS.store's publication
	hup  chan os.Signal
	done chan struct{}
}

// ReloadResult is the answer of POST /edge/reload.
type ReloadResult struct {
	Reloaded bool `json:"reloaded"`
	Domains  int  `json:"domains"`
	// Certificates is how many certificates the HTTPS listener serves
	// after the reload (0 without edge.tls_listen).
	Certificates int `json:"certificates"`
	// CertificatesLoaded names the certificates (domains[i].tls) read from
	// new or changed files; the others were unchanged and keep their OCSP
	// staples.
	CertificatesLoaded []string `json:"certificates_loaded,omitempty"`
	// Note says what a reload does not apply.
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

const reloadNote = "domains (origins, origin hosts, cache rules, ranges, health checks) apply to the next request and TLS certificates (domains[].tls, edge.tls_roots) to the next handshake, all or nothing; listeners (edge.tls_listen too), the cache and edge.parents need a restart"

// ReloadEdge re-reads the configuration file and replaces the edge's
// domains and certificates (see Reload). It returns the number of domains.
func (d *Daemon) ReloadEdge() (int, error) {
	res, err := d.Reload(context.Background())
	return res.Domains, err
}

// Reload re-reads the configuration file and applies its domains and its
// TLS certificates, all or nothing: the file, every domain and every
// certificate file are checked first (the same checks as at start: a chain
// missing an intermediate is refused with the missing issuer and the file
// named, C04), and only when all pass are both swapped, atomically.
// Requests in flight finish with the old domains, the next request uses
// the new ones, and idle connections to the old origins are closed so that
// an origin change takes effect at once (C01). Handshakes after the reload
// get the new certificates; established connections keep theirs and are
// not closed. New certificates get their OCSP staples in the background
// (C05); the refreshers of certificates no longer served stop. An invalid
// file or certificate changes nothing. ctx bounds complete_chain fetches.
func (d *Daemon) Reload(ctx context.Context) (ReloadResult, error) {
	if d.opts.ConfigPath == "" {
		return ReloadResult{}, errNoConfigFile
	}
	d.reload.mu.Lock()
	defer d.reload.mu.Unlock()
	cfg, err := config.LoadFile(d.opts.ConfigPath)
	if err != nil {
		return ReloadResult{}, fmt.Errorf("reload %s: %w", d.opts.ConfigPath, err)
	}
	domains, err := d.edgeDomains(cfg.Domains)
	if err != nil {
		return ReloadResult{}, fmt.Errorf("reload %s: %w", d.opts.ConfigPath, err)
	}
	certs, err := d.tls.prepareReload(ctx, cfg)
	if err != nil {
		return ReloadResult{}, fmt.Errorf("reload %s: %w", d.opts.ConfigPath, err)
	}
	// Everything checked: apply both.
	d.edge.SetDomains(domains)
	res := ReloadResult{Reloaded: true, Domains: len(domains)}
	if certs != nil {
		a := certs.Apply()
		res.Certificates, res.CertificatesLoaded = a.Certificates, a.Loaded
		if a.Dropped > 0 || len(a.Loaded) > 0 {
			d.log.Info("tls certificates reloaded", "service", "tls", "certificates", a.Certificates,
				"loaded", a.Loaded, "dropped", a.Dropped)
		}
	}
	if cfg.Edge.TLSListen != d.tls.listen {
		d.log.Warn("edge.tls_listen changed in the file; the HTTPS listener changes at the next restart",
			"config", d.opts.ConfigPath, "running", d.tls.listen, "file", cfg.Edge.TLSListen)
	}
	d.log.Info("edge domains reloaded", "config", d.opts.ConfigPath, "domains", len(domains),
		"certificates", res.Certificates, "certificates_loaded", res.CertificatesLoaded)
	return res, nil
}

// startReload serves POST /edge/reload and reloads on SIGHUP.
func (d *Daemon) startReload() {
	d.admin.Mount("POST /edge/reload", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := d.Reload(r.Context())
		res.Note = reloadNote
		code := http.StatusOK
		switch {
		case errors.Is(err, errNoConfigFile):
			res.Error, code = err.Error(), http.StatusConflict
		case err != nil:
			res.Error, code = err.Error(), http.StatusUnprocessableEntity
			d.log.Error("POST /edge/reload: configuration not reloaded; the edge keeps its domains and certificates", "err", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(res)
	}))
	if d.opts.ConfigPath == "" {
		return
	}
	d.reload.hup = make(chan os.Signal, 1)
	d.reload.done = make(chan struct{})
	signal.Notify(d.reload.hup, syscall.SIGHUP)
	go func() {
		defer close(d.reload.done)
		for range d.reload.hup {
			if _, err := d.Reload(context.Background()); err != nil {
				d.log.Error("SIGHUP: configuration not reloaded; the edge keeps its domains and certificates", "err", err)
			}
		}
	}()
}

// stopReload ends the SIGHUP watch (before the edge closes).
func (d *Daemon) stopReload() {
	if d.reload.hup == nil {
		return
	}
	signal.Stop(d.reload.hup)
	close(d.reload.hup)
	<-d.reload.done
	d.reload.hup = nil
}
