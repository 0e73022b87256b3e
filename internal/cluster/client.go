package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The edge's task API, as JSON (docs/admin-api.md, "Edge purge and
// prefetch"). Only the fields the coordinator reads are mirrored; the
// package does not import the edge, whose admin API is the contract.

// edgeAccepted is a node's 202 answer to a task submission.
type edgeAccepted struct {
	ID        string `json:"id"`
	Total     int    `json:"total"`
	StatusURL string `json:"status_url"`
}

// edgeItem is one URL of a node's task.
type edgeItem struct {
	URL      string `json:"url"`
	State    string `json:"state"` // pending, running, ok, failed
	Status   int    `json:"status,omitempty"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
}

// edgeStatus is a node's task status (GET /edge/tasks/{id}).
type edgeStatus struct {
	ID        string     `json:"id"`
	Node      string     `json:"node"`
	Done      bool       `json:"done"`
	Canceled  bool       `json:"canceled,omitempty"`
	Total     int        `json:"total"`
	Succeeded int        `json:"succeeded"`
	Failed    int        `json:"failed"`
	Error     string     `json:"error,omitempty"`
	Items     []edgeItem `json:"items,omitempty"`
}

// Item states of a node's task.
const (
	itemRunning = "running"
	itemFailed  = "failed"
)

// maxAnswer bounds the body of a node's answer (a status of 10 000 URLs
// with their errors fits).
const maxAnswer = 64 << 20

// callError is a failed call to a node's admin API.
type callError struct {
	// Status is the HTTP status of the answer; 0 when there was none
	// (connection refused, timeout, a body that did not decode).
	Status int
	// Msg says what went wrong, with the node's own message if it gave one.
	Msg string
}

func (e *callError) Error() string { return e.Msg }

// refused reports whether the node answered, and refused for good: a 4xx
// other than 404 (which, for a status, means the node forgot the task) and
// 408/429, which are worth trying again.
func (e *callError) refused() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusNotFound &&
		e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// errLost is returned by status when the node does not know the task.
var errLost = errors.New("the node does not know the task (it restarted, or dropped it from its history)")

// client calls the admin API of nodes.
type client struct {
	hc *http.Client
}

// call sends one request to base+path and decodes a 2xx JSON answer into
// out. A failure is a *callError.
func (c client) call(ctx context.Context, method, base, path string, body, out any, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return &callError{Msg: err.Error()}
		}
		rd = bytes.NewReader(b)
	}
	target := strings.TrimRight(base, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return &callError{Msg: err.Error()}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "strata-cluster")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the method and URL are said below
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return &callError{Msg: fmt.Sprintf("%s %s: no answer within %v", method, target, timeout)}
		}
		return &callError{Msg: fmt.Sprintf("%s %s: %v", method, target, err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &callError{Msg: fmt.Sprintf("%s %s: reading the answer: %v", method, target, err)}
	}
	if resp.StatusCode/100 != 2 {
		var ae struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &ae) == nil && ae.Error != "" {
			msg = ae.Error
		}
		if len(msg) > 512 {
			msg = msg[:512] + "…"
		}
		return &callError{Status: resp.StatusCode, Msg: fmt.Sprintf("%s %s answered %s: %s", method, target, resp.Status, msg)}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &callError{Msg: fmt.Sprintf("%s %s: the answer is not a task: %v", method, target, err)}
	}
	return nil
}

// submit starts kind's task with body on node n.
func (c client) submit(ctx context.Context, n Node, kind Kind, body any, timeout time.Duration) (edgeAccepted, error) {
	var acc edgeAccepted
	err := c.call(ctx, http.MethodPost, n.Admin, "/edge/"+string(kind), body, &acc, timeout)
	if err == nil && acc.ID == "" {
		err = &callError{Msg: fmt.Sprintf("POST %s/edge/%s: the answer has no task ID", n.Admin, kind)}
	}
	return acc, err
}

// status reads task id on node n, waiting up to wait for it to finish
// (the node answers at once when it is done).
func (c client) status(ctx context.Context, n Node, id string, wait, timeout time.Duration) (edgeStatus, error) {
	var st edgeStatus
	path := "/edge/tasks/" + url.PathEscape(id)
	if wait > 0 {
		path += "?wait=" + wait.String()
	}
	err := c.call(ctx, http.MethodGet, n.Admin, path, nil, &st, timeout+wait)
	var ce *callError
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
		return st, fmt.Errorf("%w: %s", errLost, ce.Msg)
	}
	return st, err
}

// taskURL is the absolute status URL of task id on node n.
func taskURL(n Node, id string) string {
	return strings.TrimRight(n.Admin, "/") + "/edge/tasks/" + url.PathEscape(id)
}
