package diag

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// testPKI is a root CA, an intermediate and a leaf for testHost, made in
// the test: the doctor gets the root through Options.Roots only.
type testPKI struct {
	root, inter, leaf          *x509.Certificate
	rootKey, interKey, leafKey *ecdsa.PrivateKey
	roots                      *x509.CertPool
}

const testHost = "cdn.strata.test"

var serial int64

func newCert(t *testing.T, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(90 * 24 * time.Hour)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// newPKI makes the three certificates; ocspURL, if set, goes in the leaf.
func newPKI(t *testing.T, ocspURL string) *testPKI {
	t.Helper()
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	k := &testPKI{}
	k.root, k.rootKey = newCert(t, ca("Strata Test Root"), nil, nil)
	interTmpl := ca("Strata Test Intermediate")
	interTmpl.IssuingCertificateURL = []string{"http://ca.strata.test/root.crt"}
	k.inter, k.interKey = newCert(t, interTmpl, k.root, k.rootKey)
	leafTmpl := &x509.Certificate{Subject: pkix.Name{CommonName: testHost}, DNSNames: []string{testHost},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IssuingCertificateURL: []string{"http://ca.strata.test/inter.crt"}}
	if ocspURL != "" {
		leafTmpl.OCSPServer = []string{ocspURL}
	}
	k.leaf, k.leafKey = newCert(t, leafTmpl, k.inter, k.interKey)
	k.roots = x509.NewCertPool()
	k.roots.AddCert(k.root)
	return k
}

// ocspResponse is a good OCSP response for the leaf, signed by the
// intermediate.
func (k *testPKI) ocspResponse(t *testing.T) []byte {
	t.Helper()
	b, err := ocsp.CreateResponse(k.inter, k.inter, ocsp.Response{Status: ocsp.Good, SerialNumber: k.leaf.SerialNumber,
		ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}, k.interKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tlsCert is the server's certificate: the leaf, and the intermediate
// unless leafOnly (C04).
func (k *testPKI) tlsCert(leafOnly bool, staple []byte) tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{k.leaf.Raw}, PrivateKey: crypto.Signer(k.leafKey), OCSPStaple: staple}
	if !leafOnly {
		c.Certificate = append(c.Certificate, k.inter.Raw)
	}
	return c
}

// serveTLS starts an HTTPS server with cert on ln (or 127.0.0.1:0) and
// returns the doctor options that reach it as https://testHost:port.
func serveTLS(t *testing.T, k *testPKI, cert tls.Certificate, ln net.Listener) Options {
	t.Helper()
	srv := httptest.NewUnstartedServer(wellBehaved())
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the doctor cuts short
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return Options{URL: "https://" + testHost + ":" + port + "/obj.bin",
		Resolve: []string{testHost + ":" + port + ":" + hostOf(srv.Listener.Addr().String())}, Roots: k.roots}
}

func TestFullChainVerifies_C04(t *testing.T) {
	k := newPKI(t, "")
	opts := serveTLS(t, k, k.tlsCert(false, nil), nil)
	rep := run(t, opts, "timing", "tls", "etag")
	want(t, rep, "tls.chain-ok", "C04", OK)
	want(t, rep, "tls.nodes", "C15", OK)
	want(t, rep, "tls.ocsp-none", "C05", OK)
	want(t, rep, "etag.ok", "A1", OK)
	noBad(t, rep)
	if tm := rep.Timing; tm == nil || tm.AppConnect <= tm.Connect || tm.StartTransfer < tm.AppConnect {
		t.Errorf("https timing not cumulative as in curl: %+v", tm)
	}
}

func TestLeafOnlyChain_C04(t *testing.T) {
	k := newPKI(t, "")
	opts := serveTLS(t, k, k.tlsCert(true, nil), nil)
	rep := run(t, opts, "tls", "etag")
	f := want(t, rep, "tls.chain-incomplete", "C04", Bad)
	if !strings.Contains(f.Summary, "Strata Test Intermediate") || !strings.Contains(f.Summary, "http://ca.strata.test/inter.crt") {
		t.Errorf("summary does not name the missing issuer and its URL: %q", f.Summary)
	}
	// The HTTP checks still run over the broken chain.
	want(t, rep, "etag.ok", "A1", OK)
}

func TestUntrustedRootAndWrongName_C04(t *testing.T) {
	k := newPKI(t, "")
	opts := serveTLS(t, k, k.tlsCert(false, nil), nil)
	opts.Roots = x509.NewCertPool() // trusts nothing
	rep := run(t, opts, "tls")
	want(t, rep, "tls.chain-incomplete", "C04", Bad) // the root is not sent, so its absence reads as a missing issuer

	got := verifyChain([]*x509.Certificate{k.leaf, k.inter}, "other.strata.test", k.roots, time.Now())
	if len(got) != 1 || got[0].ID != "tls.name-mismatch" || got[0].Level != Bad {
		t.Errorf("wrong name: got %+v, want tls.name-mismatch bad", got)
	}
	got = verifyChain([]*x509.Certificate{k.leaf, k.inter, k.root}, testHost, x509.NewCertPool(), time.Now())
	if len(got) != 1 || got[0].ID != "tls.untrusted-root" {
		t.Errorf("untrusted root sent: got %+v, want tls.untrusted-root", got)
	}
	got = verifyChain([]*x509.Certificate{k.leaf, k.inter}, testHost, k.roots, time.Now().Add(365*24*time.Hour))
	if len(got) != 1 || got[0].ID != "tls.expired" {
		t.Errorf("expired: got %+v, want tls.expired", got)
	}
	got = verifyChain([]*x509.Certificate{k.leaf, k.inter}, testHost, k.roots, time.Now().Add(80*24*time.Hour))
	if len(got) != 2 || got[1].ID != "tls.expiring" || got[1].Level != Warn {
		t.Errorf("expiring: got %+v, want tls.chain-ok and tls.expiring", got)
	}
}

// ocspResponder serves resp to every OCSP request.
func ocspResponder(t *testing.T, resp func() []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(resp())
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestOCSPStapled_C05(t *testing.T) {
	var k *testPKI
	url := ocspResponder(t, func() []byte { return k.ocspResponse(t) })
	k = newPKI(t, url)
	opts := serveTLS(t, k, k.tlsCert(false, k.ocspResponse(t)), nil)
	rep := run(t, opts, "tls")
	want(t, rep, "tls.ocsp-stapled", "C05", OK)
	want(t, rep, "tls.ocsp-responder", "C05", OK)
	noBad(t, rep)
}

func TestOCSPNotStapled_C05(t *testing.T) {
	var k *testPKI
	url := ocspResponder(t, func() []byte { return k.ocspResponse(t) })
	k = newPKI(t, url)
	opts := serveTLS(t, k, k.tlsCert(false, nil), nil)
	rep := run(t, opts, "tls")
	want(t, rep, "tls.ocsp-no-staple", "C05", Info)
	want(t, rep, "tls.ocsp-responder", "C05", OK)
}

func TestOCSPResponderUnreachable_C05(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/ocsp"
	ln.Close()
	k := newPKI(t, dead)
	rep := run(t, serveTLS(t, k, k.tlsCert(false, nil), nil), "tls")
	want(t, rep, "tls.ocsp-no-staple", "C05", Info)
	want(t, rep, "tls.ocsp-unreachable", "C05", Bad)

	// With a staple, clients are shielded: only a warning.
	rep = run(t, serveTLS(t, k, k.tlsCert(false, k.ocspResponse(t)), nil), "tls")
	want(t, rep, "tls.ocsp-unreachable", "C05", Warn)
}

// resetter accepts TLS connections and resets them on the ClientHello,
// as the middlebox of C15 did.
func resetter(t *testing.T, ln net.Listener) {
	t.Helper()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1)
			c.Read(buf) // the ClientHello has arrived
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
}

func TestNodeResetsHandshake_C15(t *testing.T) {
	k := newPKI(t, "")
	// Two nodes on one port: 127.0.0.1 serves, 127.0.0.2 resets.
	var good, bad net.Listener
	for range 20 {
		l2, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skipf("no 127.0.0.2 on this host: %v", err)
		}
		_, port, _ := net.SplitHostPort(l2.Addr().String())
		l1, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			l2.Close()
			continue
		}
		good, bad = l1, l2
		break
	}
	if good == nil {
		t.Skip("no port free on both 127.0.0.1 and 127.0.0.2")
	}
	resetter(t, bad)
	opts := serveTLS(t, k, k.tlsCert(false, nil), good)
	_, port, _ := net.SplitHostPort(good.Addr().String())
	opts.Resolve = []string{testHost + ":" + port + ":127.0.0.1,127.0.0.2"}
	rep := run(t, opts, "tls")
	f := want(t, rep, "tls.node-reset", "C15", Bad)
	if !strings.Contains(f.Summary, "127.0.0.2:"+port) {
		t.Errorf("summary does not name the failing node: %q", f.Summary)
	}
	want(t, rep, "tls.nodes", "C15", OK)
	if n := len(rep.Find("tls.node-reset")); n != 1 {
		t.Errorf("%d nodes reported reset, want 1", n)
	}
}

func TestParseResolve(t *testing.T) {
	for _, tc := range []struct {
		in       string
		from     string
		to       []string
		wantFail bool
	}{
		{in: "a.test:443:127.0.0.1", from: "a.test:443", to: []string{"127.0.0.1:443"}},
		{in: "a.test:80:[::1]", from: "a.test:80", to: []string{"[::1]:80"}},
		{in: "a.test:80:10.0.0.1,10.0.0.2", from: "a.test:80", to: []string{"10.0.0.1:80", "10.0.0.2:80"}},
		{in: "a.test:80:host.example", wantFail: true},
		{in: "a.test:80", wantFail: true},
		{in: ":80:127.0.0.1", wantFail: true},
	} {
		from, to, err := ParseResolve(tc.in)
		if (err != nil) != tc.wantFail {
			t.Errorf("ParseResolve(%q): err %v, want failure %v", tc.in, err, tc.wantFail)
			continue
		}
		if !tc.wantFail && (from != tc.from || strings.Join(to, " ") != strings.Join(tc.to, " ")) {
			t.Errorf("ParseResolve(%q) = %q %q, want %q %q", tc.in, from, to, tc.from, tc.to)
		}
	}
}
