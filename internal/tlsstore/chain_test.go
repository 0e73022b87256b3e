package tlsstore

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLeafOnlyRefused_C04: a PEM file with only the leaf is refused at load
// with the missing issuer named, and the hint says how to fix it.
func TestLeafOnlyRefused_C04(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name      string
		issuerURL string
		want      []string
	}{
		{"with issuer URL", "http://ca.example/int.crt", []string{
			`domains[1].tls.cert: chain does not verify without intermediates: missing issuer "` + interSubject + `"`,
			"add it to the PEM file ", " after the leaf",
			"set complete_chain: true to fetch it from http://ca.example/int.crt",
		}},
		{"without issuer URL", "", []string{
			`missing issuer "` + interSubject + `"`,
			"the certificate names no issuer URL",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}, issuerURL: tt.issuerURL})
			cf, kf := writeFiles(t, key, leaf)
			st, err := Load(context.Background(), []Spec{{Name: "domains[1].tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}, Options{Roots: p.roots})
			if err == nil {
				st.Close()
				t.Fatal("Load accepted a leaf-only chain")
			}
			if !errors.Is(err, ErrIncompleteChain) {
				t.Errorf("errors.Is(err, ErrIncompleteChain) = false; err = %v", err)
			}
			var ce *ChainError
			if !errors.As(err, &ce) || ce.Issuer != interSubject {
				t.Errorf("ChainError issuer: got %+v, want %q", ce, interSubject)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), cf) {
				t.Errorf("error %q does not name the file %s", err, cf)
			}
		})
	}
}

