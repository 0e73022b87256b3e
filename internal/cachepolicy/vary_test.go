package cachepolicy

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestVaryFields(t *testing.T) {
	tests := []struct {
		in     string
		fields []string
		star   bool
	}{
		{"", nil, false},
		{"Accept-Encoding", []string{"accept-encoding"}, false},
		{" accept-encoding ,Cookie, ACCEPT-ENCODING,, ", []string{"accept-encoding", "cookie"}, false},
		{"Accept, *", []string{"accept"}, true},
		{"*", nil, true},
		{"a b, (c), Origin", []string{"origin"}, false},
	}
	for _, tt := range tests {
		fields, star := VaryFields(tt.in)
		if !cmp.Equal(fields, tt.fields, cmpopts.EquateEmpty()) || star != tt.star {
			t.Errorf("VaryFields(%q) = %q, %v; want %q, %v", tt.in, fields, star, tt.fields, tt.star)
		}
	}
}

func TestVaryKeyMatching(t *testing.T) {
	// RFC 9111 §4.1: pairs of requests that must share or must not share a
	// variant for a given Vary.
	tests := []struct {
		name  string
		vary  string
		a, b  http.Header
		match bool
	}{
		{"no vary", "", hdr("Accept", "a"), hdr("Accept", "b"), true},
		{"same value", "Accept", hdr("Accept", "text/html"), hdr("Accept", "text/html"), true},
		{"different value", "Accept", hdr("Accept", "text/html"), hdr("Accept", "image/png"), false},
		{"case of vary", "ACCEPT", hdr("Accept", "x"), hdr("Accept", "x"), true},
		{"whitespace around commas", "Accept", hdr("Accept", "a,  b , c"), hdr("Accept", "a,b,c"), true},
		{"whitespace around semicolons", "Accept", hdr("Accept", "text/html ; q=0.9"), hdr("Accept", "text/html;q=0.9"), true},
		{"combined lines", "Accept", hdr("Accept", "a", "Accept", "b"), hdr("Accept", "a, b"), true},
		{"order matters", "Accept", hdr("Accept", "a, b"), hdr("Accept", "b, a"), false},
		{"value case kept", "Cookie", hdr("Cookie", "a=B"), hdr("Cookie", "a=b"), false},
		{"absent vs empty", "Accept", hdr(), hdr("Accept", ""), false},
		{"absent vs absent", "Accept", hdr(), hdr(), true},
		{"unnamed field ignored", "Accept", hdr("Accept", "a", "Cookie", "x"), hdr("Accept", "a", "Cookie", "y"), true},
		{"two fields", "Accept, Accept-Language", hdr("Accept", "a", "Accept-Language", "en"), hdr("Accept", "a", "Accept-Language", "fr"), false},
		{"quoted comma", "X-Q", hdr("X-Q", `"a,b" , c`), hdr("X-Q", `"a,b",c`), true},
		{"quoted space kept", "X-Q", hdr("X-Q", `"a , b"`), hdr("X-Q", `"a,b"`), false},
		// Escaping keeps keys unambiguous.
		{"no confusion", "A, B", hdr("A", "1&b=2"), hdr("A", "1", "B", "2"), false},
	}
	for _, tt := range tests {
		ka, oka := VaryKey(tt.vary, tt.a, VaryOptions{})
		kb, okb := VaryKey(tt.vary, tt.b, VaryOptions{})
		if !oka || !okb {
			t.Errorf("%s: VaryKey not ok", tt.name)
		}
		if (ka == kb) != tt.match {
			t.Errorf("%s: keys %q and %q; want match=%v", tt.name, ka, kb, tt.match)
		}
	}
}

func TestVaryKeyStar(t *testing.T) {
	// §4.1: Vary: * always fails to match.
	if k, ok := VaryKey("Accept, *", hdr(), VaryOptions{}); ok {
		t.Errorf("VaryKey(*) = %q, true; want false", k)
	}
}

func TestVaryKeyDeterministic(t *testing.T) {
	h := hdr("Accept", "a", "Cookie", "c=1", "Origin", "https://x.test")
	k1, _ := VaryKey("Origin, Cookie, Accept", h, VaryOptions{})
	k2, _ := VaryKey("accept,cookie , origin, Accept", h, VaryOptions{})
	if want := "accept=a&cookie=c%3D1&origin=https%3A%2F%2Fx.test"; k1 != want || k2 != want {
		t.Errorf("VaryKey = %q and %q, want %q for both", k1, k2, want)
	}
}

