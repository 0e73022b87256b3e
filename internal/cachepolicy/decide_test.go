package cachepolicy

import (
	"net/http"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name         string
		policy       Policy
		e            Entry
		req          http.Header
		now          time.Duration // after t0
		action       Action
		reason       Reason
		staleOnError bool
	}{
		// §4.2: fresh iff lifetime > age.
		{"fresh", Policy{}, entry("Cache-Control", "max-age=60"), nil, 59 * sec, Fresh, ReasonFresh, true},
		{"boundary is stale", Policy{}, entry("Cache-Control", "max-age=60"), nil, 60 * sec, MustRevalidate, ReasonExpired, false},
		{"expired", Policy{}, entry("Cache-Control", "max-age=60"), nil, hour, MustRevalidate, ReasonExpired, false},
		{"max-age=abc stale", Policy{}, entry("Cache-Control", "max-age=abc"), nil, 0, MustRevalidate, ReasonExpired, false},
		{"expires 0 stale", Policy{}, entry("Expires", "0"), nil, 0, MustRevalidate, ReasonExpired, false},
		{"heuristic fresh", Policy{}, entry("Date", date(0), "Last-Modified", date(-10*hour)), nil, 59 * min_, Fresh, ReasonFresh, true},
		// §5.2.2.4 response no-cache, with or without field names.
		{"no-cache", Policy{}, entry("Cache-Control", "no-cache, max-age=600"), nil, 0, MustRevalidate, ReasonNoCache, false},
		{"no-cache qualified", Policy{}, entry("Cache-Control", `no-cache="Set-Cookie", max-age=600`), nil, 0, MustRevalidate, ReasonNoCache, false},
		{"no-cache beats swr", Policy{}, entry("Cache-Control", "no-cache, max-age=1, stale-while-revalidate=600, stale-if-error=600"), nil, 10 * sec, MustRevalidate, ReasonNoCache, false},
		// §5.2.1.4 request no-cache; a fresh response may stand in on error.
		{"request no-cache", Policy{}, entry("Cache-Control", "max-age=600"), hdr("Cache-Control", "no-cache"), 0, MustRevalidate, ReasonRequestNoCache, true},
		{"request no-cache ignored", Policy{IgnoreRequestDirectives: true}, entry("Cache-Control", "max-age=600"), hdr("Cache-Control", "no-cache"), 0, Fresh, ReasonFresh, true},
		// Pragma is deprecated (§5.4) and not consulted.
		{"pragma ignored", Policy{}, entry("Cache-Control", "max-age=600"), hdr("Pragma", "no-cache"), 0, Fresh, ReasonFresh, true},
		// §5.2.1.1 request max-age.
		{"request max-age ok", Policy{}, entry("Cache-Control", "max-age=600"), hdr("Cache-Control", "max-age=30"), 30 * sec, Fresh, ReasonFresh, true},
		{"request max-age exceeded", Policy{}, entry("Cache-Control", "max-age=600"), hdr("Cache-Control", "max-age=30"), 31 * sec, MustRevalidate, ReasonRequestMaxAge, true},
		{"request max-age=0", Policy{}, entry("Cache-Control", "max-age=600"), hdr("Cache-Control", "max-age=0"), sec, MustRevalidate, ReasonRequestMaxAge, true},
		{"request max-age invalid", Policy{}, entry("Cache-Control", "max-age=600"), hdr("Cache-Control", "max-age=x"), 0, MustRevalidate, ReasonRequestMaxAge, true},
		// §5.2.1.3 min-fresh.
		{"min-fresh ok", Policy{}, entry("Cache-Control", "max-age=600"), hdr("Cache-Control", "min-fresh=100"), 500 * sec, Fresh, ReasonFresh, true},
		{"min-fresh not met", Policy{}, entry("Cache-Control", "max-age=600"), hdr("Cache-Control", "min-fresh=100"), 501 * sec, MustRevalidate, ReasonMinFresh, true},
		// §5.2.1.2 max-stale.
		{"max-stale within", Policy{}, entry("Cache-Control", "max-age=60"), hdr("Cache-Control", "max-stale=30"), 90 * sec, StaleServe, ReasonMaxStale, true},
		{"max-stale beyond", Policy{}, entry("Cache-Control", "max-age=60"), hdr("Cache-Control", "max-stale=30"), 91 * sec, MustRevalidate, ReasonExpired, false},
		{"max-stale any", Policy{}, entry("Cache-Control", "max-age=60"), hdr("Cache-Control", "max-stale"), 365 * day, StaleServe, ReasonMaxStale, true},
		{"max-stale invalid", Policy{}, entry("Cache-Control", "max-age=60"), hdr("Cache-Control", "max-stale=x"), 61 * sec, MustRevalidate, ReasonExpired, false},
		// §4.2.4: must-revalidate, proxy-revalidate, s-maxage forbid stale.
		{"must-revalidate", Policy{}, entry("Cache-Control", "max-age=60, must-revalidate, stale-while-revalidate=60, stale-if-error=60"), hdr("Cache-Control", "max-stale"), 61 * sec, MustRevalidate, ReasonMustRevalidate, false},
		{"must-revalidate fresh", Policy{}, entry("Cache-Control", "max-age=60, must-revalidate"), nil, 59 * sec, Fresh, ReasonFresh, true},
		{"proxy-revalidate", Policy{}, entry("Cache-Control", "max-age=60, proxy-revalidate"), hdr("Cache-Control", "max-stale"), 61 * sec, MustRevalidate, ReasonProxyRevalidate, false},
		{"proxy-revalidate private cache", Policy{Private: true}, entry("Cache-Control", "max-age=60, proxy-revalidate"), hdr("Cache-Control", "max-stale"), 61 * sec, StaleServe, ReasonMaxStale, true},
		{"s-maxage", Policy{}, entry("Cache-Control", "s-maxage=60"), hdr("Cache-Control", "max-stale, stale-if-error=600"), 61 * sec, MustRevalidate, ReasonSMaxAge, false},
		{"s-maxage private cache", Policy{Private: true}, entry("Cache-Control", "s-maxage=60, max-age=60"), hdr("Cache-Control", "max-stale"), 61 * sec, StaleServe, ReasonMaxStale, true},
		// The response's explicit RFC 5861 directives apply under s-maxage,
		// not under must-revalidate or proxy-revalidate.
		{"s-maxage with swr", Policy{}, entry("Cache-Control", "s-maxage=60, stale-while-revalidate=60"), nil, 61 * sec, StaleServeAndRevalidate, ReasonStaleWhileRevalidate, false},
		{"s-maxage with sie", Policy{}, entry("Cache-Control", "s-maxage=60, stale-if-error=60"), nil, 61 * sec, MustRevalidate, ReasonSMaxAge, true},
		{"proxy-revalidate with swr", Policy{}, entry("Cache-Control", "max-age=60, proxy-revalidate, stale-while-revalidate=60"), nil, 61 * sec, MustRevalidate, ReasonProxyRevalidate, false},
		// RFC 5861 §3 stale-while-revalidate.
		{"swr within", Policy{}, entry("Cache-Control", "max-age=60, stale-while-revalidate=30"), nil, 90 * sec, StaleServeAndRevalidate, ReasonStaleWhileRevalidate, false},
		{"swr beyond", Policy{}, entry("Cache-Control", "max-age=60, stale-while-revalidate=30"), nil, 91 * sec, MustRevalidate, ReasonExpired, false},
		{"swr but request max-age", Policy{}, entry("Cache-Control", "max-age=60, stale-while-revalidate=30"), hdr("Cache-Control", "max-age=10"), 70 * sec, MustRevalidate, ReasonRequestMaxAge, false},
		// RFC 5861 §4 stale-if-error, response or request.
		{"sie response", Policy{}, entry("Cache-Control", "max-age=60, stale-if-error=600"), nil, 600 * sec, MustRevalidate, ReasonExpired, true},
		{"sie response beyond", Policy{}, entry("Cache-Control", "max-age=60, stale-if-error=600"), nil, 661 * sec, MustRevalidate, ReasonExpired, false},
		{"sie request", Policy{}, entry("Cache-Control", "max-age=60"), hdr("Cache-Control", "stale-if-error=100"), 100 * sec, MustRevalidate, ReasonExpired, true},
		{"sie request ignored", Policy{IgnoreRequestDirectives: true}, entry("Cache-Control", "max-age=60"), hdr("Cache-Control", "stale-if-error=100"), 100 * sec, MustRevalidate, ReasonExpired, false},
		// §5.2.1.7 only-if-cached.
		{"only-if-cached fresh", Policy{}, entry("Cache-Control", "max-age=60"), hdr("Cache-Control", "only-if-cached"), 0, Fresh, ReasonFresh, true},
		{"only-if-cached stale", Policy{}, entry("Cache-Control", "max-age=60"), hdr("Cache-Control", "only-if-cached"), hour, GatewayTimeout, ReasonOnlyIfCached, false},
		{"only-if-cached max-stale", Policy{}, entry("Cache-Control", "max-age=60"), hdr("Cache-Control", "only-if-cached, max-stale"), hour, StaleServe, ReasonMaxStale, true},
		// A rule TTL overrides origin freshness.
		{"rule", Policy{TTL: 90 * day}, entry("Cache-Control", "max-age=0"), nil, 89 * day, Fresh, ReasonFresh, true},
		{"rule no-cache still validates", Policy{TTL: 90 * day}, entry("Cache-Control", "no-cache"), nil, 0, MustRevalidate, ReasonNoCache, false},
	}
	for _, tt := range tests {
		got := tt.policy.Decide(tt.e, tt.req, at(tt.now))
		if got.Action != tt.action || got.Reason != tt.reason || got.StaleOnError != tt.staleOnError {
			t.Errorf("%s: Decide = %v %q staleOnError=%v; want %v %q staleOnError=%v",
				tt.name, got.Action, got.Reason, got.StaleOnError, tt.action, tt.reason, tt.staleOnError)
		}
	}
}

