package tlsstore

import (
	"bufio"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ocsp"
)

// rewrite replaces the contents of existing certificate and key files, as a
// certificate renewal does.
func rewrite(t *testing.T, certFile, keyFile string, key crypto.Signer, certs ...*x509.Certificate) {
	t.Helper()
	cf, kf := writeFiles(t, key, certs...)
	for _, f := range [][2]string{{cf, certFile}, {kf, keyFile}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// reload prepares specs against roots and applies them.
func reload(t *testing.T, st *Store, specs []Spec, roots *x509.CertPool) Applied {
	t.Helper()
	u, err := st.Prepare(context.Background(), specs, roots)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return u.Apply()
}

// servedSerial is the serial of the leaf a new handshake for sni gets.
func servedSerial(t *testing.T, addr, sni string, roots *x509.CertPool) string {
	t.Helper()
	cs, err := handshake(t, addr, sni, roots)
	if err != nil {
		t.Fatalf("handshake %s: %v", sni, err)
	}
	return cs.PeerCertificates[0].SerialNumber.Text(16)
}

// unverifiedSerial is the serial of the leaf a new handshake for sni gets,
// whether or not it covers sni.
func unverifiedSerial(t *testing.T, addr, sni string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{ServerName: sni, InsecureSkipVerify: true}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("handshake %s: %v", sni, err)
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

// h1Conn is an HTTP/1.1 keep-alive connection over TLS.
type h1Conn struct {
	c  *tls.Conn
	br *bufio.Reader
}

func dialH1(t *testing.T, addr, sni string, roots *x509.CertPool) *h1Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: sni, NextProtos: []string{"http/1.1"}}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &h1Conn{c: c.(*tls.Conn), br: bufio.NewReader(c)}
}

// get sends one request on the connection and returns the body.
func (h *h1Conn) get(t *testing.T) string {
	t.Helper()
	h.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(h.c, "GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n"); err != nil {
		t.Fatalf("write on the connection opened before the reload: %v", err)
	}
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		t.Fatalf("read on the connection opened before the reload: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestReloadRotatesCertificate_C04: after a renewal on disk and a reload,
// new handshakes get the new certificate, a connection opened before keeps
// working, and Status shows the new serial.
func TestReloadRotatesCertificate_C04(t *testing.T) {
	p := newPKI(t)
	leaf1, key1 := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	cf, kf := writeFiles(t, key1, leaf1, p.inter)
	specs := []Spec{{Name: "domains[0].tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}
	st := load(t, specs, Options{Roots: p.roots})
	addr := serveTLS(t, st, nil)
	old := dialH1(t, addr, "a.example.test", p.roots)
	if got := old.get(t); got != "HTTP/1.1" {
		t.Fatalf("before the reload: body %q", got)
	}

	leaf2, key2 := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	rewrite(t, cf, kf, key2, leaf2, p.inter)
	res := reload(t, st, specs, p.roots)
	if want := (Applied{Certificates: 1, Loaded: []string{"domains[0].tls"}, Dropped: 1}); !cmp.Equal(res, want) {
		t.Errorf("Apply = %+v, want %+v", res, want)
	}
	if got, want := servedSerial(t, addr, "a.example.test", p.roots), leaf2.SerialNumber.Text(16); got != want {
		t.Errorf("after the reload a new handshake got serial %s, want the new certificate's %s", got, want)
	}
	if got := old.get(t); got != "HTTP/1.1" {
		t.Errorf("connection opened before the reload: body %q", got)
	}
	if got, want := old.c.ConnectionState().PeerCertificates[0].SerialNumber, leaf1.SerialNumber; got.Cmp(want) != 0 {
		t.Errorf("old connection's certificate serial %s, want %s", got, want)
	}
	if got, want := st.Status()[0].Serial, leaf2.SerialNumber.Text(16); got != want {
		t.Errorf("Status serial = %s, want %s", got, want)
	}

	// Unchanged files: the certificate is kept, nothing loaded or dropped.
	res = reload(t, st, specs, p.roots)
	if want := (Applied{Certificates: 1}); !cmp.Equal(res, want) {
		t.Errorf("reload of unchanged files: Apply = %+v, want %+v", res, want)
	}
}

// TestReloadRefusesBrokenReplacement_C04: a replacement whose chain lacks
// its intermediate (or whose key does not match) is refused with the
// missing issuer and the file named, and the old certificate stays served.
func TestReloadRefusesBrokenReplacement_C04(t *testing.T) {
	p := newPKI(t)
	leaf1, key1 := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	cf, kf := writeFiles(t, key1, leaf1, p.inter)
	specs := []Spec{{Name: "domains[0].tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}
	st := load(t, specs, Options{Roots: p.roots})
	addr := serveTLS(t, st, nil)
	oldSerial := leaf1.SerialNumber.Text(16)

	leaf2, key2 := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	leaf3, _ := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	leafB, keyB := p.leaf(t, leafOpts{hosts: []string{"b.example.test"}})
	tests := []struct {
		name  string
		write func()
		specs []Spec
		want  []string
		is    error
	}{
		{"leaf only", func() { rewrite(t, cf, kf, key2, leaf2) }, specs,
			[]string{"domains[0].tls.cert: chain does not verify without intermediates: missing issuer \"" + interSubject + "\"", cf}, ErrIncompleteChain},
		{"key of another certificate", func() { rewrite(t, cf, kf, key2, leaf3, p.inter) }, specs,
			[]string{"domains[0].tls.key: " + kf + " does not hold the private key"}, nil},
		{"host not covered", func() { rewrite(t, cf, kf, keyB, leafB, p.inter) }, specs,
			[]string{`domains[0].tls.cert: the certificate does not cover host "a.example.test"`, cf}, nil},
		{"file removed", func() { os.Remove(cf) }, specs, []string{"domains[0].tls.cert: open " + cf}, os.ErrNotExist},
		{"one good, one added broken", func() { rewrite(t, cf, kf, key1, leaf1, p.inter) },
			append(specs[:1:1], Spec{Name: "domains[1].tls", Hosts: []string{"a.example.test"}, CertFile: cf + ".missing", KeyFile: kf}),
			[]string{"domains[1].tls.cert: open " + cf + ".missing"}, os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.write()
			u, err := st.Prepare(context.Background(), tt.specs, p.roots)
			if err == nil {
				u.Apply()
				t.Fatal("Prepare accepted the broken replacement")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q\nwant it to contain %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if got := servedSerial(t, addr, "a.example.test", p.roots); got != oldSerial {
				t.Errorf("after a refused reload a handshake got serial %s, want the old %s", got, oldSerial)
			}
			if s := st.Status(); len(s) != 1 || s[0].Serial != oldSerial {
				t.Errorf("Status after a refused reload = %+v, want the old certificate only", s)
			}
		})
	}
}

// TestReloadDomainsAddedRemoved: a reload adds a certificate for a new
// host and drops one whose domain is gone; SNI selection follows.
func TestReloadDomainsAddedRemoved(t *testing.T) {
	p := newPKI(t)
	var specs []Spec
	leaves := map[string]*x509.Certificate{}
	for i, h := range []string{"a.example.test", "b.example.test", "c.example.test"} {
		leaf, key := p.leaf(t, leafOpts{hosts: []string{h}})
		cf, kf := writeFiles(t, key, leaf, p.inter)
		specs = append(specs, Spec{Name: fmt.Sprintf("domains[%d].tls", i), Hosts: []string{h}, CertFile: cf, KeyFile: kf})
		leaves[h] = leaf
	}
	st := load(t, specs[:2], Options{Roots: p.roots})
	addr := serveTLS(t, st, nil)
	if got, want := unverifiedSerial(t, addr, "c.example.test"), leaves["a.example.test"].SerialNumber.Text(16); got != want {
		t.Fatalf("c.example.test before it is configured: serial %s, want the default (a.example.test's) %s", got, want)
	}
	res := reload(t, st, specs[1:], p.roots)
	if want := (Applied{Certificates: 2, Loaded: []string{"domains[2].tls"}, Dropped: 1}); !cmp.Equal(res, want) {
		t.Errorf("Apply = %+v, want %+v", res, want)
	}
	for _, h := range []string{"b.example.test", "c.example.test"} {
		if got, want := servedSerial(t, addr, h, p.roots), leaves[h].SerialNumber.Text(16); got != want {
			t.Errorf("%s: serial %s, want %s", h, got, want)
		}
	}
	if got, want := unverifiedSerial(t, addr, "a.example.test"), leaves["b.example.test"].SerialNumber.Text(16); got != want {
		t.Errorf("a.example.test after its domain was removed: serial %s, want the new default (b.example.test's) %s", got, want)
	}
	var names []string
	for _, s := range st.Status() {
		names = append(names, s.Name)
	}
	if want := []string{"domains[1].tls", "domains[2].tls"}; !cmp.Equal(names, want) {
		t.Errorf("Status names = %v, want %v", names, want)
	}
}

// TestReloadOCSPRefreshers_C05: a rotated certificate gets its own staple
// in the background, the refresher of the replaced one stops, and an
// unchanged certificate keeps its cached staple without a new fetch.
func TestReloadOCSPRefreshers_C05(t *testing.T) {
	p := newPKI(t)
	r := &responder{pki: p, validity: time.Hour, status: ocsp.Good}
	url := serve(t, r)
	var specs []Spec
	for i, h := range []string{"a.example.test", "b.example.test"} {
		leaf, key := p.leaf(t, leafOpts{hosts: []string{h}, ocspURL: url})
		cf, kf := writeFiles(t, key, leaf, p.inter)
		specs = append(specs, Spec{Name: fmt.Sprintf("domains[%d].tls", i), Hosts: []string{h}, CertFile: cf, KeyFile: kf})
	}
	hook, ch := refreshed()
	st := load(t, specs, Options{Roots: p.roots, afterRefresh: hook})
	waitFor(t, ch)
	waitFor(t, ch)
	st.mu.Lock()
	var oldDone, keptDone chan struct{}
	for _, e := range st.live {
		if e.spec.Name == "domains[0].tls" {
			oldDone = e.done
		} else {
			keptDone = e.done
		}
	}
	st.mu.Unlock()

	leaf2, key2 := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}, ocspURL: url})
	rewrite(t, specs[0].CertFile, specs[0].KeyFile, key2, leaf2, p.inter)
	fetches := r.count()
	res := reload(t, st, specs, p.roots)
	if want := (Applied{Certificates: 2, Loaded: []string{"domains[0].tls"}, Dropped: 1}); !cmp.Equal(res, want) {
		t.Errorf("Apply = %+v, want %+v", res, want)
	}
	select {
	case <-oldDone:
	default:
		t.Error("the replaced certificate's OCSP refresher still runs after Apply")
	}
	select {
	case <-keptDone:
		t.Error("the unchanged certificate's OCSP refresher was stopped")
	default:
	}
	s := st.Status()
	if s[1].OCSP.Status != StatusGood || !s[1].OCSP.Stapled || s[1].OCSP.Fetches != 1 {
		t.Errorf("unchanged certificate after the reload: %+v, want its staple kept (good, stapled, 1 fetch)", s[1].OCSP)
	}
	if got := nextRefresh(t, ch); got != "domains[0].tls" {
		t.Errorf("refresh after the reload for %q, want domains[0].tls", got)
	}
	if got := r.count(); got != fetches+1 {
		t.Errorf("responder asked %d times by the reload, want once (the new certificate only)", got-fetches)
	}
	cs, err := handshake(t, serveTLS(t, st, nil), "a.example.test", p.roots)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, leaf2, p.inter); err != nil || resp.Status != ocsp.Good {
		t.Errorf("staple for the new certificate: %v; want a good response for it", err)
	}
	st.mu.Lock()
	n := len(st.live)
	st.mu.Unlock()
	if n != 2 {
		t.Errorf("%d certificates with refreshers, want 2", n)
	}
}

// nextRefresh returns the next refreshed spec name, failing the test
// after 30s.
func nextRefresh(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(30 * time.Second):
		t.Fatal("no OCSP refresh within 30s")
		return ""
	}
}

// TestApplyAfterClose: an update applied after Close swaps the served
// certificates but starts no refresher.
func TestApplyAfterClose(t *testing.T) {
	p := newPKI(t)
	r := &responder{pki: p, validity: time.Hour, status: ocsp.Good}
	url := serve(t, r)
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	cf, kf := writeFiles(t, key, leaf, p.inter)
	st := load(t, []Spec{{Name: "d.tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}, Options{Roots: p.roots})
	st.Close()
	leaf2, key2 := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}, ocspURL: url})
	rewrite(t, cf, kf, key2, leaf2, p.inter)
	reload(t, st, []Spec{{Name: "d.tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}, p.roots)
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, e := range st.live {
		if e.stop != nil {
			t.Error("a refresher was started after Close")
		}
	}
	if got := st.set.Load().binds[0].e.leaf.SerialNumber; got.Cmp(leaf2.SerialNumber) != 0 {
		t.Errorf("served serial %s after the reload, want %s", got, leaf2.SerialNumber)
	}
}
