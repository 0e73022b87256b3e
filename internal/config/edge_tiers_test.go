package config

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEdgeTiersParse_C18(t *testing.T) {
	cfg, err := Parse([]byte(`
edge:
  parents: [http://l2-a.example.test:8080, http://l2-b.example.test:8080]
  parents_fallback_origin: true
domains:
  - host: a.example.test
    origin: http://10.0.0.1:8000
    origins: [http://10.0.0.2:8000]
    health_check: {path: /healthz, interval: 5s, timeout: 1s}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Edge.Parents, []string{"http://l2-a.example.test:8080", "http://l2-b.example.test:8080"}; !cmp.Equal(got, want) {
		t.Errorf("parents %v, want %v", got, want)
	}
	if !cfg.Edge.ParentsFallbackOrigin {
		t.Error("parents_fallback_origin not read")
	}
	d := cfg.Domains[0]
	if got, want := d.Origins, []string{"http://10.0.0.2:8000"}; !cmp.Equal(got, want) {
		t.Errorf("origins %v, want %v", got, want)
	}
	if got, want := d.HealthCheck, (HealthCheck{Path: "/healthz", Interval: Duration(5 * time.Second), Timeout: Duration(time.Second)}); got != want {
		t.Errorf("health_check %+v, want %+v", got, want)
	}
}

func TestEdgeTiersProblems_C18(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"parent not a URL", "edge: {parents: ['l2-a:8080']}\n", []string{"edge.parents[0]"}},
		{"duplicate parent", "edge: {parents: [http://a.test, http://a.test]}\n", []string{"edge.parents[1]"}},
		{"fallback without parents", "edge: {parents_fallback_origin: true}\n", []string{"edge.parents_fallback_origin"}},
		{"bad origins", "domains: [{host: a.test, origin: http://o.test, origins: [ftp://x, http://o.test]}]\n",
			[]string{"domains[0].origins[0]", "domains[0].origins[1]"}},
		{"health check without path", "domains: [{host: a.test, origin: http://o.test, health_check: {interval: 5s}}]\n",
			[]string{"domains[0].health_check.path"}},
		{"health check relative path", "domains: [{host: a.test, origin: http://o.test, health_check: {path: healthz}}]\n",
			[]string{"domains[0].health_check.path"}},
		{"health check timeout", "domains: [{host: a.test, origin: http://o.test, health_check: {path: /h, interval: 1s, timeout: 2s}}]\n",
			[]string{"domains[0].health_check.timeout"}},
		{"valid", "edge: {parents: [https://l2.test]}\ndomains: [{host: a.test, origin: http://o.test, origins: [http://p.test], health_check: {path: /h}}]\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			var got []string
			var ce *Error
			if errors.As(err, &ce) {
				for _, p := range ce.Problems {
					got = append(got, p.Path)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want *Error or nil", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
			}
		})
	}
}
