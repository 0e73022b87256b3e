package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/config"
	"github.com/strata-cdn/strata/internal/tlsstore"
)

// edgeTLS is the edge's HTTPS side: the certificates served on
// edge.tls_listen. store is nil when no HTTPS listener is configured; it is
// set once at start (under the reload lock) and its served set is swapped
// by reloads (edge_reload.go).
type edgeTLS struct {
	store  *tlsstore.Store
	listen string // edge.tls_listen as started: a reload cannot move it
}

// tlsStatus is the body of GET /edge/tls on the admin listener.
type tlsStatus struct {
	// Listen is the HTTPS listener's bound address; empty when there is
	// none.
	Listen       string                `json:"listen"`
	Certificates []tlsstore.CertStatus `json:"certificates"`
}

// startEdgeTLS loads the domains' certificates and binds the edge's HTTPS
// listener, serving the edge handler over HTTP/2 and HTTP/1.1. A chain
// that does not verify without fetching intermediates fails the start with
// the missing issuer named (case C04). It runs after the edge is built;
// the server is appended to d.servers and served with them. GET /edge/tls
// on the admin listener reports chains and OCSP staple status (case C05).
func (d *Daemon) startEdgeTLS(ctx context.Context, metrics *httpMetrics) error {
	d.admin.Mount("GET /edge/tls", http.HandlerFunc(d.serveTLSStatus))
	ec := d.cfg.Edge
	if ec.TLSListen == "" {
		return nil
	}
	roots, err := tlsRoots(ec.TLSRoots)
	if err != nil {
		return err
	}
	st, err := tlsstore.Load(ctx, tlsSpecs(d.cfg), tlsstore.Options{Roots: roots, Logger: d.log.With("service", "tls")})
	if err != nil {
		return err // names the key path, the file and the fix
	}
	// A SIGHUP may already be handled (startReload runs first): publish
	// the store under the lock reloads take.
	d.reload.mu.Lock()
	d.tls.store, d.tls.listen = st, ec.TLSListen
	d.reload.mu.Unlock()
	ln, err := net.Listen("tcp", ec.TLSListen)
	if err != nil {
		return fmt.Errorf("edge-tls listener: %w (set a free address with edge.tls_listen)", err)
	}
	cfg := &tls.Config{
		// The store swaps its certificate set atomically on reload: each
		// handshake reads the set current when it starts.
		GetCertificate: st.GetCertificate,
		// RFC 7540 §3.3: h2 is negotiated by ALPN; http.Server serves it on
		// a listener of *tls.Conn whose config offers it.
		NextProtos: []string{"h2", "http/1.1"},
		MinVersion: tls.VersionTLS12,
	}
	d.servers = append(d.servers, &server{
		name:  "edge-tls",
		https: true,
		ln:    tls.NewListener(clientListener{Listener: ln, log: d.log}, cfg),
		srv: &http.Server{
			Handler:           metrics.wrap("edge-tls", d.edge),
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(d.log.With("service", "edge-tls").Handler(), slog.LevelWarn),
			HTTP2: &http.HTTP2Config{
				// Advertise the protocol's initial SETTINGS_MAX_FRAME_SIZE
				// (RFC 9113 §6.5.2) instead of Go's 1 MiB: a client then
				// gets FRAME_SIZE_ERROR for a larger frame (§4.2, h2spec
				// http2/4.2/3) and one frame never needs more than 16 KiB
				// of buffer. Responses and browsers use 16 KiB frames
				// anyway.
				MaxReadFrameSize: 16 << 10,
			},
		},
	})
	return nil
}

// tlsRoots reads edge.tls_roots; "" means the system roots (nil).
func tlsRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("edge.tls_roots: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("edge.tls_roots: %s holds no PEM certificate", path)
	}
	return roots, nil
}

// tlsSpecs lists the certificates of cfg's domains, named by key path.
func tlsSpecs(cfg *config.Config) []tlsstore.Spec {
	var specs []tlsstore.Spec
	for i, cd := range cfg.Domains {
		if !cd.TLS.Enabled() {
			continue
		}
		specs = append(specs, tlsstore.Spec{
			Name:          fmt.Sprintf("domains[%d].tls", i),
			Hosts:         []string{strings.ToLower(cd.Host)},
			CertFile:      cd.TLS.Cert,
			KeyFile:       cd.TLS.Key,
			CompleteChain: cd.TLS.CompleteChain,
		})
	}
	return specs
}

// prepareReload loads and checks cfg's certificates as startEdgeTLS does,
// serving nothing new yet: the caller applies the update together with the
// domains, or neither. It returns a nil update when the node has no HTTPS
// listener (edge.tls_listen is bound at start only). Called with the reload
// lock held.
func (t *edgeTLS) prepareReload(ctx context.Context, cfg *config.Config) (*tlsstore.Update, error) {
	if t.store == nil {
		return nil, nil
	}
	specs := tlsSpecs(cfg)
	if len(specs) == 0 {
		return nil, fmt.Errorf("edge.tls_listen: the HTTPS listener on %s runs until a restart and needs a certificate; keep a domain's tls, or restart to remove the listener", t.listen)
	}
	roots, err := tlsRoots(cfg.Edge.TLSRoots)
	if err != nil {
		return nil, err
	}
	return t.store.Prepare(ctx, specs, roots)
}

// serveTLSStatus answers GET /edge/tls.
func (d *Daemon) serveTLSStatus(w http.ResponseWriter, r *http.Request) {
	body := tlsStatus{Certificates: []tlsstore.CertStatus{}}
	if d.tls.store != nil {
		body.Certificates = d.tls.store.Status()
		if a := d.Addr("edge-tls"); a != nil {
			body.Listen = a.String()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}

// close stops the OCSP refreshes; certificates stay loaded.
func (t *edgeTLS) close() {
	if t.store != nil {
		t.store.Close()
	}
}

// logHTTPSListener is logListener for an HTTPS listener: the same
// addresses (case C20), reached with https://.
func logHTTPSListener(log *slog.Logger, name string, addr net.Addr) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		log.Info("listening", "service", name, "addr", addr.String())
		return
	}
	if !tcp.IP.IsUnspecified() {
		log.Info("listening", "service", name, "addr", tcp.String(), "reach", "https://"+tcp.String())
		return
	}
	urls := reachable(tcp.Port)
	for i, u := range urls {
		urls[i] = "https://" + strings.TrimPrefix(u, "http://")
	}
	log.Info("listening on every address", "service", name, "addr", tcp.String(), "reach", strings.Join(urls, " "))
}
