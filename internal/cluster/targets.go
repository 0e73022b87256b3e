package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Tiers of a node.
const (
	// TierL1 nodes are the edges clients reach.
	TierL1 = "l1"
	// TierL2 nodes are the parents L1 nodes fetch their misses through.
	TierL2 = "l2"
)

// ErrInvalid wraps every reason a cluster task request is refused (the
// admin API answers 400 with it).
var ErrInvalid = errors.New("invalid cluster task")

// ErrNoCluster is returned when the coordinator has no nodes configured
// (the admin API answers 409).
var ErrNoCluster = errors.New("no cluster configured on this node: list the nodes under cluster.nodes (docs/config.md)")

// Node is one node of the cluster, as cluster.nodes lists it.
type Node struct {
	// ID is the node's node_id.
	ID string `json:"id"`
	// Admin is the base URL of its admin API, e.g. "http://10.0.0.1:9090".
	Admin string `json:"admin"`
	// Tier is TierL1 or TierL2.
	Tier string `json:"tier"`
	// Region is a free-form region name; may be empty.
	Region string `json:"region,omitempty"`
}

// Target selects the nodes of a task: the nodes listed by ID, or the nodes
// of a tier and/or a region; every node when all fields are empty.
type Target struct {
	// Nodes are node IDs; not with Tier or Region.
	Nodes []string `json:"nodes,omitempty"`
	// Tier is TierL1 or TierL2.
	Tier string `json:"tier,omitempty"`
	// Region is a region name of cluster.nodes.
	Region string `json:"region,omitempty"`
}

// String describes the target for messages: "all nodes", "tier l2 in
// region eu", "nodes a, b".
func (t Target) String() string {
	switch {
	case len(t.Nodes) > 0:
		return "nodes " + strings.Join(t.Nodes, ", ")
	case t.Tier != "" && t.Region != "":
		return "tier " + t.Tier + " in region " + t.Region
	case t.Tier != "":
		return "tier " + t.Tier
	case t.Region != "":
		return "region " + t.Region
	}
	return "all nodes"
}

// Select returns the nodes t picks, in the order of nodes. Every problem
// (an unknown ID or tier, a filter matching nothing) wraps ErrInvalid and
// names what exists.
func Select(nodes []Node, t Target) ([]Node, error) {
	if len(nodes) == 0 {
		return nil, ErrNoCluster
	}
	if len(t.Nodes) > 0 && (t.Tier != "" || t.Region != "") {
		return nil, fmt.Errorf("%w: give nodes, or tier and/or region, not both", ErrInvalid)
	}
	if t.Tier != "" && t.Tier != TierL1 && t.Tier != TierL2 {
		return nil, fmt.Errorf("%w: tier %q: want %s or %s", ErrInvalid, t.Tier, TierL1, TierL2)
	}
	if len(t.Nodes) > 0 {
		want := make(map[string]bool, len(t.Nodes))
		for _, id := range t.Nodes {
			if !slices.ContainsFunc(nodes, func(n Node) bool { return n.ID == id }) {
				return nil, fmt.Errorf("%w: unknown node %q; the cluster's nodes are %s", ErrInvalid, id, strings.Join(nodeIDs(nodes), ", "))
			}
			if want[id] {
				return nil, fmt.Errorf("%w: node %q is listed twice", ErrInvalid, id)
			}
			want[id] = true
		}
		// The configuration's order, which is the order of the status.
		var out []Node
		for _, n := range nodes {
			if want[n.ID] {
				out = append(out, n)
			}
		}
		return out, nil
	}
	var out []Node
	for _, n := range nodes {
		if (t.Tier == "" || n.Tier == t.Tier) && (t.Region == "" || n.Region == t.Region) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no node matches %s; the cluster's nodes are %s", ErrInvalid, t, describeNodes(nodes))
	}
	return out, nil
}

// nodeIDs returns the IDs of nodes.
func nodeIDs(nodes []Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

// describeNodes lists nodes with their tier and region: "a (l1, eu), b (l2)".
func describeNodes(nodes []Node) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		if n.Region != "" {
			parts[i] = fmt.Sprintf("%s (%s, %s)", n.ID, n.Tier, n.Region)
		} else {
			parts[i] = fmt.Sprintf("%s (%s)", n.ID, n.Tier)
		}
	}
	return strings.Join(parts, ", ")
}

// Kind names what a cluster task does.
type Kind string

// Task kinds.
const (
	KindPurge    Kind = "purge"
	KindPrefetch Kind = "prefetch"
)

// Order says when a prefetch reaches each tier.
type Order string

// Prefetch orders.
const (
	// OrderTiers (the default) starts an L1 node once every targeted L2
	// node of its region has finished, so the L1 fills from a warm parent
	// and a lagging L2 holds up only its own region.
	OrderTiers Order = "tiers"
	// OrderParallel starts every node at once.
	OrderParallel Order = "parallel"
)

// Plan returns, for each of nodes (as Select returned them), the indexes
// of the nodes it must wait for before its task is submitted:
//
//   - purge: every L1 waits for every targeted L2, whatever the region,
//     since an L1's parents may be anywhere: an L1 purged first could
//     refill from an L2 still holding the old object.
//   - prefetch, OrderTiers: an L1 waits for the targeted L2 nodes of its
//     own region (nodes without a region form one region).
//   - prefetch, OrderParallel: nobody waits.
func Plan(kind Kind, order Order, nodes []Node) [][]int {
	deps := make([][]int, len(nodes))
	if kind == KindPrefetch && order == OrderParallel {
		return deps
	}
	for i, n := range nodes {
		if n.Tier != TierL1 {
			continue
		}
		for j, p := range nodes {
			if p.Tier == TierL2 && (kind == KindPurge || p.Region == n.Region) {
				deps[i] = append(deps[i], j)
			}
		}
	}
	return deps
}
