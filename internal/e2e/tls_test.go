package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// e2ePKI is a root and an intermediate made for one test; the node trusts
// the root through edge.tls_roots, never the system roots.
type e2ePKI struct {
	root, inter       *x509.Certificate
	rootKey, interKey crypto.Signer
	rootFile          string
	serial            int64
}

func newE2EPKI(t *testing.T) *e2ePKI {
	t.Helper()
	p := &e2ePKI{rootKey: e2eKey(t), interKey: e2eKey(t)}
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{
			Subject: pkix.Name{CommonName: cn, Organization: []string{"Strata E2E"}},
			IsCA:    true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		}
	}
	p.root = p.issue(t, ca("E2E Root CA"), p.rootKey.Public(), nil, p.rootKey)
	p.inter = p.issue(t, ca("E2E Intermediate CA"), p.interKey.Public(), p.root, p.rootKey)
	p.rootFile = filepath.Join(t.TempDir(), "roots.pem")
	writeFile(t, p.rootFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Raw})))
	return p
}

func e2eKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (p *e2ePKI) issue(t *testing.T, tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, key crypto.Signer) *x509.Certificate {
	t.Helper()
	p.serial++
	tmpl.SerialNumber = big.NewInt(p.serial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
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

// leafFiles issues a leaf for host and writes cert.pem (the leaf, then
// withChain's certificates) and key.pem.
func (p *e2ePKI) leafFiles(t *testing.T, host, ocspURL string, withChain ...*x509.Certificate) (certFile, keyFile string, leaf *x509.Certificate) {
	t.Helper()
	k := e2eKey(t)
	tmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IssuingCertificateURL: []string{"http://ca.example.test/inter.crt"},
	}
	if ocspURL != "" {
		tmpl.OCSPServer = []string{ocspURL}
	}
	leaf = p.issue(t, tmpl, k.Public(), p.inter, p.interKey)
	var b bytes.Buffer
	for _, c := range append([]*x509.Certificate{leaf}, withChain...) {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, b.String())
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
	return certFile, keyFile, leaf
}

// ocspResponder answers "good" for every certificate of the intermediate.
func (p *e2ePKI) ocspResponder() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		now := time.Now()
		der, err := ocsp.CreateResponse(p.inter, p.inter, ocsp.Response{
			Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
		}, p.interKey)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(der)
	})
}

