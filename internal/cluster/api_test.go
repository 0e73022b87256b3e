package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAdminAPI_C16(t *testing.T) {
	node := newFakeNode(t, "l2-a", &events{})
	c := newCoordinator(t, node.node(TierL2, "eu"))
	api := httptest.NewServer(c.AdminHandler())
	defer api.Close()
	empty := newCoordinator(t)
	emptyAPI := httptest.NewServer(empty.AdminHandler())
	defer emptyAPI.Close()

	post := func(base, path, body string) (int, string, http.Header) {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	tests := []struct {
		name, base, path, body string
		code                   int
		want                   string
	}{
		{"unknown field", api.URL, "/cluster/purge", `{"urls":["http://a.test/x"],"tiers":"l2"}`, 400, `unknown field \"tiers\"`},
		{"bad tier", api.URL, "/cluster/prefetch", `{"urls":["http://a.test/x"],"tier":"edge"}`, 400, `tier \"edge\": want l1 or l2`},
		{"no match", api.URL, "/cluster/purge", `{"domain":"a.test","region":"us"}`, 400, `no node matches region us; the cluster's nodes are l2-a (l2, eu)`},
		{"no cluster", emptyAPI.URL, "/cluster/purge", `{"domain":"a.test"}`, 409, "no cluster configured on this node"},
		{"unknown endpoint", api.URL, "/cluster/flush", `{}`, 404, "no such endpoint"},
	}
	for _, tt := range tests {
		code, body, _ := post(tt.base, tt.path, tt.body)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s; want %d with %q", tt.name, code, body, tt.code, tt.want)
		}
	}

	code, body, hdr := post(api.URL, "/cluster/prefetch", `{"urls":["http://a.test/x"],"tier":"l2","order":"parallel"}`)
	var acc Accepted
	if err := json.Unmarshal([]byte(body), &acc); code != 202 || err != nil || len(acc.Nodes) != 1 || hdr.Get("Location") != acc.StatusURL {
		t.Fatalf("prefetch: %d %s", code, body)
	}
	resp, err := http.Get(api.URL + acc.StatusURL + "?wait=30s")
	if err != nil {
		t.Fatal(err)
	}
	var st TaskStatus
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || !st.Done || st.State != TaskOK || st.Coordinator != "coord" || st.Order != OrderParallel || len(st.Nodes) != 1 {
		t.Errorf("status after wait: %v %+v", err, st)
	}
	resp, err = http.Get(api.URL + "/cluster/tasks/cluster-purge-000000000000")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), "started on another node") {
		t.Errorf("unknown task: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(api.URL + "/cluster/tasks")
	if err != nil {
		t.Fatal(err)
	}
	var list TaskList
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list.Tasks) != 1 || list.Tasks[0].ID != acc.ID || len(list.Tasks[0].Summary) != 1 || list.Tasks[0].Nodes != nil {
		t.Errorf("task list: %v %+v", err, list)
	}
}

// FuzzRequest: any body is refused with ErrInvalid (or ErrNoCluster-free
// targeting errors) or accepted as a request the nodes can decode; nothing
// panics.
func FuzzRequest(f *testing.F) {
	f.Add([]byte(`{"urls":["http://a.test/x"],"tier":"l2"}`), true)
	f.Add([]byte(`{"prefix":"https://a.test/static/","mode":"stale","nodes":["l1-eu"]}`), true)
	f.Add([]byte(`{"urls":["http://a.test/x"],"order":"parallel","timeout":1.5,"retries":3,"region":"ap"}`), false)
	f.Add([]byte(`{"urls":[],"node_timeout":"1h"}`), false)
	f.Fuzz(func(t *testing.T, body []byte, purge bool) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		var target Target
		var edgeBody any
		var err error
		if purge {
			var r PurgeRequest
			if dec.Decode(&r) != nil {
				return
			}
			target = r.Target
			edgeBody, _, err = r.check()
		} else {
			var r PrefetchRequest
			if dec.Decode(&r) != nil {
				return
			}
			target = r.Target
			edgeBody, err = r.check()
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("check: %v does not wrap ErrInvalid", err)
			}
			return
		}
		if _, err := json.Marshal(edgeBody); err != nil {
			t.Fatalf("the node's body does not encode: %v", err)
		}
		if _, err := Select(testNodes, target); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Select: %v does not wrap ErrInvalid", err)
		}
	})
}
