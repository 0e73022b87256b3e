package edge

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// admin is a Tasks of an edge served on 127.0.0.1 as the admin API.
type admin struct {
	t     *testing.T
	tasks *Tasks
	srv   *httptest.Server
}

// newAdmin starts the task manager of e and its admin API.
func newAdmin(t *testing.T, e *edge, opts TasksOptions) *admin {
	t.Helper()
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = time.Millisecond
	}
	tasks, err := NewTasks(e.h, opts)
	if err != nil {
		t.Fatalf("NewTasks: %v", err)
	}
	a := &admin{t: t, tasks: tasks, srv: httptest.NewServer(tasks.AdminHandler())}
	t.Cleanup(a.srv.Close)
	return a
}

// post sends a JSON body and returns the status and the body.
func (a *admin) post(path string, body any) (int, []byte) {
	a.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		a.t.Fatal(err)
	}
	resp, err := a.srv.Client().Post(a.srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		a.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// submit posts a task and returns its acceptance, failing unless 202.
func (a *admin) submit(path string, body any) TaskAccepted {
	a.t.Helper()
	code, out := a.post(path, body)
	if code != http.StatusAccepted {
		a.t.Fatalf("POST %s: %d %s, want 202", path, code, out)
	}
	var acc TaskAccepted
	if err := json.Unmarshal(out, &acc); err != nil {
		a.t.Fatalf("POST %s: %v in %s", path, err, out)
	}
	if acc.ID == "" || acc.StatusURL != "/edge/tasks/"+acc.ID {
		a.t.Fatalf("POST %s: accepted %+v, want an id and status_url /edge/tasks/<id>", path, acc)
	}
	return acc
}

// get fetches an admin path and returns the status and raw body.
func (a *admin) get(path string) (int, []byte) {
	a.t.Helper()
	resp, err := a.srv.Client().Get(a.srv.URL + path)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		a.t.Errorf("GET %s: Content-Type %q, want application/json", path, ct)
	}
	return resp.StatusCode, out
}

// wait polls the status endpoint (long-polling with ?wait=) until the
// task is done and returns its final status and raw JSON.
func (a *admin) wait(acc TaskAccepted) (TaskStatus, []byte) {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out := a.get(acc.StatusURL + "?wait=10s")
		if code != http.StatusOK {
			a.t.Fatalf("GET %s: %d %s", acc.StatusURL, code, out)
		}
		var st TaskStatus
		if err := json.Unmarshal(out, &st); err != nil {
			a.t.Fatalf("GET %s: %v in %s", acc.StatusURL, err, out)
		}
		if st.Done {
			return st, out
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("task %s not done within 30s: %s", acc.ID, out)
		}
	}
}

// run submits a task, waits for it and fails the test unless every item
// succeeded.
func (a *admin) run(path string, body any) TaskStatus {
	a.t.Helper()
	st, raw := a.wait(a.submit(path, body))
	if st.Failed != 0 || st.Succeeded != st.Total {
		a.t.Fatalf("task %s: %s", st.ID, raw)
	}
	return st
}

// originGets counts the origin's GETs of path.
func (o *origin) getsOf(path string) int {
	n := 0
	for _, r := range o.requests() {
		if r.Method == http.MethodGet && r.URL.Path == path {
			n++
		}
	}
	return n
}
