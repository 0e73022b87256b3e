// Package cluster runs purge and prefetch across the nodes of a deployment
// (case C16): one call on any node's admin API (POST /cluster/purge, POST
// /cluster/prefetch) submits one edge task per targeted node through that
// node's own admin API (POST /edge/purge, POST /edge/prefetch), follows each
// (GET /edge/tasks/{id}), retries unreachable nodes with backoff within a
// per-node deadline, and aggregates the per-node progress into one status
// (GET /cluster/tasks/{id}) that names the node that lags and why.
//
// Order matters between tiers. A purge reaches every targeted L2 (parent)
// before any L1, so that an L1 cannot refill from an L2 still holding the
// old object; a prefetch warms an L1 only after the L2 nodes of its region
// are done, so the L1 fills from a warm parent, and a lagging L2 in one
// region holds up only that region.
//
// The package speaks to nodes only over HTTP: the edge's task API is its
// contract, so a coordinator and the nodes it drives may run different
// builds, and nodes need no other channel between them.
package cluster
