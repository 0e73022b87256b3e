package daemon

import (
	"net"
	"strconv"

	"github.com/strata-cdn/strata/internal/cluster"
)

// startCluster builds the coordinator of cluster tasks from cluster: and
// mounts its API on the admin listener under /cluster/ (docs/admin-api.md,
// "Cluster tasks"; case C16). It runs once the admin listener is bound: a
// node's own entry in cluster.nodes may leave admin empty, and this node's
// admin address stands in. Without cluster.nodes the API answers 409.
func (d *Daemon) startCluster() {
	c := d.cfg.Cluster
	nodes := make([]cluster.Node, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		admin := n.Admin
		if admin == "" { // only this node's own entry (validated)
			admin = d.selfAdminURL()
		}
		nodes = append(nodes, cluster.Node{ID: n.ID, Admin: admin, Tier: n.Tier, Region: n.Region})
	}
	d.cluster = &cluster.Coordinator{
		NodeID:       d.cfg.NodeID,
		Nodes:        nodes,
		CallTimeout:  c.CallTimeout.D(),
		NodeTimeout:  c.NodeTimeout.D(),
		LagAfter:     c.LagAfter.D(),
		RetryBackoff: c.RetryBackoff.D(),
		Logger:       d.log.With("service", "cluster"),
	}
	d.admin.Mount("/cluster/", d.cluster.AdminHandler())
}

// stopCluster cancels the running cluster tasks and waits for them; the
// nodes' own tasks go on.
func (d *Daemon) stopCluster() {
	if d.cluster != nil {
		d.cluster.Close()
		d.cluster = nil
	}
}

// selfAdminURL is the base URL of this node's admin listener, with the
// loopback address for a listener on every address.
func (d *Daemon) selfAdminURL() string {
	a, ok := d.Addr("admin").(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port))
}
