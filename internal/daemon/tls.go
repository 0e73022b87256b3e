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

	"github.com/strata-cdn/strata/internal/tlsstore"
)

// edgeTLS is the edge's HTTPS side: the certificates served on
// edge.tls_listen. store is nil when no HTTPS listener is configured.
type edgeTLS struct {
	store *tlsstore.Store
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
	var roots *x509.CertPool // nil: the system roots
	if ec.TLSRoots != "" {
		b, err := os.ReadFile(ec.TLSRoots)
		if err != nil {
			return fmt.Errorf("edge.tls_roots: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return fmt.Errorf("edge.tls_roots: %s holds no PEM certificate", ec.TLSRoots)
		}
	}
	var specs []tlsstore.Spec
	for i, cd := range d.cfg.Domains {
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
	st, err := tlsstore.Load(ctx, specs, tlsstore.Options{Roots: roots, Logger: d.log.With("service", "tls")})
	if err != nil {
		return err // names the key path, the file and the fix
	}
	d.tls.store = st
	ln, err := net.Listen("tcp", ec.TLSListen)
	if err != nil {
		return fmt.Errorf("edge-tls listener: %w (set a free address with edge.tls_listen)", err)
	}
	cfg := &tls.Config{
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
		},
	})
	return nil
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
