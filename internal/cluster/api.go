package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/strata-cdn/strata/internal/jsonapi"
)

// maxBody bounds the JSON body of a cluster task request.
const maxBody = 8 << 20

// Accepted is the answer to a cluster task request (202).
type Accepted struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Nodes are the targeted nodes, in the order of the status.
	Nodes     []string `json:"nodes"`
	StatusURL string   `json:"status_url"`
	Warnings  []string `json:"warnings,omitempty"`
}

// TaskList is the answer of GET /cluster/tasks.
type TaskList struct {
	Coordinator string       `json:"coordinator"`
	Tasks       []TaskStatus `json:"tasks"`
}

// NodeList is the answer of GET /cluster/nodes.
type NodeList struct {
	Coordinator string `json:"coordinator"`
	Nodes       []Node `json:"nodes"`
}

// APIError is the body of an error answer.
type APIError = jsonapi.Error

// AdminHandler serves the cluster task API, to be mounted on the admin
// listener under /cluster/ (docs/admin-api.md, "Cluster tasks"):
//
//	POST /cluster/purge        start a cluster purge (PurgeRequest) -> 202 Accepted
//	POST /cluster/prefetch     start a cluster prefetch (PrefetchRequest) -> 202 Accepted
//	GET  /cluster/tasks        the kept tasks, newest first, with summaries
//	GET  /cluster/tasks/{id}   one task's TaskStatus; ?wait=10s waits (at
//	                           most 60s) for it to finish first
//	GET  /cluster/nodes        the configured nodes
func (c *Coordinator) AdminHandler() http.Handler {
	c.init()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cluster/purge", func(w http.ResponseWriter, r *http.Request) {
		var req PurgeRequest
		if jsonapi.Decode(w, r, &req, maxBody) {
			st, err := c.Purge(req)
			c.accepted(w, st, err)
		}
	})
	mux.HandleFunc("POST /cluster/prefetch", func(w http.ResponseWriter, r *http.Request) {
		var req PrefetchRequest
		if jsonapi.Decode(w, r, &req, maxBody) {
			st, err := c.Prefetch(req)
			c.accepted(w, st, err)
		}
	})
	mux.HandleFunc("GET /cluster/tasks", func(w http.ResponseWriter, r *http.Request) {
		jsonapi.Write(w, http.StatusOK, TaskList{Coordinator: c.NodeID, Tasks: c.List()})
	})
	mux.HandleFunc("GET /cluster/tasks/{id}", c.serveTask)
	mux.HandleFunc("GET /cluster/nodes", func(w http.ResponseWriter, r *http.Request) {
		nodes := c.Nodes
		if nodes == nil {
			nodes = []Node{}
		}
		jsonapi.Write(w, http.StatusOK, NodeList{Coordinator: c.NodeID, Nodes: nodes})
	})
	mux.HandleFunc("/cluster/", func(w http.ResponseWriter, r *http.Request) {
		jsonapi.Write(w, http.StatusNotFound, APIError{Error: "no such endpoint: " + r.Method + " " + r.URL.Path +
			"; see POST /cluster/purge, POST /cluster/prefetch, GET /cluster/tasks, GET /cluster/tasks/{id}, GET /cluster/nodes"})
	})
	return mux
}

// accepted answers a task submission.
func (c *Coordinator) accepted(w http.ResponseWriter, st TaskStatus, err error) {
	switch {
	case errors.Is(err, ErrInvalid):
		jsonapi.Write(w, http.StatusBadRequest, APIError{Error: err.Error()})
	case errors.Is(err, ErrNoCluster):
		jsonapi.Write(w, http.StatusConflict, APIError{Error: fmt.Sprintf("node %s: %v", c.NodeID, err)})
	case errors.Is(err, ErrClosed):
		jsonapi.Write(w, http.StatusServiceUnavailable, APIError{Error: "the node is shutting down; no new cluster tasks"})
	case err != nil:
		jsonapi.Write(w, http.StatusInternalServerError, APIError{Error: err.Error()})
	default:
		loc := "/cluster/tasks/" + st.ID
		w.Header().Set("Location", loc)
		ids := make([]string, len(st.Nodes))
		for i, n := range st.Nodes {
			ids[i] = n.ID
		}
		jsonapi.Write(w, http.StatusAccepted, Accepted{ID: st.ID, Kind: st.Kind, Nodes: ids, StatusURL: loc, Warnings: st.Warnings})
	}
}

func (c *Coordinator) serveTask(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	// An unknown ID is answered below.
	if !jsonapi.Wait(w, r, func(ctx context.Context) { _, _ = c.Wait(ctx, id) }) {
		return
	}
	st, ok := c.Task(id)
	if !ok {
		jsonapi.Write(w, http.StatusNotFound, APIError{Error: fmt.Sprintf(
			"unknown cluster task %q on node %s (it was started on another node, or it is older than the last %d finished tasks kept)",
			id, c.NodeID, orDefault(c.History, DefaultHistory))})
		return
	}
	jsonapi.Write(w, http.StatusOK, st)
}