func TestDecideReportsAgeAndLifetime(t *testing.T) {
	// Stored with Age: 10 after a 2 s round trip; 30 s later the age is
	// 10 + 2 + 30 (§4.2.3) and the Age field reads 42.
	e := Entry{Status: 200, Header: hdr("Cache-Control", "max-age=100", "Date", date(0), "Age", "10"),
		RequestTime: at(-2 * sec), ResponseTime: t0}
	got := Policy{}.Decide(e, nil, at(30*sec))
	if got.Age != 42*sec || got.Lifetime != 100*sec || got.LifetimeSource != SourceMaxAge || got.Action != Fresh {
		t.Errorf("Decide = %+v; want Age 42s, Lifetime 100s from max-age, Fresh", got)
	}
	if s := FormatAge(got.Age); s != "42" {
		t.Errorf("FormatAge = %q, want 42", s)
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{Fresh: "Fresh", StaleServe: "StaleServe",
		StaleServeAndRevalidate: "StaleServeAndRevalidate", MustRevalidate: "MustRevalidate",
		GatewayTimeout: "GatewayTimeout", Action(99): "Action(99)"} {
		if got := a.String(); got != want {
			t.Errorf("Action(%d).String() = %q, want %q", int(a), got, want)
		}
	}
}

func TestIsRevalidationError(t *testing.T) {
	for status, want := range map[int]bool{500: true, 502: true, 503: true, 504: true,
		200: false, 304: false, 404: false, 501: false, 505: false} {
		if got := IsRevalidationError(status); got != want {
			t.Errorf("IsRevalidationError(%d) = %v, want %v", status, got, want)
		}
	}
}
