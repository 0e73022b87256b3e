package cachepolicy

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func req(method string, kv ...string) *http.Request {
	return &http.Request{Method: method, Header: hdr(kv...)}
}

func resp(status int, kv ...string) *http.Response {
	return &http.Response{StatusCode: status, Header: hdr(kv...)}
}

func TestStorable(t *testing.T) {
	get := req("GET")
	tests := []struct {
		name   string
		policy Policy
		req    *http.Request
		resp   *http.Response
		ok     bool
		reason Reason
	}{
		// §3: method.
		{"get 200 heuristic", Policy{}, get, resp(200), true, ""},
		{"head", Policy{}, req("HEAD"), resp(200, "Cache-Control", "max-age=5"), true, ""},
		{"post", Policy{}, req("POST"), resp(200, "Cache-Control", "max-age=5"), false, ReasonMethod},
		{"put", Policy{}, req("PUT"), resp(200), false, ReasonMethod},
		// §4.2.2 heuristically cacheable statuses without explicit freshness.
		{"203", Policy{}, get, resp(203), true, ""},
		{"204", Policy{}, get, resp(204), true, ""},
		{"206", Policy{}, get, resp(206), true, ""},
		{"300", Policy{}, get, resp(300), true, ""},
		{"301", Policy{}, get, resp(301), true, ""},
		{"308", Policy{}, get, resp(308), true, ""},
		{"404", Policy{}, get, resp(404), true, ""},
		{"405", Policy{}, get, resp(405), true, ""},
		{"410", Policy{}, get, resp(410), true, ""},
		{"414", Policy{}, get, resp(414), true, ""},
		{"501", Policy{}, get, resp(501), true, ""},
		// Understood but not heuristically cacheable: needs explicit freshness.
		{"302 bare", Policy{}, get, resp(302), false, ReasonNoFreshness},
		{"302 max-age", Policy{}, get, resp(302, "Cache-Control", "max-age=60"), true, ""},
		{"307 expires", Policy{}, get, resp(307, "Expires", date(hour)), true, ""},
		{"500 bare", Policy{}, get, resp(500), false, ReasonNoFreshness},
		{"503 s-maxage", Policy{}, get, resp(503, "Cache-Control", "s-maxage=5"), true, ""},
		{"403 public", Policy{}, get, resp(403, "Cache-Control", "public"), true, ""},
		// s-maxage is explicit freshness only for a shared cache.
		{"302 s-maxage private cache", Policy{Private: true}, get, resp(302, "Cache-Control", "s-maxage=5"), false, ReasonNoFreshness},
		// An invalid Expires is still an Expires: storable, and stale (§5.3).
		{"302 expires 0", Policy{}, get, resp(302, "Expires", "0"), true, ""},
		// Statuses not final, 304, or unknown.
		{"100", Policy{}, get, resp(100), false, ReasonStatus},
		{"304", Policy{}, get, resp(304, "Cache-Control", "max-age=60"), false, ReasonStatus},
		{"299 unknown bare", Policy{}, get, resp(299), false, ReasonStatus},
		{"299 unknown explicit", Policy{}, get, resp(299, "Cache-Control", "max-age=60"), true, ""},
		// §5.2.2.3 must-understand.
		{"must-understand unknown", Policy{}, get, resp(299, "Cache-Control", "max-age=60, must-understand, no-store"), false, ReasonMustUnderstand},
		{"must-understand overrides no-store", Policy{}, get, resp(200, "Cache-Control", "max-age=60, must-understand, no-store"), true, ""},
		// §5.2.2.5 / §5.2.1.5 no-store.
		{"no-store", Policy{}, get, resp(200, "Cache-Control", "no-store"), false, ReasonNoStore},
		{"no-store with max-age", Policy{}, get, resp(200, "Cache-Control", "max-age=60, NO-STORE"), false, ReasonNoStore},
		{"request no-store", Policy{}, req("GET", "Cache-Control", "no-store"), resp(200, "Cache-Control", "max-age=60"), false, ReasonRequestNoStore},
		// §5.2.2.7 private.
		{"private shared", Policy{}, get, resp(200, "Cache-Control", "private, max-age=60"), false, ReasonPrivate},
		{"private qualified shared", Policy{}, get, resp(200, "Cache-Control", `private="Set-Cookie", max-age=60`), false, ReasonPrivate},
		{"private in private cache", Policy{Private: true}, get, resp(200, "Cache-Control", "private"), true, ""},
		{"private makes 302 storable privately", Policy{Private: true}, get, resp(302, "Cache-Control", "private"), true, ""},
		// §3.5 Authorization.
		{"authorization", Policy{}, req("GET", "Authorization", "Bearer x"), resp(200, "Cache-Control", "max-age=60"), false, ReasonAuthorization},
		{"authorization public", Policy{}, req("GET", "Authorization", "Bearer x"), resp(200, "Cache-Control", "public, max-age=60"), true, ""},
		{"authorization must-revalidate", Policy{}, req("GET", "Authorization", "Bearer x"), resp(200, "Cache-Control", "must-revalidate"), true, ""},
		{"authorization s-maxage", Policy{}, req("GET", "Authorization", "Bearer x"), resp(200, "Cache-Control", "s-maxage=60"), true, ""},
		{"authorization private cache", Policy{Private: true}, req("GET", "Authorization", "Bearer x"), resp(200), true, ""},
		// §4.1 Vary: *.
		{"vary star", Policy{}, get, resp(200, "Vary", "Accept, *", "Cache-Control", "max-age=60"), false, ReasonVaryStar},
		{"vary star second line", Policy{}, get, resp(200, "Vary", "Accept", "Vary", "*"), false, ReasonVaryStar},
		{"vary cookie", Policy{}, get, resp(200, "Vary", "Cookie"), true, ""},
		// A cache rule's TTL makes an understood status storable but does
		// not override no-store, private or Authorization.
		{"rule 302", Policy{TTL: hour}, get, resp(302), true, ""},
		{"rule no-store", Policy{TTL: hour}, get, resp(200, "Cache-Control", "no-store"), false, ReasonNoStore},
		{"rule private", Policy{TTL: hour}, get, resp(200, "Cache-Control", "private"), false, ReasonPrivate},
		{"rule authorization", Policy{TTL: hour}, req("GET", "Authorization", "x"), resp(200), false, ReasonAuthorization},
	}
	for _, tt := range tests {
		ok, reason := tt.policy.Storable(tt.req, tt.resp)
		if ok != tt.ok || reason != tt.reason {
			t.Errorf("%s: Storable = %v, %q; want %v, %q", tt.name, ok, reason, tt.ok, tt.reason)
		}
	}
}

func TestHeuristicallyCacheable(t *testing.T) {
	// RFC 9111 §4.2.2 / RFC 9110 §15.1.
	var got []int
	for s := 100; s < 600; s++ {
		if HeuristicallyCacheable(s) {
			got = append(got, s)
		}
	}
	want := []int{200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HeuristicallyCacheable mismatch (-want +got):\n%s", diff)
	}
}

func TestHeaderToStore(t *testing.T) {
	// RFC 9111 §3.1: hop-by-hop fields and those Connection names are not stored.
	in := hdr("Connection", "close, X-Hop", "Keep-Alive", "timeout=5", "X-Hop", "1",
		"Transfer-Encoding", "chunked", "Content-Type", "text/plain", "ETag", `"a"`)
	got := HeaderToStore(in)
	want := hdr("Content-Type", "text/plain", "ETag", `"a"`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HeaderToStore mismatch (-want +got):\n%s", diff)
	}
	if in.Get("X-Hop") != "1" {
		t.Errorf("HeaderToStore modified its argument")
	}
	if got := HeaderToStore(nil); got == nil || len(got) != 0 {
		t.Errorf("HeaderToStore(nil) = %v, want empty non-nil", got)
	}
}
