package config

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClusterConfig_C16(t *testing.T) {
	cfg, err := Parse([]byte(`
node_id: l1-eu
cluster:
  lag_after: 2m
  nodes:
    - {id: l1-eu, tier: l1, region: eu}
    - {id: l2-sg, admin: "http://10.0.1.5:9090", tier: l2, region: ap}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Cluster.Nodes[1]; got != (ClusterNode{ID: "l2-sg", Admin: "http://10.0.1.5:9090", Tier: "l2", Region: "ap"}) || cfg.Cluster.LagAfter.D().Minutes() != 2 {
		t.Errorf("cluster: %+v", cfg.Cluster)
	}

	_, err = Parse([]byte(`
node_id: l1-eu
cluster:
  call_timeout: 10s
  node_timeout: 5s
  retry_backoff: -1s
  nodes:
    - {id: l2-sg, tier: l2}
    - {id: l2-sg, admin: "10.0.1.5:9090", tier: l3}
    - {id: "", admin: "http://10.0.1.6:9090/?x=1", tier: l1, region: "a b"}
    - {id: l1-b, admin: "http://10.0.1.7:9090"}
    - {id: l1-c, admin: "http://10.0.1.7:9090/", tier: l1}
`))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *Error", err)
	}
	var got []string
	for _, p := range ce.Problems {
		got = append(got, p.Path)
	}
	want := []string{
		"cluster.nodes[0].admin",
		"cluster.nodes[1].id", "cluster.nodes[1].admin", "cluster.nodes[1].tier",
		"cluster.nodes[2].id", "cluster.nodes[2].admin", "cluster.nodes[2].region",
		"cluster.nodes[3].tier",
		"cluster.nodes[4].admin",
		"cluster.retry_backoff", "cluster.node_timeout",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
}
