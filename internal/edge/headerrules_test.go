package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRequestHeaderRules_C12: an origin that answers differently when it
// sees Via (like nginx gzip_proxied) answers as when asked directly once
// the domain removes Via, X-Forwarded-For and Accept-Encoding; set and add
// reach the origin.
func TestRequestHeaderRules_C12(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Header.Get("Via") != "" {
			fmt.Fprint(w, "proxied")
			return
		}
		fmt.Fprint(w, "direct")
	})
	tests := []struct {
		name  string
		rules HeaderRules
		body  string
		check func(t *testing.T, r *http.Request)
	}{
		{name: "default", body: "proxied", check: func(t *testing.T, r *http.Request) {
			if r.Header.Get("X-Forwarded-For") == "" {
				t.Errorf("X-Forwarded-For missing by default")
			}
		}},
		{
			name: "remove-and-edit",
			rules: HeaderRules{
				Remove: []string{"via", "X-Forwarded-For", "Accept-Encoding"},
				Set:    map[string]string{"X-Tenant": "blue", "User-Agent": "strata-test"},
				Add:    map[string]string{"X-Extra": "1"},
			},
			body: "direct",
			check: func(t *testing.T, r *http.Request) {
				for _, f := range []string{"Via", "X-Forwarded-For", "Accept-Encoding"} {
					if v := r.Header.Values(f); len(v) > 0 {
						t.Errorf("origin got %s = %q, want none", f, v)
					}
				}
				if got := r.Header.Get("X-Tenant"); got != "blue" {
					t.Errorf("X-Tenant = %q, want blue", got)
				}
				if got := r.Header.Values("X-Extra"); len(got) != 2 {
					t.Errorf("X-Extra = %q, want the client's and the added one", got)
				}
				if got := r.UserAgent(); got != "strata-test" {
					t.Errorf("User-Agent = %q, want strata-test", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEdge(t, o.URL, withDomain(func(d *Domain) { d.RequestHeaders = tt.rules }))
			resp, body := e.get("/x", "Accept-Encoding", "gzip", "X-Extra", "0")
			if resp.StatusCode != 200 || string(body) != tt.body {
				t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, tt.body)
			}
			reqs := o.requests()
			tt.check(t, reqs[len(reqs)-1])
		})
	}
}

// TestResponseHeaderRules_C10: set replaces the origin's field instead of
// adding a second value, also on a response served from the cache.
func TestResponseHeaderRules_C10(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "ALLOW")
		w.Header().Set("Server", "origin/1")
		w.Header().Set("X-Debug", "secret")
		serveObject(w, r, []byte("hello"), `"v1"`, "max-age=60")
	})
	e := newEdge(t, o.URL, withDomain(func(d *Domain) {
		d.ResponseHeaders = HeaderRules{
			Set:    map[string]string{"X-Frame-Options": "DENY"},
			Add:    map[string]string{"X-Served-By": "strata"},
			Remove: []string{"x-debug", "Server"},
		}
	}))
	for i, want := range []string{"MISS", "HIT"} {
		resp, _ := e.get("/obj")
		if i == 0 {
			e.waitFill()
		}
		if got := xcache(resp); !strings.HasPrefix(got, want) {
			t.Errorf("request %d: X-Cache %q, want %s", i, got, want)
		}
		if got := resp.Header.Values("X-Frame-Options"); len(got) != 1 || got[0] != "DENY" {
			t.Errorf("request %d: X-Frame-Options = %q, want [DENY]", i, got)
		}
		if got := resp.Header.Values("X-Served-By"); len(got) != 1 {
			t.Errorf("request %d: X-Served-By = %q, want one value", i, got)
		}
		for _, f := range []string{"X-Debug", "Server"} {
			if got := resp.Header.Get(f); got != "" {
				t.Errorf("request %d: %s = %q, want removed", i, f, got)
			}
		}
		checkEdgeHeaders(t, resp)
	}
}

