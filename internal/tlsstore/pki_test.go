package tlsstore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// testPKI is a root CA and an intermediate, generated per test: tests never
// depend on the system roots.
type testPKI struct {
	root, inter       *x509.Certificate
	rootKey, interKey crypto.Signer
	roots             *x509.CertPool // only root
	serial            atomic.Int64
}

// Validity of every test certificate: wide enough to include the fake
// clock of testing/synctest (which starts in 2000) and the real one.
var (
	notBefore = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2199, 1, 1, 0, 0, 0, 0, time.UTC)
)

// interSubject is the intermediate's name as the refusal must print it.
const interSubject = "CN=Example Intermediate CA,O=Example"

// newPKI makes a root and an intermediate. interAIA, when set, is the
// issuer URL written into the intermediate (pointing at the root).
func newPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{}
	p.rootKey = newKey(t)
	p.root = p.sign(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Example Root CA", Organization: []string{"Example"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, p.rootKey.Public(), nil, p.rootKey)
	p.interKey = newKey(t)
	p.inter = p.sign(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Example Intermediate CA", Organization: []string{"Example"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}, p.interKey.Public(), p.root, p.rootKey)
	p.roots = x509.NewCertPool()
	p.roots.AddCert(p.root)
	return p
}

func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sign issues tmpl for pub, signed by parent (self-signed when nil).
func (p *testPKI) sign(t *testing.T, tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(p.serial.Add(1))
	tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// leafOpts shape a leaf certificate.
type leafOpts struct {
	hosts     []string
	ocspURL   string // OCSP responder; none when empty
	issuerURL string // AIA caIssuers; none when empty
}

// leaf issues a server certificate from the intermediate.
func (p *testPKI) leaf(t *testing.T, o leafOpts) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: o.hosts[0]},
		DNSNames:    o.hosts,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if o.ocspURL != "" {
		tmpl.OCSPServer = []string{o.ocspURL}
	}
	if o.issuerURL != "" {
		tmpl.IssuingCertificateURL = []string{o.issuerURL}
	}
	return p.sign(t, tmpl, k.Public(), p.inter, p.interKey), k
}

// writeFiles writes certs (in order) to cert.pem and the key to key.pem
// in a new directory, and returns their paths.
func writeFiles(t *testing.T, key crypto.Signer, certs ...*x509.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	var cb []byte
	for _, c := range certs {
		cb = append(cb, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, cb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// responder is an OCSP responder for the intermediate's certificates.
type responder struct {
	pki      *testPKI
	validity time.Duration // NextUpdate - ThisUpdate; 0 = no NextUpdate
	status   int           // ocsp.Good unless set
	// hang, when not nil, makes every request block until it is closed,
	// after signalling received.
	hang     chan struct{}
	received chan struct{} // gets one value per request, when not nil
	mu       sync.Mutex
	requests int
}

func (r *responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests++
	r.mu.Unlock()
	if r.received != nil {
		select {
		case r.received <- struct{}{}:
		default:
		}
	}
	if r.hang != nil {
		select {
		case <-r.hang:
		case <-req.Context().Done():
		}
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	oreq, err := ocsp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now().Truncate(time.Second)
	tmpl := ocsp.Response{Status: r.status, SerialNumber: oreq.SerialNumber, ThisUpdate: now}
	if r.validity > 0 {
		tmpl.NextUpdate = now.Add(r.validity)
	}
	if r.status == ocsp.Revoked {
		tmpl.RevokedAt, tmpl.RevocationReason = now.Add(-time.Hour), ocsp.KeyCompromise
	}
	der, err := ocsp.CreateResponse(r.pki.inter, r.pki.inter, tmpl, r.pki.interKey)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(der)
}

func (r *responder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// serve runs h on a real socket and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// serveTLS runs an HTTPS server (HTTP/2 and HTTP/1.1) selecting
// certificates from st, as the daemon does, and returns its address.
func serveTLS(t *testing.T, st *Store, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })
	}
	srv := &http.Server{Handler: h}
	cfg := &tls.Config{GetCertificate: st.GetCertificate, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(tls.NewListener(ln, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// handshake connects to addr with SNI serverName, trusting only roots, and
// returns the connection state. Go's client never fetches intermediates,
// like the SDKs of case C04.
func handshake(t *testing.T, addr, serverName string, roots *x509.CertPool) (tls.ConnectionState, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: serverName, NextProtos: []string{"h2", "http/1.1"}}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState(), nil
}

// load loads specs and closes the store when the test ends.
func load(t *testing.T, specs []Spec, opts Options) *Store {
	t.Helper()
	st, err := Load(context.Background(), specs, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}