// TestFullChainAccepted_C04: leaf then intermediate verifies, and a client
// trusting only the root completes the handshake.
func TestFullChainAccepted_C04(t *testing.T) {
	p := newPKI(t)
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	cf, kf := writeFiles(t, key, leaf, p.inter)
	st := load(t, []Spec{{Name: "domains[0].tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}, Options{Roots: p.roots})
	cs, err := handshake(t, serveTLS(t, st, nil), "a.example.test", p.roots)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if got := len(cs.PeerCertificates); got != 2 {
		t.Errorf("server sent %d certificates, want 2 (leaf, intermediate)", got)
	}
	got := st.Status()
	if len(got) != 1 || !cmp.Equal(got[0].Chain, []string{"CN=a.example.test", interSubject}) || got[0].OCSP.Status != StatusNone {
		t.Errorf("Status = %+v, want chain [leaf, intermediate] and ocsp none", got)
	}
}

// TestCompleteChain_C04: with CompleteChain, the intermediate is fetched
// from the leaf's issuer URL and served, so a client that never fetches
// intermediates verifies the chain.
func TestCompleteChain_C04(t *testing.T) {
	p := newPKI(t)
	var fetches int
	mux := http.NewServeMux()
	mux.HandleFunc("GET /int.crt", func(w http.ResponseWriter, r *http.Request) {
		fetches++
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(p.inter.Raw)
	})
	base := serve(t, mux)
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}, issuerURL: base + "/int.crt"})
	cf, kf := writeFiles(t, key, leaf)
	st := load(t, []Spec{{Name: "domains[0].tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf, CompleteChain: true}}, Options{Roots: p.roots})
	if fetches != 1 {
		t.Errorf("issuer fetched %d times, want 1", fetches)
	}
	cs, err := handshake(t, serveTLS(t, st, nil), "a.example.test", p.roots)
	if err != nil {
		t.Fatalf("handshake with a completed chain: %v", err)
	}
	if got := len(cs.PeerCertificates); got != 2 {
		t.Errorf("server sent %d certificates, want 2", got)
	}
	if got, want := st.Status()[0].CompletedFrom, []string{base + "/int.crt"}; !cmp.Equal(got, want) {
		t.Errorf("CompletedFrom = %v, want %v", got, want)
	}

	// An issuer URL that fails: refused, saying why.
	leaf2, key2 := p.leaf(t, leafOpts{hosts: []string{"b.example.test"}, issuerURL: base + "/missing.crt"})
	cf2, kf2 := writeFiles(t, key2, leaf2)
	_, err = Load(context.Background(), []Spec{{Name: "domains[1].tls", CertFile: cf2, KeyFile: kf2, CompleteChain: true}}, Options{Roots: p.roots})
	if !errors.Is(err, ErrIncompleteChain) || !strings.Contains(err.Error(), "complete_chain could not fetch it") || !strings.Contains(err.Error(), "404") {
		t.Errorf("failed completion: err = %v, want ErrIncompleteChain naming the 404", err)
	}
}

// TestLoadProblems: the other ways a certificate is refused, each named.
func TestLoadProblems(t *testing.T) {
	p := newPKI(t)
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	cf, kf := writeFiles(t, key, leaf, p.inter)
	_, otherKey := p.leaf(t, leafOpts{hosts: []string{"x.example.test"}})
	_, wrongKF := writeFiles(t, otherKey, leaf)
	other := newPKI(t) // a root the store does not trust
	tests := []struct {
		name  string
		spec  Spec
		roots *x509.CertPool
		want  string
		is    error
	}{
		{"host not covered", Spec{Hosts: []string{"b.example.test"}, CertFile: cf, KeyFile: kf}, p.roots,
			`d.tls.cert: the certificate does not cover host "b.example.test"; it names a.example.test`, nil},
		{"wrong key", Spec{CertFile: cf, KeyFile: wrongKF}, p.roots, "d.tls.key: " + wrongKF + " does not hold the private key", nil},
		{"no cert file", Spec{CertFile: cf + ".missing", KeyFile: kf}, p.roots, "d.tls.cert: open ", nil},
		{"key file is not PEM", Spec{CertFile: kf, KeyFile: kf}, p.roots, "no PEM CERTIFICATE block", nil},
		{"untrusted root", Spec{CertFile: cf, KeyFile: kf}, other.roots, `missing issuer "CN=Example Root CA,O=Example"`, ErrIncompleteChain},
		{"root included, still untrusted", Spec{CertFile: writeChain(t, key, leaf, p.inter, p.root), KeyFile: kf}, other.roots,
			`chain ends at an untrusted root: "CN=Example Root CA,O=Example"`, ErrUntrustedRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Name = "d.tls"
			st, err := Load(context.Background(), []Spec{tt.spec}, Options{Roots: tt.roots})
			if err == nil {
				st.Close()
				t.Fatalf("Load accepted it; want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

// writeChain writes certs to a PEM file and returns its path.
func writeChain(t *testing.T, key crypto.Signer, certs ...*x509.Certificate) string {
	t.Helper()
	cf, _ := writeFiles(t, key, certs...)
	return cf
}

// TestLoadReportsEverySpec: every failing spec is named in one error.
func TestLoadReportsEverySpec(t *testing.T) {
	p := newPKI(t)
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	cf, kf := writeFiles(t, key, leaf)
	_, err := Load(context.Background(), []Spec{
		{Name: "domains[0].tls", CertFile: cf, KeyFile: kf},
		{Name: "domains[1].tls", CertFile: cf, KeyFile: kf},
	}, Options{Roots: p.roots})
	for _, w := range []string{"domains[0].tls.cert", "domains[1].tls.cert"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v, want it to name %s", err, w)
		}
	}
}

// TestParseIssuer: DER and PEM parse; PKCS#7 and junk are refused.
func TestParseIssuer(t *testing.T) {
	p := newPKI(t)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.inter.Raw})
	for _, tt := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"der", p.inter.Raw, true},
		{"pem", pemBytes, true},
		{"junk", []byte("hello"), false},
		{"pkcs7", append([]byte{0x30, 0x82, 0x01, 0x00}, append(pkcs7SignedData, make([]byte, 40)...)...), false},
	} {
		c, err := ParseIssuer(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if tt.ok && c.Subject.String() != interSubject {
			t.Errorf("%s: subject %q", tt.name, c.Subject)
		}
	}
	if _, err := ParseIssuer(append([]byte{0x30, 0x82, 0x01, 0x00}, append(pkcs7SignedData, make([]byte, 40)...)...)); err == nil || !strings.Contains(err.Error(), "PKCS#7") {
		t.Errorf("pkcs7: err = %v, want it to say PKCS#7", err)
	}
}
