package cachepolicy

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// surrogate is the policy of a surrogate known as "strata" or "node-1".
var surrogate = Policy{SurrogateTargets: []string{"strata", "node-1"}}

func TestSurrogateControlOf(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		ok     bool
		want   CacheControl
	}{
		{"absent", nil, false, CacheControl{}},
		{"max-age", []string{"max-age=3600"}, true, CacheControl{MaxAge: Delta{Set: true, Secs: 3600}}},
		{"case", []string{"MaX-aGe=60"}, true, CacheControl{MaxAge: Delta{Set: true, Secs: 60}}},
		{"clamped", []string{"max-age=99999999999"}, true, CacheControl{MaxAge: Delta{Set: true, Secs: MaxDelta}}},
		{"extension dropped", []string{"max-age=60+30"}, true, CacheControl{MaxAge: Delta{Set: true, Secs: 60}}},
		{"no-store", []string{"no-store"}, true, CacheControl{NoStore: true}},
		{"unknown directive kept", []string{"foobar, max-age=10"}, true,
			CacheControl{MaxAge: Delta{Set: true, Secs: 10}, Extensions: map[string]string{"foobar": ""}}},
		// §2.3: targeted at this node, or at another.
		{"targeted at me", []string{"max-age=10;strata"}, true, CacheControl{MaxAge: Delta{Set: true, Secs: 10}}},
		{"targeted at node id", []string{"max-age=10;NODE-1"}, true, CacheControl{MaxAge: Delta{Set: true, Secs: 10}}},
		{"targeted elsewhere", []string{"max-age=10;other"}, false, CacheControl{}},
		{"mine wins over general", []string{"no-store, max-age=60;strata"}, true, CacheControl{MaxAge: Delta{Set: true, Secs: 60}}},
		{"general when not targeted", []string{"max-age=60, no-store;other"}, true, CacheControl{MaxAge: Delta{Set: true, Secs: 60}}},
		{"two lines", []string{"max-age=5", "no-store;other"}, true, CacheControl{MaxAge: Delta{Set: true, Secs: 5}}},
		{"quoted semicolon", []string{`content="a;b";strata`}, true, CacheControl{Extensions: map[string]string{"content": "a;b"}}},
		// The specification's grammar has no whitespace around "=".
		{"space before equals", []string{"max-age =100"}, false, CacheControl{}},
		{"space after equals", []string{"max-age= 100"}, false, CacheControl{}},
	}
	for _, tt := range tests {
		h := http.Header{"Surrogate-Control": tt.values}
		got, ok := SurrogateControlOf(h, surrogate.SurrogateTargets)
		if ok != tt.ok {
			t.Errorf("%s: ok = %v, want %v", tt.name, ok, tt.ok)
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: SurrogateControlOf(%q) mismatch (-want +got):\n%s", tt.name, tt.values, diff)
		}
	}
}

