package cluster

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testNodes = []Node{
	{ID: "l1-eu", Admin: "http://10.0.0.1:9090", Tier: TierL1, Region: "eu"},
	{ID: "l1-sg", Admin: "http://10.0.0.2:9090", Tier: TierL1, Region: "ap"},
	{ID: "l2-eu", Admin: "http://10.0.0.3:9090", Tier: TierL2, Region: "eu"},
	{ID: "l2-sg", Admin: "http://10.0.0.4:9090", Tier: TierL2, Region: "ap"},
	{ID: "l1-x", Admin: "http://10.0.0.5:9090", Tier: TierL1},
}

func TestSelect_C16(t *testing.T) {
	tests := []struct {
		name    string
		target  Target
		want    []string
		wantErr string // substring; "" = no error
	}{
		{"all", Target{}, []string{"l1-eu", "l1-sg", "l2-eu", "l2-sg", "l1-x"}, ""},
		{"tier l2", Target{Tier: "l2"}, []string{"l2-eu", "l2-sg"}, ""},
		{"tier l1", Target{Tier: "l1"}, []string{"l1-eu", "l1-sg", "l1-x"}, ""},
		{"region", Target{Region: "ap"}, []string{"l1-sg", "l2-sg"}, ""},
		{"tier and region", Target{Tier: "l1", Region: "eu"}, []string{"l1-eu"}, ""},
		{"listed, config order kept", Target{Nodes: []string{"l2-sg", "l1-eu"}}, []string{"l1-eu", "l2-sg"}, ""},
		{"unknown node", Target{Nodes: []string{"l3"}}, nil, `unknown node "l3"; the cluster's nodes are l1-eu, l1-sg`},
		{"node twice", Target{Nodes: []string{"l1-eu", "l1-eu"}}, nil, "listed twice"},
		{"nodes and tier", Target{Nodes: []string{"l1-eu"}, Tier: "l1"}, nil, "not both"},
		{"bad tier", Target{Tier: "l3"}, nil, `tier "l3": want l1 or l2`},
		{"no match", Target{Tier: "l2", Region: "us"}, nil, "no node matches tier l2 in region us; the cluster's nodes are l1-eu (l1, eu)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(testNodes, tt.target)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("Select(%+v) error = %v, want ErrInvalid containing %q", tt.target, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Select(%+v): %v", tt.target, err)
			}
			if diff := cmp.Diff(tt.want, nodeIDs(got)); diff != "" {
				t.Errorf("Select(%+v) nodes (-want +got):\n%s", tt.target, diff)
			}
		})
	}
	if _, err := Select(nil, Target{}); !errors.Is(err, ErrNoCluster) {
		t.Errorf("Select with no nodes: %v, want ErrNoCluster", err)
	}
}

func TestPlan_C16(t *testing.T) {
	ids := func(nodes []Node, deps [][]int) map[string][]string {
		out := map[string][]string{}
		for i, d := range deps {
			for _, j := range d {
				out[nodes[i].ID] = append(out[nodes[i].ID], nodes[j].ID)
			}
		}
		return out
	}
	tests := []struct {
		name  string
		kind  Kind
		order Order
		want  map[string][]string
	}{
		// A purge: every L1 after every L2, whatever the region.
		{"purge", KindPurge, "", map[string][]string{
			"l1-eu": {"l2-eu", "l2-sg"}, "l1-sg": {"l2-eu", "l2-sg"}, "l1-x": {"l2-eu", "l2-sg"},
		}},
		// A prefetch by tiers: an L1 after the L2 nodes of its region; an L1
		// of a region without L2 starts at once.
		{"prefetch tiers", KindPrefetch, OrderTiers, map[string][]string{
			"l1-eu": {"l2-eu"}, "l1-sg": {"l2-sg"},
		}},
		{"prefetch parallel", KindPrefetch, OrderParallel, map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(testNodes, Plan(tt.kind, tt.order, testNodes))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Plan(%s, %q) (-want +got):\n%s", tt.kind, tt.order, diff)
			}
		})
	}
}

func TestRequestCheck_C16(t *testing.T) {
	neg := -1
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"purge ok", purgeErr(PurgeRequest{URLs: []string{"http://a.test/x"}}), ""},
		{"purge two selectors", purgeErr(PurgeRequest{URLs: []string{"http://a.test/x"}, Domain: "a.test"}), "exactly one of urls, prefix and domain"},
		{"purge bad mode", purgeErr(PurgeRequest{Domain: "a.test", Mode: "soft"}), `mode "soft"`},
		{"purge relative URL", purgeErr(PurgeRequest{URLs: []string{"/x"}}), `"/x" is not an absolute http or https URL`},
		{"purge bad prefix", purgeErr(PurgeRequest{Prefix: "ftp://a.test/"}), "not an absolute http"},
		{"prefetch ok", prefetchErr(PrefetchRequest{URLs: []string{"https://a.test/x"}, Order: OrderParallel}), ""},
		{"prefetch no urls", prefetchErr(PrefetchRequest{}), "no urls"},
		{"prefetch bad order", prefetchErr(PrefetchRequest{URLs: []string{"http://a.test/"}, Order: "random"}), `order "random"`},
		{"prefetch retries", prefetchErr(PrefetchRequest{URLs: []string{"http://a.test/"}, Retries: &neg}), "retries -1"},
		{"prefetch concurrency", prefetchErr(PrefetchRequest{URLs: []string{"http://a.test/"}, Concurrency: 65}), "concurrency 65"},
	}
	for _, tt := range tests {
		switch {
		case tt.want == "" && tt.err != nil:
			t.Errorf("%s: %v, want no error", tt.name, tt.err)
		case tt.want != "" && (tt.err == nil || !errors.Is(tt.err, ErrInvalid) || !strings.Contains(tt.err.Error(), tt.want)):
			t.Errorf("%s: %v, want ErrInvalid containing %q", tt.name, tt.err, tt.want)
		}
	}
}

func purgeErr(r PurgeRequest) error {
	_, _, err := r.check()
	return err
}

func prefetchErr(r PrefetchRequest) error {
	_, err := r.check()
	return err
}