// TestCORSAllowList_C10: a caching origin that sends its own
// Access-Control-Allow-Origin for page A; pages from A and B fetch the one
// cached object, and each gets its own Origin reflected (or none when not
// allowed), with Vary: Origin.
func TestCORSAllowList_C10(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if og := r.Header.Get("Origin"); og != "" {
			w.Header().Set("Access-Control-Allow-Origin", og)
		}
		w.Header().Set("Content-Type", "application/json")
		serveObject(w, r, []byte(`{"a":1}`), `"j1"`, "max-age=300")
	})
	e := newEdge(t, o.URL, withDomain(func(d *Domain) {
		d.CORS = &CORS{AllowOrigins: []string{"https://a.example.com", "https://*.apps.example.com"}, ExposeHeaders: []string{"X-Cache"}}
	}))
	tests := []struct {
		origin, xcache, want string
	}{
		{"https://a.example.com", "MISS", "https://a.example.com"},
		{"https://b.apps.example.com", "HIT", "https://b.apps.example.com"},
		{"https://evil.example.net", "HIT", ""},
		{"http://a.example.com", "HIT", ""},
		{"https://apps.example.com", "HIT", ""},
		{"", "HIT", ""},
	}
	for i, tt := range tests {
		if i == 1 {
			e.waitFill()
		}
		var hdr []string
		if tt.origin != "" {
			hdr = []string{"Origin", tt.origin}
		}
		resp, body := e.get("/data.json", hdr...)
		if resp.StatusCode != 200 || string(body) != `{"a":1}` {
			t.Fatalf("origin %q: got %d %q", tt.origin, resp.StatusCode, body)
		}
		if got := xcache(resp); !strings.HasPrefix(got, tt.xcache) {
			t.Errorf("origin %q: X-Cache %q, want %s", tt.origin, got, tt.xcache)
		}
		if got := resp.Header.Values("Access-Control-Allow-Origin"); strings.Join(got, ",") != tt.want {
			t.Errorf("origin %q: Access-Control-Allow-Origin = %q, want %q", tt.origin, got, tt.want)
		}
		if !headerHasTokenFold(resp.Header, "Vary", "Origin") {
			t.Errorf("origin %q: Vary = %q, want Origin listed", tt.origin, resp.Header.Values("Vary"))
		}
	}
	if n := o.gets.Load(); n != 1 {
		t.Errorf("origin GETs = %d, want 1 (one cached object for every page)", n)
	}
}

// TestCORSPreflight_C10: preflights are answered at the edge and never
// reach the origin.
func TestCORSPreflight_C10(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	e := newEdge(t, o.URL, withDomain(func(d *Domain) {
		d.CORS = &CORS{AllowOrigins: []string{"*.example.com"}, AllowMethods: []string{"GET", "PUT"}, MaxAge: 10 * time.Minute}
	}))
	tests := []struct {
		origin, method string
		status         int
		allow          string
	}{
		{"https://x.example.com", "PUT", 204, "https://x.example.com"},
		// The origin is allowed (its page may read the 403), the method
		// is not: no Access-Control-Allow-Methods.
		{"https://x.example.com", "DELETE", 403, "https://x.example.com"},
		{"https://x.example.org", "GET", 403, ""},
	}
	for _, tt := range tests {
		resp, body := e.do(http.MethodOptions, "/up", "Origin", tt.origin,
			"Access-Control-Request-Method", tt.method, "Access-Control-Request-Headers", "content-type")
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s: status %d, want %d (%s)", tt.origin, tt.method, resp.StatusCode, tt.status, body)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.allow {
			t.Errorf("%s %s: Access-Control-Allow-Origin %q, want %q", tt.origin, tt.method, got, tt.allow)
		}
		if tt.status != 204 && resp.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("%s %s: refused preflight carries Access-Control-Allow-Methods", tt.origin, tt.method)
		}
		if tt.status == 204 {
			if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "GET, PUT" {
				t.Errorf("Access-Control-Allow-Methods %q", got)
			}
			if got := resp.Header.Get("Access-Control-Max-Age"); got != "600" {
				t.Errorf("Access-Control-Max-Age %q, want 600", got)
			}
			if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "content-type" {
				t.Errorf("Access-Control-Allow-Headers %q, want content-type", got)
			}
			checkEdgeHeaders(t, resp)
		}
	}
	if n := len(o.requests()); n != 0 {
		t.Errorf("origin saw %d requests, want 0", n)
	}
}

// TestGetWithBody_C11: a small GET body is discarded and the request
// served; a large one is refused with a 413 that explains; the origin
// never sees a body.
func TestGetWithBody_C11(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 || r.ContentLength > 0 {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		serveObject(w, r, []byte("obj"), `"o"`, "max-age=60")
	})
	e := newEdge(t, o.URL)
	tests := []struct {
		name    string
		size    int
		chunked bool
		status  int
		want    string
	}{
		{"small", 1000, false, 200, "obj"},
		{"small-chunked", 1000, true, 200, "obj"},
		{"limit", MaxSafeMethodBody, false, 200, "obj"},
		{"large", MaxSafeMethodBody + 1, false, 413, "65536 bytes"},
		{"large-chunked", 1 << 20, true, 413, "65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(strings.Repeat("x", tt.size))
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: chunked
			}
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/obj", body)
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, b, tt.status, tt.want)
			}
			if tt.status == 413 {
				for _, s := range []string{testNode, "edge tier"} {
					if !strings.Contains(string(b), s) {
						t.Errorf("413 body %q does not name %q", b, s)
					}
				}
				if got := resp.Header.Get("X-Strata-Node"); got != testNode {
					t.Errorf("X-Strata-Node = %q", got)
				}
			}
		})
	}
}
