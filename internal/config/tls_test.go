package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTLSKeys: the TLS keys decode, and their problems are reported with
// key paths.
func TestTLSKeys(t *testing.T) {
	dir := t.TempDir()
	pemFile := filepath.Join(dir, "a.pem")
	if err := os.WriteFile(pemFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte(`
edge:
  tls_listen: ":8443"
  tls_roots: ` + pemFile + `
domains:
  - {host: a.example.test, origin: http://10.0.0.1, tls: {cert: ` + pemFile + `, complete_chain: true}}
  - {host: b.example.test, origin: http://10.0.0.1}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Domains[0].TLS, (DomainTLS{Cert: pemFile, CompleteChain: true}); got != want {
		t.Errorf("domains[0].tls = %+v, want %+v", got, want)
	}
	if cfg.Edge.TLSListen != ":8443" || cfg.Edge.TLSRoots != pemFile || cfg.Domains[1].TLS.Enabled() {
		t.Errorf("edge = %+v, domains[1].tls = %+v", cfg.Edge, cfg.Domains[1].TLS)
	}
	if d := Default(); d.Edge.TLSListen != "" {
		t.Errorf("default edge.tls_listen = %q, want empty (no HTTPS listener)", d.Edge.TLSListen)
	}

	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"listen without certificates", "edge: {tls_listen: \":8443\"}\n", []string{"edge.tls_listen"}},
		{"certificate without listen", "domains:\n  - {host: a.test, origin: http://o.test, tls: {cert: " + pemFile + "}}\n", []string{"domains[0].tls"}},
		{"key without cert", "domains:\n  - {host: a.test, origin: http://o.test, tls: {key: " + pemFile + "}}\n", []string{"domains[0].tls.cert"}},
		{"port clash", "edge: {listen: \":8080\", tls_listen: \":8080\"}\ndomains:\n  - {host: a.test, origin: http://o.test, tls: {cert: " + pemFile + "}}\n", []string{"edge.tls_listen"}},
		{"bad address", "edge: {tls_listen: \"8443\"}\ndomains:\n  - {host: a.test, origin: http://o.test, tls: {cert: " + pemFile + "}}\n", []string{"edge.tls_listen"}},
		{"unknown key", "domains:\n  - {host: a.test, origin: http://o.test, tls: {certificate: x}}\n", []string{"domains[0].tls.certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			got := problemPaths(t, err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
			}
		})
	}
}
