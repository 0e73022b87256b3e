package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/strata-cdn/strata/internal/jsonapi"
)

// maxTaskBody bounds the JSON body of a purge or prefetch request.
const maxTaskBody = 8 << 20

// TaskAccepted is the answer to a purge or prefetch request (202).
type TaskAccepted struct {
	ID        string   `json:"id"`
	Kind      TaskKind `json:"kind"`
	Total     int      `json:"total"`
	StatusURL string   `json:"status_url"`
}

// TaskList is the answer of GET /edge/tasks.
type TaskList struct {
	Node  string       `json:"node"`
	Tasks []TaskStatus `json:"tasks"`
}

// APIError is the body of an admin API error.
type APIError = jsonapi.Error

// AdminHandler serves the task API, to be mounted on the admin listener
// under /edge/ (docs/admin-api.md):
//
//	POST /edge/purge            start a purge (PurgeRequest) -> 202 TaskAccepted
//	POST /edge/prefetch         start a prefetch (PrefetchRequest) -> 202 TaskAccepted
//	GET  /edge/tasks            the kept tasks, newest first, without items
//	GET  /edge/tasks/{id}       one task's TaskStatus; ?wait=10s waits (at
//	                            most 60s) for it to finish first
func (t *Tasks) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /edge/purge", t.servePurge)
	mux.HandleFunc("POST /edge/prefetch", t.servePrefetch)
	mux.HandleFunc("GET /edge/tasks", t.serveList)
	mux.HandleFunc("GET /edge/tasks/{id}", t.serveTask)
	mux.HandleFunc("/edge/", func(w http.ResponseWriter, r *http.Request) {
		jsonapi.Write(w, http.StatusNotFound, APIError{Error: "no such endpoint: " + r.Method + " " + r.URL.Path +
			"; see POST /edge/purge, POST /edge/prefetch, GET /edge/tasks, GET /edge/tasks/{id}"})
	})
	return mux
}

func (t *Tasks) servePurge(w http.ResponseWriter, r *http.Request) {
	var req PurgeRequest
	if !jsonapi.Decode(w, r, &req, maxTaskBody) {
		return
	}
	st, err := t.Purge(req)
	t.accepted(w, st, err)
}

func (t *Tasks) servePrefetch(w http.ResponseWriter, r *http.Request) {
	var req PrefetchRequest
	if !jsonapi.Decode(w, r, &req, maxTaskBody) {
		return
	}
	st, err := t.Prefetch(req)
	t.accepted(w, st, err)
}

// accepted answers a task submission.
func (t *Tasks) accepted(w http.ResponseWriter, st TaskStatus, err error) {
	switch {
	case errors.Is(err, ErrInvalidTask):
		jsonapi.Write(w, http.StatusBadRequest, APIError{Error: err.Error()})
	case errors.Is(err, ErrTasksClosed):
		jsonapi.Write(w, http.StatusServiceUnavailable, APIError{Error: "the node is shutting down; no new tasks"})
	case err != nil:
		jsonapi.Write(w, http.StatusInternalServerError, APIError{Error: err.Error()})
	default:
		loc := "/edge/tasks/" + st.ID
		w.Header().Set("Location", loc)
		jsonapi.Write(w, http.StatusAccepted, TaskAccepted{ID: st.ID, Kind: st.Kind, Total: st.Total, StatusURL: loc})
	}
}

func (t *Tasks) serveList(w http.ResponseWriter, r *http.Request) {
	jsonapi.Write(w, http.StatusOK, TaskList{Node: t.h.nodeID, Tasks: t.List()})
}

func (t *Tasks) serveTask(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	// An unknown ID is answered below.
	if !jsonapi.Wait(w, r, func(ctx context.Context) { _, _ = t.Wait(ctx, id) }) {
		return
	}
	st, ok := t.Task(id)
	if !ok {
		jsonapi.Write(w, http.StatusNotFound, APIError{Error: fmt.Sprintf(
			"unknown task %q on node %s (it never ran here, or it is older than the last %d finished tasks kept)",
			id, t.h.nodeID, t.opts.History)})
		return
	}
	jsonapi.Write(w, http.StatusOK, st)
}
