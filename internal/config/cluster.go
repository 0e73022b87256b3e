package config

import (
	"fmt"
	"net/url"
	"strings"
)

// Cluster lists the nodes of a deployment so that one admin call purges or
// prefetches on all of them, a tier or a region (docs/admin-api.md,
// "Cluster tasks"; case C16). Any node with this section coordinates: it
// submits one edge task per targeted node through that node's admin API
// and follows it.
type Cluster struct {
	// Nodes are the deployment's nodes, this one included or not.
	Nodes []ClusterNode `yaml:"nodes"`
	// CallTimeout bounds each admin API call to a node. 0 = 10s.
	CallTimeout Duration `yaml:"call_timeout"`
	// NodeTimeout bounds one node's part of a cluster task, from its
	// submission (retries included) to its end; a request may set its own.
	// 0 = 30m.
	NodeTimeout Duration `yaml:"node_timeout"`
	// LagAfter: a node whose task has not finished another URL for this
	// long is reported lagging. 0 = 1m.
	LagAfter Duration `yaml:"lag_after"`
	// RetryBackoff is the first wait before calling an unreachable node
	// again; it doubles up to 30s. 0 = 1s.
	RetryBackoff Duration `yaml:"retry_backoff"`
}

// ClusterNode is one node of the cluster.
type ClusterNode struct {
	// ID is the node's node_id; the node's answers are checked against it.
	ID string `yaml:"id"`
	// Admin is the base URL of the node's admin API. It may be empty only
	// for this node's own entry (ID == node_id): its admin listener is used.
	Admin string `yaml:"admin"`
	// Tier is "l1" (edges clients reach) or "l2" (parents of l1 edges).
	Tier string `yaml:"tier"`
	// Region groups nodes for targeting and for the order of prefetches:
	// an l1 waits only for the l2 nodes of its own region. Optional.
	Region string `yaml:"region"`
}

// Cluster tiers.
const (
	TierL1 = "l1"
	TierL2 = "l2"
)

// cluster checks the cluster section.
func (p *problems) cluster(c *Config) {
	cl := c.Cluster
	ids := map[string]int{}
	admins := map[string]int{}
	for i, n := range cl.Nodes {
		path := fmt.Sprintf("cluster.nodes[%d]", i)
		switch {
		case strings.TrimSpace(n.ID) == "":
			p.add(path+".id", "must not be empty; write the node's node_id, e.g. \"l2-sg\"")
		case strings.ContainsAny(n.ID, " ,;()\"\t\r\n/"):
			p.add(path+".id", "%q is not a node ID; use letters, digits, '-', '.' or '_' (the node's node_id)", n.ID)
		default:
			if j, dup := ids[n.ID]; dup {
				p.add(path+".id", "%q is also cluster.nodes[%d].id; list each node once", n.ID, j)
			}
			ids[n.ID] = i
		}
		if n.Admin == "" {
			if n.ID != c.NodeID {
				p.add(path+".admin", "must be set to the node's admin API, e.g. \"http://10.0.0.1:9090\" (only this node's own entry, id %q, may leave it empty)", c.NodeID)
			}
		} else {
			p.adminURL(path+".admin", n.Admin)
			key := strings.TrimRight(n.Admin, "/")
			if j, dup := admins[key]; dup {
				p.add(path+".admin", "%q is also cluster.nodes[%d].admin; each node has its own admin API", n.Admin, j)
			}
			admins[key] = i
		}
		switch n.Tier {
		case TierL1, TierL2:
		case "":
			p.add(path+".tier", "must be set: l1 (edges clients reach) or l2 (their parents)")
		default:
			p.add(path+".tier", "%q is not a tier; use l1 or l2", n.Tier)
		}
		if strings.ContainsAny(n.Region, " ,;()\"\t\r\n/") {
			p.add(path+".region", "%q is not a region name; use letters, digits, '-', '.' or '_'", n.Region)
		}
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"call_timeout", cl.CallTimeout}, {"node_timeout", cl.NodeTimeout}, {"lag_after", cl.LagAfter}, {"retry_backoff", cl.RetryBackoff}} {
		if d.v < 0 {
			p.add("cluster."+d.key, "must not be negative; 0 means the default")
		}
	}
	if cl.CallTimeout > 0 && cl.NodeTimeout > 0 && cl.NodeTimeout < cl.CallTimeout {
		p.add("cluster.node_timeout", "%v is shorter than cluster.call_timeout %v; a node could not even be called once", cl.NodeTimeout.D(), cl.CallTimeout.D())
	}
}

// adminURL checks the base URL of an admin API.
func (p *problems) adminURL(path, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		p.add(path, "%q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		p.add(path, "%q: scheme must be http or https, e.g. \"http://10.0.0.1:9090\"", s)
	case u.Host == "":
		p.add(path, "%q has no host; write e.g. \"http://10.0.0.1:9090\"", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		p.add(path, "%q: an admin URL has no query, fragment or user info", s)
	}
}