func TestVaryKeyIgnoreCookie_C17(t *testing.T) {
	// C17: the origin sends Vary: Cookie and every client's cookie
	// differs; a rule ignore_vary: [Cookie] makes them share one entry,
	// while a field the rule does not ignore still varies.
	opts := VaryOptions{Ignore: []string{"Cookie"}}
	a := hdr("Cookie", "session=1; _ga=GA1.2.3", "Accept-Encoding", "gzip")
	b := hdr("Cookie", "session=2", "Accept-Encoding", "gzip")
	c := hdr("Accept-Encoding", "br")
	ka, _ := VaryKey("Cookie, Accept-Encoding", a, opts)
	kb, _ := VaryKey("Cookie, Accept-Encoding", b, opts)
	kc, _ := VaryKey("Cookie, Accept-Encoding", c, opts)
	if ka != kb {
		t.Errorf("ignored Cookie still splits the key: %q vs %q", ka, kb)
	}
	if ka == kc {
		t.Errorf("Accept-Encoding no longer varies: both %q", ka)
	}
	// Without the rule, each cookie is its own variant (the C17 miss storm).
	na, _ := VaryKey("Cookie", a, VaryOptions{})
	nb, _ := VaryKey("Cookie", b, VaryOptions{})
	if na == nb {
		t.Errorf("without ignore_vary, different cookies share key %q", na)
	}
	// Ignoring every nominated field leaves an empty key.
	if k, ok := VaryKey("cookie", a, VaryOptions{Ignore: []string{"COOKIE"}}); !ok || k != "" {
		t.Errorf("VaryKey with all ignored = %q, %v; want \"\", true", k, ok)
	}
}

func TestVaryKeyNormalizeAcceptEncoding(t *testing.T) {
	opts := VaryOptions{Normalize: map[string]Normalizer{"accept-encoding": NormalizeAcceptEncoding("br", "gzip")}}
	tests := []struct {
		ae   []string
		want string
	}{
		{[]string{"gzip, deflate, br"}, "accept-encoding=br"},
		{[]string{"br;q=1.0, gzip;q=0.8, *;q=0.1"}, "accept-encoding=br"},
		{[]string{"gzip, deflate"}, "accept-encoding=gzip"},
		{[]string{"GZIP"}, "accept-encoding=gzip"},
		{[]string{"x-gzip"}, "accept-encoding=gzip"},
		{[]string{"gzip;q=1, br;q=0.5"}, "accept-encoding=gzip"},
		{[]string{"gzip", "br"}, "accept-encoding=br"},
		{[]string{"*"}, "accept-encoding=br"},
		{[]string{"br;q=0, *"}, "accept-encoding=gzip"},
		{[]string{"identity"}, "accept-encoding=identity"},
		{[]string{""}, "accept-encoding=identity"},
		{nil, "accept-encoding=identity"},
		{[]string{"br;q=0, gzip;q=0"}, "accept-encoding=identity"},
		{[]string{"br;q=abc, gzip"}, "accept-encoding=gzip"},
		{[]string{"br;q=2, gzip"}, "accept-encoding=gzip"},
		{[]string{"br;q=0x1p-1, gzip;q=0.1"}, "accept-encoding=gzip"},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.ae != nil {
			h["Accept-Encoding"] = tt.ae
		}
		got, _ := VaryKey("Accept-Encoding", h, opts)
		if got != tt.want {
			t.Errorf("Accept-Encoding %q: VaryKey = %q, want %q", tt.ae, got, tt.want)
		}
	}
}

func TestPickEncodingTies(t *testing.T) {
	// Equal qvalues go to the server's preference.
	if got := PickEncoding([]string{"gzip, br"}, []string{"gzip", "br"}); got != "gzip" {
		t.Errorf("PickEncoding = %q, want gzip", got)
	}
	if got := PickEncoding([]string{"gzip, br"}, []string{"identity", "br"}); got != "br" {
		t.Errorf("PickEncoding = %q, want br", got)
	}
	if got := PickEncoding([]string{"gzip"}, nil); got != "identity" {
		t.Errorf("PickEncoding with nothing offered = %q, want identity", got)
	}
}
