package cachepolicy

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/.

func FuzzParseCacheControl(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		cc := ParseCacheControl(s)
		if again := ParseCacheControl(s); !cmp.Equal(cc, again, cmpopts.EquateEmpty()) {
			t.Fatalf("ParseCacheControl(%q) not deterministic", s)
		}
		for _, dl := range []Delta{cc.MaxAge, cc.SMaxAge, cc.MaxStale, cc.MinFresh, cc.StaleWhileRevalidate, cc.StaleIfError} {
			if dl.Secs < 0 || dl.Secs > MaxDelta || (!dl.Set && (dl.Invalid || dl.Secs != 0)) {
				t.Fatalf("ParseCacheControl(%q): bad delta %+v", s, dl)
			}
			if dl.Duration() < 0 {
				t.Fatalf("ParseCacheControl(%q): negative duration", s)
			}
		}
		for _, fld := range append(slices.Clone(cc.NoCacheFields), cc.PrivateFields...) {
			if !isToken(fld) {
				t.Fatalf("ParseCacheControl(%q): field %q is not a token", s, fld)
			}
		}
		if len(cc.NoCacheFields) > 0 && !cc.NoCache || len(cc.PrivateFields) > 0 && !cc.Private {
			t.Fatalf("ParseCacheControl(%q): fields without directive", s)
		}
		// Formatting and parsing again gives the same directives.
		out := cc.String()
		if back := ParseCacheControl(out); !cmp.Equal(cc, back, cmpopts.EquateEmpty()) {
			t.Fatalf("ParseCacheControl(%q).String() = %q reparses differently:\n%s", s, out,
				cmp.Diff(cc, back, cmpopts.EquateEmpty()))
		}
		if out2 := ParseCacheControl(out).String(); out2 != out {
			t.Fatalf("String not stable: %q then %q", out, out2)
		}
	})
}

func FuzzVaryKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, vary, name1, val1, name2, val2, other string) {
		h := http.Header{}
		h.Add(name1, val1)
		h.Add(name2, val2)
		opts := VaryOptions{Normalize: map[string]Normalizer{"Accept-Encoding": NormalizeAcceptEncoding("br", "gzip")}}
		k, ok := VaryKey(vary, h, opts)
		fields, star := VaryFields(vary)
		if ok == star {
			t.Fatalf("VaryKey(%q) ok=%v but star=%v", vary, ok, star)
		}
		if !ok {
			if k != "" {
				t.Fatalf("VaryKey(%q) = %q with ok=false", vary, k)
			}
			return
		}
		if k2, _ := VaryKey(vary, h.Clone(), opts); k2 != k {
			t.Fatalf("VaryKey not deterministic: %q vs %q", k, k2)
		}
		// The order and case of the Vary list do not matter.
		els := strings.Split(vary, ",")
		slices.Reverse(els)
		if k2, _ := VaryKey(strings.ToUpper(strings.Join(els, ",")), h, opts); k2 != k {
			t.Fatalf("VaryKey(%q) = %q but reversed, upper-cased: %q", vary, k, k2)
		}
		// A field Vary does not name does not change the key.
		if isToken(other) && !slices.Contains(fields, strings.ToLower(other)) {
			h2 := h.Clone()
			h2.Add(other, "x")
			if k2, _ := VaryKey(vary, h2, opts); k2 != k {
				t.Fatalf("adding unnamed %q changed the key: %q vs %q", other, k, k2)
			}
		}
		// Ignoring every nominated field leaves nothing to vary on.
		if k2, _ := VaryKey(vary, h, VaryOptions{Ignore: fields}); k2 != "" {
			t.Fatalf("all fields ignored, key %q", k2)
		}
		// Keys name each field once, escaped.
		if strings.ContainsAny(k, " \t\r\n,") {
			t.Fatalf("key %q has unescaped separators", k)
		}
	})
}

func FuzzFreshness(f *testing.F) {
	f.Fuzz(func(t *testing.T, cc, expires, dateV, lastMod, age, reqCC string, status int, reqOff, respOff, nowOff int64, ttl int64) {
		h := http.Header{}
		for name, v := range map[string]string{"Cache-Control": cc, "Expires": expires, "Date": dateV,
			"Last-Modified": lastMod, "Age": age} {
			if v != "" {
				h.Set(name, v)
			}
		}
		e := Entry{Status: status, Header: h, RequestTime: t0.Add(time.Duration(reqOff)), ResponseTime: t0.Add(time.Duration(respOff))}
		now := t0.Add(time.Duration(nowOff))
		req := http.Header{}
		if reqCC != "" {
			req.Set("Cache-Control", reqCC)
		}
		for _, p := range []Policy{{}, {Private: true}, {TTL: time.Duration(ttl)}, {HeuristicFraction: -1}, {IgnoreRequestDirectives: true}} {
			life, src := p.Lifetime(e)
			if life < 0 || life > maxDuration || src == "" {
				t.Fatalf("Lifetime = %v, %q", life, src)
			}
			if l2, s2 := p.Lifetime(e); l2 != life || s2 != src {
				t.Fatalf("Lifetime not deterministic")
			}
			a := CurrentAge(e, now)
			if a < 0 || a > maxDuration {
				t.Fatalf("CurrentAge = %v", a)
			}
			d := p.Decide(e, req, now)
			if d.Action < Fresh || d.Action > GatewayTimeout || d.Reason == "" {
				t.Fatalf("Decide = %+v", d)
			}
			if d.Action == Fresh && d.Lifetime <= d.Age {
				t.Fatalf("Fresh with lifetime %v <= age %v", d.Lifetime, d.Age)
			}
			if d.Age != a || d.Lifetime != life {
				t.Fatalf("Decide age/lifetime %v/%v differ from %v/%v", d.Age, d.Lifetime, a, life)
			}
			if d2 := p.Decide(e, req, now); d2 != d {
				t.Fatalf("Decide not deterministic: %+v vs %+v", d, d2)
			}
			ok, why := p.Storable(&http.Request{Method: "GET", Header: req}, &http.Response{StatusCode: status, Header: h})
			if ok != (why == "") {
				t.Fatalf("Storable = %v, %q", ok, why)
			}
		}
	})
}