// TestEdgeHTTPS_C04_C05: the edge serves a domain over HTTPS with its
// certificate chain, HTTP/2 and an OCSP staple, to a client that trusts
// only the test root and never fetches intermediates; the admin API shows
// the staple.
func TestEdgeHTTPS_C04_C05(t *testing.T) {
	p := newE2EPKI(t)
	responder := httptest.NewServer(p.ocspResponder())
	t.Cleanup(responder.Close)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello over tls")
	}))
	t.Cleanup(origin.Close)
	certFile, keyFile, leaf := p.leafFiles(t, "a.example.test", responder.URL, p.inter)
	n := startNode(t, nodeConfig{
		edgeextra: fmt.Sprintf("  tls_listen: 127.0.0.1:0\n  tls_roots: %s\n", p.rootFile),
		extra:     fmt.Sprintf("domains:\n  - host: a.example.test\n    origin: %s\n    tls: {cert: %s, key: %s}\n", origin.URL, certFile, keyFile),
	})
	if n.EdgeTLS == "" {
		t.Fatalf("the start-up log does not say where the HTTPS listener is:\n%s", n.logText())
	}
	if l := n.logLines("listening"); !strings.Contains(fmt.Sprint(l), "reach:https://") {
		t.Errorf("no listening line gives an https:// address: %v", l)
	}

	// The staple is fetched in the background; wait until the admin API
	// says it is cached.
	var status struct {
		Listen       string
		Certificates []struct {
			Name  string
			Chain []string
			OCSP  struct {
				Status  string
				Stapled bool
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := httpGet(t, n.Admin+"/edge/tls")
		if err := json.Unmarshal([]byte(body), &status); err != nil {
			t.Fatalf("GET /edge/tls: %v: %s", err, body)
		}
		if len(status.Certificates) == 1 && status.Certificates[0].OCSP.Stapled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no staple after 30s; /edge/tls says %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := status.Certificates[0]
	if c.Name != "domains[0].tls" || len(c.Chain) != 2 || c.OCSP.Status != "good" || "https://"+status.Listen != n.EdgeTLS {
		t.Errorf("/edge/tls = %+v, want domains[0].tls with a 2-certificate chain, ocsp good, listen %s", status, n.EdgeTLS)
	}

	roots := x509.NewCertPool()
	roots.AddCert(p.root)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "a.example.test"}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", n.EdgeTLS+"/index.html", nil)
	req.Host = "a.example.test"
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("GET over HTTPS with only the root trusted: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello over tls" {
		t.Errorf("GET: %d %q", resp.StatusCode, body)
	}
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("proto %s, want HTTP/2.0 (ALPN h2)", resp.Proto)
	}
	if len(resp.TLS.PeerCertificates) != 2 {
		t.Errorf("server sent %d certificates, want leaf and intermediate", len(resp.TLS.PeerCertificates))
	}
	if st, err := ocsp.ParseResponseForCert(resp.TLS.OCSPResponse, leaf, p.inter); err != nil || st.Status != ocsp.Good {
		t.Errorf("OCSP staple in the handshake: %v (%d bytes), want a good response (C05)", err, len(resp.TLS.OCSPResponse))
	}
}

// TestEdgeHTTPSRefusesLeafOnly_C04: a certificate file without its
// intermediate stops the start with exit status 1 and a message that
// names the missing issuer and the fix.
func TestEdgeHTTPSRefusesLeafOnly_C04(t *testing.T) {
	p := newE2EPKI(t)
	certFile, keyFile, _ := p.leafFiles(t, "a.example.test", "")
	cfgPath := filepath.Join(t.TempDir(), "strata.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`node_id: e2e-node
data_dir: %s
log: {level: info, format: text}
s3: {listen: 127.0.0.1:0}
admin: {listen: 127.0.0.1:0}
edge: {listen: 127.0.0.1:0, tls_listen: 127.0.0.1:0, tls_roots: %s}
live: {rtmp_listen: 127.0.0.1:0, http_listen: 127.0.0.1:0}
domains:
  - host: www.example.test
    origin: http://127.0.0.1:1
  - host: a.example.test
    origin: http://127.0.0.1:1
    tls: {cert: %s, key: %s}
`, t.TempDir(), p.rootFile, certFile, keyFile))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, strataBin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "STRATA_ACCESS_KEY="+testAccessKey, "STRATA_SECRET_KEY="+testSecretKey)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("strata serve: %v, want exit status 1; stderr:\n%s", err, stderr.String())
	}
	for _, want := range []string{
		`domains[1].tls.cert: chain does not verify without intermediates: missing issuer \"CN=E2E Intermediate CA,O=Strata E2E\"`,
		"after the leaf, or set complete_chain: true to fetch it from http://ca.example.test/inter.crt",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr.String())
		}
	}
}

// TestEdgeTLSStatusWithoutHTTPS: without edge.tls_listen, no HTTPS
// listener is bound and /edge/tls says so.
func TestEdgeTLSStatusWithoutHTTPS(t *testing.T) {
	n := startNode(t, nodeConfig{})
	if n.EdgeTLS != "" {
		t.Errorf("an HTTPS listener was bound without edge.tls_listen: %s", n.EdgeTLS)
	}
	resp, body := httpGet(t, n.Admin+"/edge/tls")
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /edge/tls: %d %v %s", resp.StatusCode, err, body)
	}
	if got["listen"] != "" || fmt.Sprint(got["certificates"]) != "[]" {
		t.Errorf("/edge/tls = %s, want no listener and no certificates", body)
	}
}

