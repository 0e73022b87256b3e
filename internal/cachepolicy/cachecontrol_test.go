package cachepolicy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func d(secs int64) Delta { return Delta{Set: true, Secs: secs} }

var invalid = Delta{Set: true, Invalid: true}

func TestParseCacheControl(t *testing.T) {
	tests := []struct {
		in   string
		want CacheControl
	}{
		{"", CacheControl{}},
		{"max-age=60", CacheControl{MaxAge: d(60)}},
		// §5.2: recipients accept the quoted-string form of any argument.
		{`max-age="60"`, CacheControl{MaxAge: d(60)}},
		// §5.2: directive names are case-insensitive.
		{"MAX-AGE=60, Public", CacheControl{MaxAge: d(60), Public: true}},
		// §4.2.1, §1.2.2: non-integer content is invalid (read as stale).
		{"max-age=abc", CacheControl{MaxAge: invalid}},
		{"max-age", CacheControl{MaxAge: invalid}},
		{"max-age=", CacheControl{MaxAge: invalid}},
		{"max-age=-1", CacheControl{MaxAge: invalid}},
		{"max-age=+5", CacheControl{MaxAge: invalid}},
		{"max-age=1.5", CacheControl{MaxAge: invalid}},
		{`max-age="6\"0"`, CacheControl{MaxAge: invalid}},
		{`max-age="60"x`, CacheControl{MaxAge: invalid}},
		// §1.2.2: overflow is clamped to 2^31.
		{"max-age=2147483647", CacheControl{MaxAge: d(2147483647)}},
		{"max-age=2147483648", CacheControl{MaxAge: d(MaxDelta)}},
		{"max-age=99999999999999999999999999", CacheControl{MaxAge: d(MaxDelta)}},
		{"max-age=007", CacheControl{MaxAge: d(7)}},
		// OWS around "=" is tolerated.
		{"max-age = 60", CacheControl{MaxAge: d(60)}},
		// §4.2.1: repeats that agree are harmless; disagreeing ones are stale.
		{"max-age=60, max-age=60", CacheControl{MaxAge: d(60)}},
		{"max-age=60, max-age=120", CacheControl{MaxAge: invalid}},
		{"max-age=60, max-age=abc", CacheControl{MaxAge: invalid}},
		{"s-maxage=10, max-age=5", CacheControl{SMaxAge: d(10), MaxAge: d(5)}},
		// §5.2.2.4 / §5.2.2.7: qualified forms; commas inside quotes.
		{`no-cache="Set-Cookie, x-foo", max-age=5`,
			CacheControl{NoCache: true, NoCacheFields: []string{"Set-Cookie", "X-Foo"}, MaxAge: d(5)}},
		{"no-cache=set-cookie", CacheControl{NoCache: true, NoCacheFields: []string{"Set-Cookie"}}},
		{`private="Set-Cookie", private`, CacheControl{Private: true, PrivateFields: []string{"Set-Cookie"}}},
		{`no-cache, no-cache="a, a, b c, b"`, CacheControl{NoCache: true, NoCacheFields: []string{"A", "B"}}},
		// An unterminated quote swallows the rest of the field, and the
		// directive still counts.
		{`no-cache="a, max-age=5`, CacheControl{NoCache: true}},
		// §5.2.1.2: max-stale without an argument accepts any staleness.
		{"max-stale", CacheControl{MaxStale: d(MaxDelta)}},
		{"max-stale=10", CacheControl{MaxStale: d(10)}},
		{"max-stale=x", CacheControl{MaxStale: invalid}},
		{"min-fresh=5, only-if-cached", CacheControl{MinFresh: d(5), OnlyIfCached: true}},
		// RFC 5861.
		{"max-age=600, stale-while-revalidate=30, stale-if-error=86400",
			CacheControl{MaxAge: d(600), StaleWhileRevalidate: d(30), StaleIfError: d(86400)}},
		{"no-store, no-transform, must-revalidate, must-understand, proxy-revalidate, immutable",
			CacheControl{NoStore: true, NoTransform: true, MustRevalidate: true, MustUnderstand: true,
				ProxyRevalidate: true, Immutable: true}},
		// A boolean directive with an argument still restricts.
		{"no-store=1", CacheControl{NoStore: true}},
		// Empty list elements (§5.6.1) and non-token junk are skipped.
		{" , ,public,, ", CacheControl{Public: true}},
		{"@@@, (x), public", CacheControl{Public: true}},
		// §5.2.3: extensions are kept, first occurrence wins.
		{`community="UCI", foo, foo=bar, Ext=x`,
			CacheControl{Extensions: map[string]string{"community": "UCI", "foo": "", "ext": "x"}}},
		{`foo="a, b", max-age=1`, CacheControl{MaxAge: d(1), Extensions: map[string]string{"foo": "a, b"}}},
	}
	for _, tt := range tests {
		got := ParseCacheControl(tt.in)
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseCacheControl(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestCacheControlOfCombinesLines(t *testing.T) {
	// RFC 9110 §5.3: field lines of a list field combine in order.
	h := hdr("Cache-Control", "public", "Cache-Control", "max-age=60", "Cache-Control", "max-age=30")
	got := CacheControlOf(h)
	want := CacheControl{Public: true, MaxAge: invalid}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("CacheControlOf mismatch (-want +got):\n%s", diff)
	}
}

func TestCacheControlStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"max-age=60, public",
		`no-cache="Set-Cookie, X-Foo", private`,
		"max-age=abc, s-maxage=1, max-age=2",
		`x="a \"quoted\" b", y, z=tok`,
		"max-stale, min-fresh=3, stale-if-error=9, stale-while-revalidate=8, only-if-cached",
	} {
		cc := ParseCacheControl(in)
		s := cc.String()
		got := ParseCacheControl(s)
		if diff := cmp.Diff(cc, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseCacheControl(%q).String() = %q reparses differently (-first +second):\n%s", in, s, diff)
		}
	}
	if got, want := ParseCacheControl("Public, max-age=5").String(), "max-age=5, public"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestDeltaDuration(t *testing.T) {
	if got := invalid.Duration(); got != 0 {
		t.Errorf("invalid Delta Duration() = %v, want 0", got)
	}
	if got, want := d(90).Duration(), 90*sec; got != want {
		t.Errorf("Duration() = %v, want %v", got, want)
	}
}
