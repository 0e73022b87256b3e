package config

import (
	"strings"
	"testing"
	"time"
)

func TestEdgeResolverConfig_C01(t *testing.T) {
	cfg, err := Parse([]byte("edge:\n  resolver:\n    nameservers: [10.0.0.2, \"10.0.0.3:5353\", \"[2001:db8::53]:53\"]\n    min_ttl: 2s\n    max_ttl: 1m\n    stale_grace: -1s\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Edge.Resolver
	if len(r.Nameservers) != 3 || r.MinTTL.D() != 2*time.Second || r.MaxTTL.D() != time.Minute || r.StaleGrace.D() != -time.Second {
		t.Errorf("parsed %+v", r)
	}
	tests := []struct {
		yaml string
		want []string // problems' key paths
	}{
		{"edge:\n  resolver:\n    nameservers: [dns.example, \"10.0.0.2:0\"]\n", []string{"edge.resolver.nameservers[0]", "edge.resolver.nameservers[1]"}},
		{"edge:\n  resolver:\n    min_ttl: -1s\n    max_ttl: -1s\n", []string{"edge.resolver.min_ttl", "edge.resolver.max_ttl"}},
		{"edge:\n  resolver:\n    min_ttl: 1m\n    max_ttl: 10s\n", []string{"edge.resolver.max_ttl"}},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.yaml))
		if err == nil {
			t.Errorf("%q: no problem, want %v", tt.yaml, tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w+":") {
				t.Errorf("%q: error %q does not name %s", tt.yaml, err, w)
			}
		}
	}
}
