// Package admin serves the admin API: /healthz (200 once every listener is
// up), /metrics in the Prometheus text format, /debug/pprof/ for profiling,
// and the routes other services mount on it (the edge's purge and prefetch
// tasks under /edge/). It listens separately from client traffic.
package admin

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the admin endpoints.
type Handler struct {
	// Gatherer supplies /metrics. If nil, prometheus.DefaultGatherer is used.
	Gatherer prometheus.Gatherer
	// NodeID appears in the Server header.
	NodeID string

	ready   atomic.Bool
	pending atomic.Value // string: why the node is not ready yet
	mux     http.ServeMux
	built   atomic.Bool
}

// SetReady marks the node ready: /healthz answers 200 from now on.
func (h *Handler) SetReady() { h.ready.Store(true) }

// SetNotReady makes /healthz answer 503 with reason, as during start-up
// and shutdown.
func (h *Handler) SetNotReady(reason string) {
	h.pending.Store(reason)
	h.ready.Store(false)
}

func (h *Handler) routes() {
	g := h.Gatherer
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	h.mux.HandleFunc("/debug/pprof/", pprof.Index)
	h.mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	h.mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	h.mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	h.mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// Mount serves pattern (a net/http.ServeMux pattern such as "/edge/") with
// handler on the admin listener, so a service adds its admin routes without
// this package knowing it. It may be called at any time; a pattern that
// conflicts with another panics, as ServeMux.Handle does.
func (h *Handler) Mount(pattern string, handler http.Handler) {
	h.mux.Handle(pattern, handler)
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !h.ready.Load() {
		reason, _ := h.pending.Load().(string)
		if reason == "" {
			reason = "starting"
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", reason)
		return
	}
	fmt.Fprintln(w, "ok")
}

// ServeHTTP serves the admin API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.built.CompareAndSwap(false, true) {
		h.routes()
	}
	w.Header().Set("Server", "Strata/"+h.NodeID)
	h.mux.ServeHTTP(w, r)
}
