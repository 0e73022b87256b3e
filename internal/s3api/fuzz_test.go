package s3api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzS3URLEncode: what encoding-type=url produces decodes back with
// url.QueryUnescape (how SDKs decode it) and contains no XML-unsafe bytes.
func FuzzS3URLEncode(f *testing.F) {
	for _, k := range oddKeys {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := s3URLEncode(s)
		dec, err := url.QueryUnescape(enc)
		if err != nil || dec != s {
			t.Fatalf("QueryUnescape(s3URLEncode(%q)) = %q, %v", s, dec, err)
		}
		if strings.ContainsAny(enc, " <>&\"'~\x00") {
			t.Fatalf("s3URLEncode(%q) = %q contains a character that must be encoded", s, enc)
		}
	})
}

// FuzzContinuationToken: tokens round-trip and decoding never panics.
func FuzzContinuationToken(f *testing.F) {
	f.Add("dir/sub/")
	f.Add("")
	f.Add("\xff\x00key")
	f.Fuzz(func(t *testing.T, s string) {
		if s != "" {
			got, err := decodeToken(encodeToken(s))
			if err != nil || got != s {
				t.Fatalf("decodeToken(encodeToken(%q)) = %q, %v", s, got, err)
			}
		}
		_, _ = decodeToken(s)
	})
}

// FuzzCopySource: x-amz-copy-source parsing never panics, and a result
// always names a bucket and a key.
func FuzzCopySource(f *testing.F) {
	f.Add("/bucket/key")
	f.Add("bucket/dir/a%20b%2Bc?versionId=null")
	f.Add("%zz/")
	f.Fuzz(func(t *testing.T, v string) {
		r := &http.Request{Header: http.Header{"X-Amz-Copy-Source": {v}}}
		b, k, err := copySource(r)
		if err == nil && (b == "" || k == "") {
			t.Fatalf("copySource(%q) = %q, %q without error", v, b, k)
		}
	})
}

// FuzzParseCopyRange: an accepted x-amz-copy-source-range lies inside the
// source.
func FuzzParseCopyRange(f *testing.F) {
	f.Add("bytes=0-99", int64(100))
	f.Add("bytes=5-4", int64(100))
	f.Add("bytes=-1", int64(0))
	f.Fuzz(func(t *testing.T, v string, size int64) {
		start, length, err := parseCopyRange(v, size)
		if err != nil {
			return
		}
		if start < 0 || length <= 0 || start+length > size {
			t.Fatalf("parseCopyRange(%q, %d) = %d, %d: outside the object", v, size, start, length)
		}
	})
}

// FuzzRoute: any method, host, path and query selects an operation or an
// S3 error, and never panics.
func FuzzRoute(f *testing.F) {
	f.Add("GET", "b.s3.strata.test:80", "/k", "list-type=2")
	f.Add("PUT", "localhost", "/bkt/a/b", "partNumber=1&uploadId=x")
	f.Add("POST", "x", "/bkt", "delete")
	f.Add("DELETE", "[::1]:9000", "/", "acl&uploads")
	f.Fuzz(func(t *testing.T, method, host, path, query string) {
		u := &url.URL{Path: path, RawQuery: query}
		r := &http.Request{Method: method, Host: host, URL: u, Header: http.Header{}}
		h := &Handler{Domains: []string{"s3.strata.test"}}
		b, k := h.bucketKey(r)
		op, err := route(r, b, k)
		if err == nil && op.run == nil {
			t.Fatalf("route(%s %s %s?%s) has no operation and no error", method, host, path, query)
		}
	})
}