// TestSurrogateStorableAndFresh: the scenarios of the http-tests
// Surrogate-Control suite (surrogate-no-store-cc-fresh,
// surrogate-fresh-cc-nostore, surrogate-max-age-*), for a surrogate and,
// unchanged, for a plain RFC 9111 shared cache.
func TestSurrogateStorableAndFresh(t *testing.T) {
	tests := []struct {
		name          string
		kv            []string
		storable      bool // for the surrogate
		reason        Reason
		fresh         bool // for the surrogate, 10 minutes after receipt
		plainStorable bool // for Policy{}
	}{
		{"sc no-store beats cc fresh", []string{"Cache-Control", "max-age=10000", "Surrogate-Control", "no-store", "Expires", date(10000 * sec)},
			false, ReasonSurrogateNoStore, false, true},
		{"sc max-age beats cc no-store", []string{"Cache-Control", "no-store", "Surrogate-Control", "max-age=10000;strata"},
			true, ReasonNone, true, false},
		{"sc max-age beats cc private", []string{"Cache-Control", "private", "Surrogate-Control", "max-age=10000"},
			true, ReasonNone, true, false},
		{"sc max-age alone", []string{"Surrogate-Control", "max-age=3600"}, true, ReasonNone, true, false},
		{"sc max-age beats past expires", []string{"Surrogate-Control", "max-age=3600", "Expires", date(-10000 * sec)},
			true, ReasonNone, true, true},
		{"short sc beats long cc", []string{"Cache-Control", "max-age=3600", "Surrogate-Control", "max-age=1"},
			true, ReasonNone, false, true},
		{"long sc beats short cc", []string{"Cache-Control", "max-age=1", "Surrogate-Control", "max-age=3600"},
			true, ReasonNone, true, true},
		{"sc max-age=0 beats future expires", []string{"Surrogate-Control", "max-age=0", "Expires", date(10000 * sec)},
			true, ReasonNone, false, true},
		{"targeted elsewhere: cc rules", []string{"Cache-Control", "no-store", "Surrogate-Control", "max-age=3600;other"},
			false, ReasonNoStore, false, false},
		{"age counts", []string{"Surrogate-Control", "max-age=3600", "Age", "7200"}, true, ReasonNone, false, false},
	}
	req := &http.Request{Method: http.MethodGet, Header: http.Header{}}
	for _, tt := range tests {
		e := entry(tt.kv...)
		resp := &http.Response{StatusCode: 200, Header: e.Header}
		ok, reason := surrogate.Storable(req, resp)
		if ok != tt.storable || reason != tt.reason {
			t.Errorf("%s: surrogate Storable = %v %q, want %v %q", tt.name, ok, reason, tt.storable, tt.reason)
		}
		if ok {
			d := surrogate.Decide(e, http.Header{}, at(10*time.Minute))
			if fresh := d.Action == Fresh; fresh != tt.fresh {
				t.Errorf("%s: fresh after 10m = %v (%v %s), want %v", tt.name, fresh, d.Action, d.Reason, tt.fresh)
			}
		}
		if tt.plainStorable {
			if ok, reason := (Policy{}).Storable(req, resp); !ok {
				t.Errorf("%s: Policy{} Storable = false %q: Surrogate-Control must not matter to a non-surrogate", tt.name, reason)
			}
		}
	}
}

func TestRefuseSetCookie(t *testing.T) {
	req := &http.Request{Method: http.MethodGet, Header: http.Header{}}
	resp := &http.Response{StatusCode: 200, Header: hdr("Cache-Control", "max-age=60", "Set-Cookie", "sid=1")}
	if ok, reason := (Policy{RefuseSetCookie: true}).Storable(req, resp); ok || reason != ReasonSetCookie {
		t.Errorf("RefuseSetCookie: Storable = %v %q, want false %q", ok, reason, ReasonSetCookie)
	}
	if ok, reason := (Policy{RefuseSetCookie: true, TTL: time.Hour}).Storable(req, resp); !ok {
		t.Errorf("RefuseSetCookie with a cache rule TTL: Storable = false %q, want true", reason)
	}
	// RFC 9111 §7.3: Set-Cookie alone does not inhibit caching.
	if ok, reason := (Policy{}).Storable(req, resp); !ok {
		t.Errorf("Policy{}: Storable = false %q, want true", reason)
	}
}

func FuzzSurrogateControl(f *testing.F) {
	f.Fuzz(func(t *testing.T, v1, v2, target string) {
		h := http.Header{"Surrogate-Control": {v1, v2}}
		cc, ok := SurrogateControlOf(h, []string{target})
		again, ok2 := SurrogateControlOf(h, []string{target})
		if ok != ok2 || !cmp.Equal(cc, again, cmpopts.EquateEmpty()) {
			t.Fatalf("SurrogateControlOf(%q, %q) not deterministic", v1, v2)
		}
		if !ok && !cmp.Equal(cc, CacheControl{}, cmpopts.EquateEmpty()) {
			t.Fatalf("SurrogateControlOf(%q, %q): directives %+v without ok", v1, v2, cc)
		}
		if d := cc.MaxAge; d.Secs < 0 || d.Secs > MaxDelta {
			t.Fatalf("SurrogateControlOf(%q, %q): max-age %+v", v1, v2, d)
		}
		p := Policy{SurrogateTargets: []string{target}}
		resp := &http.Response{StatusCode: 200, Header: h}
		if ok, reason := p.Storable(&http.Request{Method: http.MethodGet, Header: http.Header{}}, resp); ok && cc.NoStore && (cc.MaxAge.Set || cc.NoStore) {
			t.Fatalf("SurrogateControlOf(%q, %q) has no-store but the response is storable (%q)", v1, v2, reason)
		}
	})
}
