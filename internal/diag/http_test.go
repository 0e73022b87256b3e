package diag

import (
	"bytes"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
)

var httpChecks = []string{"timing", "etag", "range", "if-range", "checksum", "vary", "cors", "keepalive", "get-body", "identity"}

func TestWellBehavedServerHasNoBadFinding(t *testing.T) {
	rep := run(t, Options{URL: serve(t, wellBehaved())}, httpChecks...)
	noBad(t, rep)
	// Slow-phase warnings depend on the machine's load, not the server.
	got := slices.DeleteFunc(ids(rep, Warn), func(id string) bool { return strings.HasPrefix(id, "timing.slow") })
	if len(got) != 0 {
		t.Errorf("warnings from a well-behaved server: %v\n%s", got, dump(rep))
	}
	for _, id := range []string{"etag.ok", "range.ok", "if-range.current", "if-range.stale", "checksum.ok", "cache.ok", "cors.ok", "keepalive.ok", "get-body.ok", "identity.ok"} {
		want(t, rep, id, rep.Find(id)[0].Case, OK)
	}
	if rep.Timing == nil || rep.Timing.Total <= 0 || rep.Timing.Total < rep.Timing.StartTransfer ||
		rep.Timing.StartTransfer < rep.Timing.Connect || rep.Timing.Connect < rep.Timing.NameLookup {
		t.Errorf("timing not cumulative as in curl: %+v", rep.Timing)
	}
	if rep.Timing.AppConnect != 0 {
		t.Errorf("time_appconnect = %v for plain http, want 0 as in curl", rep.Timing.AppConnect)
	}
}

func TestUnquotedETag_A1(t *testing.T) {
	o := wellBehaved()
	o.etag = "v1-abc" // bare: Go's ServeContent, like nginx, then reads If-Range as a date
	rep := run(t, Options{URL: serve(t, o)}, "etag", "if-range")
	f := want(t, rep, "etag.unquoted", "A1", Bad)
	if f.Fix == "" || !contains(f.Fix, `"v1-abc"`) {
		t.Errorf("fix %q does not show the quoted tag", f.Fix)
	}
	want(t, rep, "if-range.current-ignored", "A1", Bad)
	want(t, rep, "if-range.stale", "A1", OK)
}

func TestInvalidAndWeakETag_A1(t *testing.T) {
	for _, tc := range []struct {
		etag, id string
		level    Level
	}{
		{`"a"b"`, "etag.invalid", Bad},
		{`W/"v1"`, "etag.weak", Info},
		{"", "etag.missing", Info}, // Last-Modified remains
	} {
		o := wellBehaved()
		o.etag = tc.etag
		rep := run(t, Options{URL: serve(t, o)}, "etag")
		want(t, rep, tc.id, "A1", tc.level)
	}
}

// staleIfRange honours Range whatever If-Range says.
type staleIfRange struct{ *object }

func (s staleIfRange) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Header.Del("If-Range")
	s.object.ServeHTTP(w, r)
}

func TestIfRangeStaleHonoured_A1(t *testing.T) {
	rep := run(t, Options{URL: serve(t, staleIfRange{wellBehaved()})}, "if-range")
	want(t, rep, "if-range.current", "A1", OK)
	want(t, rep, "if-range.stale-honoured", "A1", Bad)
}

func TestRangeIgnored_C08(t *testing.T) {
	o := wellBehaved()
	o.ignoreRange = true
	rep := run(t, Options{URL: serve(t, o)}, "range", "if-range", "checksum")
	want(t, rep, "range.ignored", "C08", Warn)
	if got := rep.Find("if-range.current-ignored"); len(got) != 0 {
		t.Errorf("if-range blamed for a server that ignores Range altogether: %v", got)
	}
	noBad(t, rep)

	o.header.Set("Accept-Ranges", "bytes")
	rep = run(t, Options{URL: serve(t, o)}, "range")
	want(t, rep, "range.ignored", "C08", Bad)
}

func TestContentMD5OnPartial_C07(t *testing.T) {
	o := wellBehaved()
	o.md5 = "always"
	rep := run(t, Options{URL: serve(t, o)}, "range", "checksum")
	want(t, rep, "checksum.on-partial", "C07", Bad)
	want(t, rep, "checksum.ok", "C07", OK) // the 200's is still right
}

func TestChecksumMissingAndMismatch_C07_A2(t *testing.T) {
	o := wellBehaved()
	o.md5 = ""
	rep := run(t, Options{URL: serve(t, o)}, "checksum")
	want(t, rep, "checksum.missing", "C07", Info)

	// A stale copy: the header describes another version of the file.
	o.header.Set("X-Oss-Hash-Crc64ecma", "12345")
	rep = run(t, Options{URL: serve(t, o)}, "checksum")
	want(t, rep, "checksum.mismatch", "A2", Bad)
}

