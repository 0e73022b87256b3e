package diag

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// originServer serves testBody the way a customer's origin might; mutate
// decides per request.
func originServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// gzipUnlessVia compresses for clients that accept gzip, except when the
// request has Via: nginx with gzip_proxied off (C03).
func gzipUnlessVia(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && r.Header.Get("Via") == "" {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(testBody)
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Vary", "Accept-Encoding")
		w.Write(b.Bytes())
		return
	}
	w.Write(testBody)
}

func TestOriginConsistent_C12(t *testing.T) {
	origin := originServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write(testBody) })
	o := wellBehaved()
	o.md5 = ""
	rep := run(t, Options{URL: serve(t, o), Origin: origin}, "origin")
	want(t, rep, "origin.consistent", "C12", OK)
	want(t, rep, "origin.direct", "C06", OK)
	noBad(t, rep)
}

func TestOriginViaDisablesGzip_C03(t *testing.T) {
	origin := originServer(t, gzipUnlessVia)
	rep := run(t, Options{URL: serve(t, wellBehaved()), Origin: origin}, "origin")
	f := want(t, rep, "origin.header-changes-encoding", "C03", Warn)
	if !strings.Contains(f.Summary, "Via") || !strings.Contains(f.Fix, "gzip_proxied") {
		t.Errorf("finding does not name Via and gzip_proxied: %+v", f)
	}
	if n := len(rep.Find("origin.header-changes-encoding")); n != 1 {
		t.Errorf("%d headers blamed, want only Via:\n%s", n, dump(rep))
	}
}

func TestOriginRejectsVia_C12(t *testing.T) {
	origin := originServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Via") != "" {
			http.Error(w, "proxies not allowed", http.StatusForbidden)
			return
		}
		w.Write(testBody)
	})
	rep := run(t, Options{URL: serve(t, wellBehaved()), Origin: "http://" + origin}, "origin")
	f := want(t, rep, "origin.header-changes-status", "C12", Bad)
	if !strings.Contains(f.Summary, "with Via") {
		t.Errorf("summary does not name Via: %q", f.Summary)
	}
}

func TestOriginBodyChangesWithXFF_C12(t *testing.T) {
	origin := originServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Forwarded-For") != "" {
			w.Write([]byte("you are a proxy"))
			return
		}
		w.Write(testBody)
	})
	rep := run(t, Options{URL: serve(t, wellBehaved()), Origin: origin}, "origin")
	want(t, rep, "origin.header-changes-body", "C12", Warn)
}

func TestOriginBehindSameCDN_C06(t *testing.T) {
	cdn := wellBehaved() // Via: 1.1 strata-l1-a (strata)
	origin := originServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Via", "1.1 strata-l1-a (strata)")
		w.Write(testBody)
	})
	rep := run(t, Options{URL: serve(t, cdn), Origin: origin}, "origin")
	want(t, rep, "origin.loop", "C06", Bad)

	other := originServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cache", "HIT from other-cdn")
		w.Write(testBody)
	})
	rep = run(t, Options{URL: serve(t, cdn), Origin: other}, "origin")
	want(t, rep, "origin.behind-cdn", "C06", Warn)
}

func TestCDNBodyDiffersFromOrigin_A2(t *testing.T) {
	origin := originServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(append([]byte("version 2\n"), testBody...))
	})
	o := wellBehaved()
	o.md5 = ""
	rep := run(t, Options{URL: serve(t, o), Origin: origin}, "origin")
	want(t, rep, "origin.body-differs", "A2", Warn)
}
