package tlsstore

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestSNISelects: each domain's certificate is served for its name; a
// wildcard certificate covers its subdomains; an unknown name or no SNI
// gets the default ("*") certificate.
func TestSNISelects(t *testing.T) {
	p := newPKI(t)
	var specs []Spec
	for _, x := range []struct{ name, host string }{{"domains[0].tls", "a.example.test"}, {"domains[1].tls", "b.example.test"}, {"domains[2].tls", "*"}} {
		names := []string{x.host}
		if x.host == "*" {
			names = []string{"default.example.test"}
		}
		leaf, key := p.leaf(t, leafOpts{hosts: names})
		cf, kf := writeFiles(t, key, leaf, p.inter)
		specs = append(specs, Spec{Name: x.name, Hosts: []string{x.host}, CertFile: cf, KeyFile: kf})
	}
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"*.w.example.test"}})
	cf, kf := writeFiles(t, key, leaf, p.inter)
	specs = append(specs, Spec{Name: "domains[3].tls", Hosts: []string{"w.example.test"}, CertFile: cf, KeyFile: kf})
	_, err := Load(context.Background(), specs, Options{Roots: p.roots})
	if err == nil {
		t.Fatal("a wildcard certificate for *.w.example.test was accepted for host w.example.test, which it does not cover")
	}
	specs[3].Hosts = []string{"img.w.example.test"}
	st := load(t, specs, Options{Roots: p.roots})
	addr := serveTLS(t, st, nil)
	for _, tt := range []struct{ sni, want string }{
		{"a.example.test", "a.example.test"},
		{"B.Example.Test", "b.example.test"},
		{"css.w.example.test", "*.w.example.test"},
		{"other.example.test", "default.example.test"},
		{"", "default.example.test"},
	} {
		// Verify by hand: the default certificate does not cover the
		// unknown name, and what matters here is which one was sent.
		d := tls.Dialer{Config: &tls.Config{ServerName: tt.sni, InsecureSkipVerify: true}}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := d.DialContext(ctx, "tcp", addr)
		cancel()
		if err != nil {
			t.Fatalf("SNI %q: %v", tt.sni, err)
		}
		got := c.(*tls.Conn).ConnectionState().PeerCertificates[0].DNSNames[0]
		c.Close()
		if got != tt.want {
			t.Errorf("SNI %q: got certificate for %q, want %q", tt.sni, got, tt.want)
		}
	}
}

// TestHTTP2Negotiated: the listener negotiates h2 by ALPN and serves
// HTTP/2 requests; an HTTP/1.1-only client still works.
func TestHTTP2Negotiated(t *testing.T) {
	p := newPKI(t)
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	cf, kf := writeFiles(t, key, leaf, p.inter)
	st := load(t, []Spec{{Name: "d.tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}, Options{Roots: p.roots})
	addr := serveTLS(t, st, nil)
	cs, err := handshake(t, addr, "a.example.test", p.roots)
	if err != nil {
		t.Fatal(err)
	}
	if cs.NegotiatedProtocol != "h2" {
		t.Errorf("ALPN = %q, want h2", cs.NegotiatedProtocol)
	}
	for _, tt := range []struct {
		h2   bool
		want string
	}{{true, "HTTP/2.0"}, {false, "HTTP/1.1"}} {
		tr := &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: p.roots, ServerName: "a.example.test"},
			ForceAttemptHTTP2: tt.h2,
		}
		if !tt.h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get("https://" + addr + "/")
		if err != nil {
			t.Fatalf("h2=%v: %v", tt.h2, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if resp.Proto != tt.want || string(body) != tt.want {
			t.Errorf("h2=%v: response proto %q, server saw %q; want %q", tt.h2, resp.Proto, body, tt.want)
		}
	}
}