func TestVaryCookie_C17(t *testing.T) {
	o := wellBehaved()
	o.header.Set("Vary", "Accept-Encoding, Cookie")
	rep := run(t, Options{URL: serve(t, o)}, "vary")
	want(t, rep, "cache.vary-cookie", "C17", Warn)

	o = wellBehaved()
	o.header.Set("Set-Cookie", "sid=1")
	rep = run(t, Options{URL: serve(t, o)}, "vary")
	want(t, rep, "cache.set-cookie", "C17", Warn)

	o = wellBehaved()
	o.header.Set("Cache-Control", "no-store")
	o.header.Set("Vary", "Cookie")
	rep = run(t, Options{URL: serve(t, o)}, "vary")
	want(t, rep, "cache.not-storable", "C17", Info)
}

// stickyCORS is a cache that stored the first origin's CORS answer and
// serves it to every origin (C10).
type stickyCORS struct {
	*object
	first string
}

func (s *stickyCORS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && s.first == "" {
		s.first = o
	}
	if s.first != "" {
		w.Header().Set("Access-Control-Allow-Origin", s.first)
	}
	s.object.ServeHTTP(w, r)
}

func TestCORS_C10(t *testing.T) {
	rep := run(t, Options{URL: serve(t, &stickyCORS{object: wellBehaved()})}, "cors")
	want(t, rep, "cors.wrong-origin", "C10", Bad)

	o := wellBehaved()
	o.reflectCORS = true
	rep = run(t, Options{URL: serve(t, o)}, "cors")
	want(t, rep, "cors.reflect-no-vary", "C10", Warn)

	o.header.Set("Access-Control-Allow-Credentials", "true")
	rep = run(t, Options{URL: serve(t, o)}, "cors")
	want(t, rep, "cors.reflect-credentials", "C10", Bad)

	o = wellBehaved()
	o.reflectCORS = true
	o.header.Set("Vary", "Origin")
	rep = run(t, Options{URL: serve(t, o)}, "cors")
	want(t, rep, "cors.ok", "C10", OK)
}

func TestConnectionClose_C19(t *testing.T) {
	o := wellBehaved()
	o.connClose = true
	rep := run(t, Options{URL: serve(t, o)}, "keepalive")
	f := want(t, rep, "keepalive.closed", "C19", Warn)
	if !contains(f.Summary, "Connection: close") {
		t.Errorf("summary %q does not name Connection: close", f.Summary)
	}
}

// silentClose closes each connection after one response without saying
// so.
type silentClose struct{ *object }

func (s silentClose) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.object.ServeHTTP(w, r)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
		}
	}
}

func TestSilentClose_C19(t *testing.T) {
	rep := run(t, Options{URL: serve(t, silentClose{wellBehaved()})}, "keepalive")
	want(t, rep, "keepalive.closed", "C19", Warn)
}

func TestGetWithBodyRejected_C11(t *testing.T) {
	o := wellBehaved()
	o.rejectGetBody = true
	rep := run(t, Options{URL: serve(t, o)}, "get-body")
	f := want(t, rep, "get-body.rejected", "C11", Warn)
	if !containsAny(f.Evidence, "X-Swift-Error: invalid request") {
		t.Errorf("evidence lacks the rejecting header: %q", f.Evidence)
	}
}

func TestMiddleboxWithoutIdentity_C14_A2(t *testing.T) {
	o := wellBehaved()
	o.header = http.Header{"Cache-Control": {"max-age=60"}, "Age": {"86400"}}
	rep := run(t, Options{URL: serve(t, o)}, "identity")
	want(t, rep, "identity.missing", "C14", Warn)
	want(t, rep, "cache.age-without-via", "A2", Warn)
	want(t, rep, "cache.stale", "A2", Warn)
}

func TestFailedRequestIsBad(t *testing.T) {
	// A listener closed at once: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rep := run(t, Options{URL: "http://" + addr + "/obj.bin"}, "timing", "etag")
	want(t, rep, "http.failed", "", Bad)
	want(t, rep, "etag.skipped", "A1", Info)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func containsAny(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

func TestLargeBodyIsNotReadRepeatedly_C19(t *testing.T) {
	o := wellBehaved()
	o.ignoreRange = true
	o.body = bytes.Repeat([]byte("x"), 2*probeBody)
	rep := run(t, Options{URL: serve(t, o), MaxBody: probeBody}, "keepalive", "checksum")
	want(t, rep, "keepalive.skipped", "C19", Info)
	// The baseline read stopped at MaxBody, so Content-MD5 cannot be
	// verified; it must not be called a mismatch.
	want(t, rep, "checksum.present", "C07", OK)
}
