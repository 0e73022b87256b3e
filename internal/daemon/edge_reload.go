package daemon

import (
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
// /edge/reload and applies its domains to the running edge (case C01).
type edgeReloader struct {
	mu   sync.Mutex // one reload at a time
	hup  chan os.Signal
	done chan struct{}
}

// ReloadResult is the answer of POST /edge/reload.
type ReloadResult struct {
	Reloaded bool `json:"reloaded"`
	Domains  int  `json:"domains"`
	// Note says what a reload does not apply.
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

const reloadNote = "domains (origins, origin hosts, cache rules, ranges, health checks) apply to the next request; listeners, the cache, certificates and edge.parents need a restart"

// ReloadEdge re-reads the configuration file and replaces the edge's
// domains, atomically: requests in flight finish with the old ones, the
// next request uses the new ones, and idle connections to the old origins
// are closed so that an origin change takes effect at once (C01). An
// invalid file changes nothing.
func (d *Daemon) ReloadEdge() (int, error) {
	if d.opts.ConfigPath == "" {
		return 0, errNoConfigFile
	}
	d.reload.mu.Lock()
	defer d.reload.mu.Unlock()
	cfg, err := config.LoadFile(d.opts.ConfigPath)
	if err != nil {
		return 0, fmt.Errorf("reload %s: %w", d.opts.ConfigPath, err)
	}
	domains, err := d.edgeDomains(cfg.Domains)
	if err != nil {
		return 0, fmt.Errorf("reload %s: %w", d.opts.ConfigPath, err)
	}
	d.edge.SetDomains(domains)
	d.log.Info("edge domains reloaded", "config", d.opts.ConfigPath, "domains", len(domains))
	return len(domains), nil
}

// startReload serves POST /edge/reload and reloads on SIGHUP.
func (d *Daemon) startReload() {
	d.admin.Mount("POST /edge/reload", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := d.ReloadEdge()
		res, code := ReloadResult{Reloaded: err == nil, Domains: n, Note: reloadNote}, http.StatusOK
		switch {
		case errors.Is(err, errNoConfigFile):
			res.Error, code = err.Error(), http.StatusConflict
		case err != nil:
			res.Error, code = err.Error(), http.StatusUnprocessableEntity
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
			if _, err := d.ReloadEdge(); err != nil {
				d.log.Error("SIGHUP: configuration not reloaded; the edge keeps its domains", "err", err)
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
