package diag

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testBody is the object the test servers serve.
var testBody = bytes.Repeat([]byte("strata doctor test object\n"), 400)

var testModTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// object is a configurable test server for one file: well-behaved in its
// zero value plus a quoted ETag, with knobs for each misbehaviour.
type object struct {
	body []byte
	// etag is the raw ETag field value; "" sends none.
	etag string
	// md5 says where Content-MD5 goes: "full" (200 only, correct),
	// "always" (also on 206: C07), "" none.
	md5 string
	// ignoreRange answers every request with 200 (C08).
	ignoreRange bool
	// header is added to every response.
	header http.Header
	// connClose answers Connection: close (C19).
	connClose bool
	// rejectGetBody answers 413 to a GET with a body (C11).
	rejectGetBody bool
	// reflectCORS reflects Origin in Access-Control-Allow-Origin.
	reflectCORS bool
}

// wellBehaved is a server that every HTTP check should pass.
func wellBehaved() *object {
	return &object{etag: `"v1-abc"`, md5: "full", header: http.Header{
		"Via":           {"1.1 strata-l1-a (strata)"},
		"X-Request-Id":  {"req-1"},
		"Cache-Control": {"public, max-age=60"},
	}}
}

func (o *object) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := o.body
	if body == nil {
		body = testBody
	}
	if o.rejectGetBody && r.ContentLength > 0 {
		w.Header().Set("X-Swift-Error", "invalid request")
		http.Error(w, "request entity too large", http.StatusRequestEntityTooLarge)
		return
	}
	for k, v := range o.header {
		w.Header()[k] = v
	}
	if o.etag != "" {
		w.Header().Set("ETag", o.etag)
	}
	if o.connClose {
		w.Header().Set("Connection", "close")
	}
	if o.reflectCORS {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
	}
	if o.md5 != "" {
		sum := md5.Sum(body) //nolint:gosec
		w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	if o.ignoreRange {
		// Like a dynamic origin: the whole body, no Accept-Ranges.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
		return
	}
	if o.md5 == "full" {
		w = &dropOnPartial{ResponseWriter: w}
	}
	http.ServeContent(w, r, "obj.bin", testModTime, bytes.NewReader(body))
}

// dropOnPartial removes Content-MD5 from a 206, as a correct server does.
type dropOnPartial struct{ http.ResponseWriter }

func (d *dropOnPartial) WriteHeader(code int) {
	if code == http.StatusPartialContent {
		d.Header().Del("Content-MD5")
	}
	d.ResponseWriter.WriteHeader(code)
}

// serve starts h on 127.0.0.1:0 and returns its URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/obj.bin"
}

// run runs the named checks against url and fails the test if Run fails.
func run(t *testing.T, opts Options, names ...string) Report {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 20 * time.Second
	}
	opts.Checks = names
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, opts)
	if err != nil {
		t.Fatalf("Run(%s): %v", opts.URL, err)
	}
	return rep
}

// want asserts that rep has a finding id with the case and level.
func want(t *testing.T, rep Report, id, caseID string, level Level) Finding {
	t.Helper()
	fs := rep.Find(id)
	if len(fs) == 0 {
		t.Fatalf("no finding %q; got:\n%s", id, dump(rep))
	}
	f := fs[0]
	if f.Case != caseID || f.Level != level {
		t.Fatalf("finding %q: got case %q level %v, want case %q level %v\n%s", id, f.Case, f.Level, caseID, level, dump(rep))
	}
	return f
}

// noBad asserts that rep has no bad finding.
func noBad(t *testing.T, rep Report) {
	t.Helper()
	if rep.Worst() == Bad {
		t.Fatalf("got a bad finding from a well-behaved server:\n%s", dump(rep))
	}
}

// ids returns the IDs of rep's findings at level or worse.
func ids(rep Report, level Level) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Level >= level {
			out = append(out, f.ID)
		}
	}
	slices.Sort(out)
	return out
}

func dump(rep Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString("  " + f.Level.String() + " " + f.ID + " [" + f.Case + "] " + f.Summary + "\n")
		for _, e := range f.Evidence {
			b.WriteString("      " + e + "\n")
		}
	}
	return b.String()
}