// copyFile replaces dst's contents with src's, as a certificate renewal
// rewrites the configured files in place.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, string(b))
}

// waitLog waits until the node has logged count lines whose msg starts
// with prefix. The log is collected by the harness as the process writes
// it; this waits for that event, bounded by a generous safety net.
func waitLog(t *testing.T, n *node, prefix string, count int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if l := n.logLines(prefix); len(l) >= count {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q log line within 30s; log:\n%s", prefix, n.logText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tlsClient is an HTTPS client of the edge trusting only the test root;
// each tlsClient has its own connections.
type tlsClient struct {
	tr  *http.Transport
	url string
}

func newTLSClient(t *testing.T, p *e2ePKI, base string) *tlsClient {
	roots := x509.NewCertPool()
	roots.AddCert(p.root)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "a.example.test"}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &tlsClient{tr: tr, url: base}
}

// get fetches path and returns the body, the leaf serial the connection
// was set up with, whether the connection was reused, and the staple.
func (c *tlsClient) get(t *testing.T, path string) (body, serial string, reused bool, staple []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }})
	req, _ := http.NewRequestWithContext(ctx, "GET", c.url+path, nil)
	req.Host = "a.example.test"
	resp, err := (&http.Client{Transport: c.tr}).Do(req)
	if err != nil {
		t.Fatalf("GET %s over HTTPS: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" {
		t.Fatalf("GET %s: %d %s %q", path, resp.StatusCode, resp.Proto, b)
	}
	return string(b), resp.TLS.PeerCertificates[0].SerialNumber.Text(16), reused, resp.TLS.OCSPResponse
}

// postReload asks the node to reload and returns the status and answer.
func postReload(t *testing.T, n *node) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(n.Admin+"/edge/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatalf("POST /edge/reload: %d, body not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, res
}

// TestEdgeHTTPSReloadRotates_C04_C05: a certificate renewed on disk is
// served to new handshakes after SIGHUP, with its own OCSP staple fetched
// in the background, while a connection opened before the reload goes on
// with the old one. A broken replacement (no intermediate) together with a
// domain change is refused as a whole by POST /edge/reload, naming the
// missing issuer and the file: the renewed certificate and the old origin
// stay.
func TestEdgeHTTPSReloadRotates_C04_C05(t *testing.T) {
	p := newE2EPKI(t)
	responder := httptest.NewServer(p.ocspResponder())
	t.Cleanup(responder.Close)
	mkOrigin := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, name)
		}))
		t.Cleanup(s.Close)
		return s
	}
	o1, o2 := mkOrigin("one"), mkOrigin("two")
	certFile, keyFile, leaf1 := p.leafFiles(t, "a.example.test", responder.URL, p.inter)
	n := startNode(t, nodeConfig{
		edgeextra: fmt.Sprintf("  tls_listen: 127.0.0.1:0\n  tls_roots: %s\n", p.rootFile),
		extra:     fmt.Sprintf("domains:\n  - host: a.example.test\n    origin: %s\n    tls: {cert: %s, key: %s}\n", o1.URL, certFile, keyFile),
	})
	if n.EdgeTLS == "" {
		t.Fatalf("no HTTPS listener in the start-up log:\n%s", n.logText())
	}
	before := newTLSClient(t, p, n.EdgeTLS)
	if body, serial, _, _ := before.get(t, "/x"); body != "one" || serial != leaf1.SerialNumber.Text(16) {
		t.Fatalf("before the reload: %q from serial %s, want one from %s", body, serial, leaf1.SerialNumber.Text(16))
	}

	// Renew: a new leaf (new key) in the same files, then SIGHUP.
	cf2, kf2, leaf2 := p.leafFiles(t, "a.example.test", responder.URL, p.inter)
	copyFile(t, cf2, certFile)
	copyFile(t, kf2, keyFile)
	n.cmd.Process.Signal(syscall.SIGHUP)
	l := waitLog(t, n, "edge domains reloaded", 1)
	if got := fmt.Sprint(l[0]["certificates_loaded"]); got != "[domains[0].tls]" {
		t.Errorf("reload log line names loaded certificates %s, want [domains[0].tls]: %v", got, l[0])
	}
	newSerial := leaf2.SerialNumber.Text(16)
	if _, serial, _, _ := newTLSClient(t, p, n.EdgeTLS).get(t, "/x"); serial != newSerial {
		t.Errorf("a handshake after SIGHUP got serial %s, want the renewed certificate's %s", serial, newSerial)
	}
	body, serial, reused, _ := before.get(t, "/x")
	if body != "one" || serial != leaf1.SerialNumber.Text(16) || !reused {
		t.Errorf("connection opened before the reload: %q, serial %s, reused %v; want one, the old serial %s, the same connection",
			body, serial, reused, leaf1.SerialNumber.Text(16))
	}

	// The renewed certificate's staple arrives in the background (C05);
	// the admin API shows the new serial.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, raw := httpGet(t, n.Admin+"/edge/tls")
		var st struct {
			Certificates []struct {
				Serial string
				OCSP   struct{ Stapled bool }
			}
		}
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			t.Fatalf("GET /edge/tls: %v: %s", err, raw)
		}
		if len(st.Certificates) != 1 || st.Certificates[0].Serial != newSerial {
			t.Fatalf("/edge/tls after the reload = %s, want one certificate with serial %s", raw, newSerial)
		}
		if st.Certificates[0].OCSP.Stapled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no staple for the renewed certificate after 30s; /edge/tls says %s", raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, _, _, staple := newTLSClient(t, p, n.EdgeTLS).get(t, "/x"); len(staple) == 0 {
		t.Error("no OCSP staple in a handshake with the renewed certificate")
	} else if r, err := ocsp.ParseResponseForCert(staple, leaf2, p.inter); err != nil || r.Status != ocsp.Good {
		t.Errorf("staple for the renewed certificate: %v, want a good response for it", err)
	}

	// A broken replacement and an origin change: refused as a whole.
	cf3, kf3, _ := p.leafFiles(t, "a.example.test", "")
	copyFile(t, cf3, certFile)
	copyFile(t, kf3, keyFile)
	cfg, err := os.ReadFile(n.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, n.cfgPath, strings.Replace(string(cfg), o1.URL, o2.URL, 1))
	code, res := postReload(t, n)
	if code != http.StatusUnprocessableEntity || res["reloaded"] != false {
		t.Fatalf("POST /edge/reload with a leaf-only certificate: %d %v, want 422 and reloaded false", code, res)
	}
	msg, _ := res["error"].(string)
	for _, want := range []string{
		`domains[0].tls.cert: chain does not verify without intermediates: missing issuer "CN=E2E Intermediate CA,O=Strata E2E"`,
		"add it to the PEM file " + certFile,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("reload error %q does not contain %q", msg, want)
		}
	}
	if l := waitLog(t, n, "POST /edge/reload: configuration not reloaded", 1); !strings.Contains(fmt.Sprint(l[0]["err"]), "missing issuer") {
		t.Errorf("refusal log line does not name the missing issuer: %v", l[0])
	}
	if body, serial, _, _ := newTLSClient(t, p, n.EdgeTLS).get(t, "/x"); serial != newSerial || body != "one" {
		t.Errorf("after the refused reload: %q from serial %s, want one (the old origin) from the renewed certificate %s", body, serial, newSerial)
	}
	if body, serial, reused, _ := before.get(t, "/x"); body != "one" || serial != leaf1.SerialNumber.Text(16) || !reused {
		t.Errorf("connection opened before both reloads: %q, serial %s, reused %v", body, serial, reused)
	}
}
