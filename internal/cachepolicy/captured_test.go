package cachepolicy

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The response heads below are transcribed in the shape the named servers
// send (field names, order, casing, date and ETag formats), with dates
// moved to the test's clock; they are parsed from raw bytes by
// http.ReadResponse, as the edge will receive them. Each expected value was worked out by hand from the
// RFC and is noted beside the case.

// nginx 1.22 serving a static file with no expires/add_header: no
// Cache-Control, an ETag of hex(mtime)-hex(size), and Connection.
const nginxStatic = "HTTP/1.1 200 OK\r\n" +
	"Server: nginx/1.22.1\r\n" +
	"Date: Fri, 01 Mar 2024 12:00:00 GMT\r\n" +
	"Content-Type: text/css\r\n" +
	"Content-Length: 615\r\n" +
	"Last-Modified: Thu, 22 Feb 2024 02:00:00 GMT\r\n" +
	"Connection: keep-alive\r\n" +
	"ETag: \"65d4081b-267\"\r\n" +
	"Accept-Ranges: bytes\r\n\r\n"

// nginx with "expires 1h;": both Expires and Cache-Control: max-age.
const nginxExpires = "HTTP/1.1 200 OK\r\n" +
	"Server: nginx/1.22.1\r\n" +
	"Date: Fri, 01 Mar 2024 12:00:00 GMT\r\n" +
	"Content-Type: application/javascript\r\n" +
	"Content-Length: 1024\r\n" +
	"Last-Modified: Fri, 01 Mar 2024 09:00:00 GMT\r\n" +
	"Connection: keep-alive\r\n" +
	"ETag: \"65e19910-400\"\r\n" +
	"Expires: Fri, 01 Mar 2024 13:00:00 GMT\r\n" +
	"Cache-Control: max-age=3600\r\n" +
	"Accept-Ranges: bytes\r\n\r\n"

// Amazon S3 GetObject on an object uploaded without Cache-Control.
const s3Get = "HTTP/1.1 200 OK\r\n" +
	"x-amz-id-2: 5T7XrRYfLXlGvN7hTvmVf9uSZQ9sXUVnAaq5c9K0AcM2ZgHx1XjcTEMHIpgFcF3dkTZlbyuP0oI=\r\n" +
	"x-amz-request-id: 4KQDGR5Y3VWT0YH6\r\n" +
	"Date: Fri, 01 Mar 2024 12:00:00 GMT\r\n" +
	"Last-Modified: Fri, 01 Mar 2024 11:00:00 GMT\r\n" +
	"ETag: \"d41d8cd98f00b204e9800998ecf8427e\"\r\n" +
	"x-amz-server-side-encryption: AES256\r\n" +
	"Accept-Ranges: bytes\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Server: AmazonS3\r\n" +
	"Content-Length: 1024\r\n\r\n"

// A CloudFront hit in front of S3, for a fingerprinted asset: Date from the
// first fetch an hour earlier, Age 3600, a one-year immutable max-age.
const cloudFrontHit = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: image/png\r\n" +
	"Content-Length: 5120\r\n" +
	"Connection: keep-alive\r\n" +
	"Date: Fri, 01 Mar 2024 11:00:00 GMT\r\n" +
	"Cache-Control: public, max-age=31536000, immutable\r\n" +
	"Last-Modified: Thu, 01 Feb 2024 00:00:00 GMT\r\n" +
	"ETag: \"0f343b0931126a20f133d67c2b018a3b\"\r\n" +
	"Server: AmazonS3\r\n" +
	"X-Cache: Hit from cloudfront\r\n" +
	"Via: 1.1 5f5a1e4ac0a1b2c3d4e5f6a7b8c9d0e1.cloudfront.net (CloudFront)\r\n" +
	"X-Amz-Cf-Pop: FRA56-P1\r\n" +
	"X-Amz-Cf-Id: nDeYQqz0k1_Sn8e3ZbqkCEpQW5ub1tHBYhqqKnjGzV6Xb5uWcRFK3A==\r\n" +
	"Age: 3600\r\n\r\n"

// A personalised page as large sites send it: private, max-age=0, and the
// classic invalid Expires: -1.
const privatePage = "HTTP/1.1 200 OK\r\n" +
	"Date: Fri, 01 Mar 2024 12:00:00 GMT\r\n" +
	"Expires: -1\r\n" +
	"Cache-Control: private, max-age=0\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Set-Cookie: NID=511=abc; expires=Sat, 31-Aug-2024 12:00:00 GMT; path=/; domain=.example.test; HttpOnly\r\n" +
	"Server: gws\r\n" +
	"Transfer-Encoding: chunked\r\n\r\n"

// PHP's session defaults (session.cache_limiter=nocache).
const phpSession = "HTTP/1.1 200 OK\r\n" +
	"Date: Fri, 01 Mar 2024 12:00:00 GMT\r\n" +
	"Server: Apache/2.4.57 (Debian)\r\n" +
	"Expires: Thu, 19 Nov 1981 08:52:00 GMT\r\n" +
	"Cache-Control: no-store, no-cache, must-revalidate\r\n" +
	"Pragma: no-cache\r\n" +
	"Vary: Accept-Encoding\r\n" +
	"Content-Length: 10\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n\r\n"

// A CDN-tuned origin (Fastly/Varnish style): browsers revalidate, shared
// caches keep a day and may serve stale while revalidating or on error.
const surrogateOrigin = "HTTP/1.1 200 OK\r\n" +
	"Date: Fri, 01 Mar 2024 12:00:00 GMT\r\n" +
	"Cache-Control: public, max-age=0, s-maxage=86400, stale-while-revalidate=60, stale-if-error=86400\r\n" +
	"Surrogate-Key: article-42 front-page\r\n" +
	"ETag: W/\"2a-1709294400\"\r\n" +
	"Vary: Accept-Encoding, Cookie\r\n" +
	"Content-Type: text/html\r\n" +
	"Content-Length: 42\r\n\r\n"

func parseHead(t *testing.T, raw string) *http.Response {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("ReadResponse: %v", err)
	}
	return resp
}

func TestCapturedHeaderSets(t *testing.T) {
	type check struct {
		after  time.Duration // now = t0 + after
		action Action
		reason Reason
		age    string
	}
	tests := []struct {
		name     string
		raw      string
		storable bool
		why      Reason
		lifetime time.Duration
		src      Reason
		checks   []check
		inm, ims string
	}{
		// Date - Last-Modified = 8d10h (2024 is a leap year) = 202h;
		// 10% = 20h12m, under the 24h cap.
		{name: "nginx static", raw: nginxStatic, storable: true, lifetime: 20*hour + 12*min_, src: SourceHeuristic,
			checks: []check{{20 * hour, Fresh, ReasonFresh, "72000"}, {21 * hour, MustRevalidate, ReasonExpired, "75600"}},
			inm:    `"65d4081b-267"`, ims: "Thu, 22 Feb 2024 02:00:00 GMT"},
		// max-age=3600 wins over Expires (which agrees).
		{name: "nginx expires", raw: nginxExpires, storable: true, lifetime: hour, src: SourceMaxAge,
			checks: []check{{59 * min_, Fresh, ReasonFresh, "3540"}, {hour, MustRevalidate, ReasonExpired, "3600"}},
			inm:    `"65e19910-400"`, ims: "Fri, 01 Mar 2024 09:00:00 GMT"},
		// 10% of one hour: 6 minutes.
		{name: "s3 get", raw: s3Get, storable: true, lifetime: 6 * min_, src: SourceHeuristic,
			checks: []check{{5 * min_, Fresh, ReasonFresh, "300"}, {7 * min_, MustRevalidate, ReasonExpired, "420"}},
			inm:    `"d41d8cd98f00b204e9800998ecf8427e"`, ims: "Fri, 01 Mar 2024 11:00:00 GMT"},
		// Age 3600 (= apparent age; request and response at t0): 10 s later 3610.
		{name: "cloudfront hit", raw: cloudFrontHit, storable: true, lifetime: 31536000 * sec, src: SourceMaxAge,
			checks: []check{{10 * sec, Fresh, ReasonFresh, "3610"}},
			inm:    `"0f343b0931126a20f133d67c2b018a3b"`, ims: "Thu, 01 Feb 2024 00:00:00 GMT"},
		{name: "private page", raw: privatePage, storable: false, why: ReasonPrivate, lifetime: 0, src: SourceMaxAge},
		// A valid Expires long past: lifetime 0 (no max-age to override it).
		{name: "php session", raw: phpSession, storable: false, why: ReasonNoStore, lifetime: 0, src: SourceExpires},
		// s-maxage (shared) over max-age=0; then stale-while-revalidate.
		{name: "surrogate origin", raw: surrogateOrigin, storable: true, lifetime: day, src: SourceSMaxAge,
			checks: []check{{day - sec, Fresh, ReasonFresh, "86399"},
				{day + 30*sec, StaleServeAndRevalidate, ReasonStaleWhileRevalidate, "86430"},
				{day + 61*sec, MustRevalidate, ReasonSMaxAge, "86461"}},
			inm: `W/"2a-1709294400"`},
	}
	for _, tt := range tests {
		resp := parseHead(t, tt.raw)
		ok, why := Policy{}.Storable(&http.Request{Method: "GET", Header: http.Header{}}, resp)
		if ok != tt.storable || why != tt.why {
			t.Errorf("%s: Storable = %v, %q; want %v, %q", tt.name, ok, why, tt.storable, tt.why)
		}
		e := Entry{Status: resp.StatusCode, Header: HeaderToStore(resp.Header), RequestTime: t0, ResponseTime: t0}
		if e.Header.Get("Connection") != "" || e.Header.Get("Transfer-Encoding") != "" {
			t.Errorf("%s: hop-by-hop fields stored: %v", tt.name, e.Header)
		}
		life, src := Policy{}.Lifetime(e)
		if life != tt.lifetime || src != tt.src {
			t.Errorf("%s: Lifetime = %v, %q; want %v, %q", tt.name, life, src, tt.lifetime, tt.src)
		}
		for _, c := range tt.checks {
			dec := Policy{}.Decide(e, http.Header{}, at(c.after))
			if dec.Action != c.action || dec.Reason != c.reason || FormatAge(dec.Age) != c.age {
				t.Errorf("%s at +%v: Decide = %v %q age %s; want %v %q age %s", tt.name, c.after,
					dec.Action, dec.Reason, FormatAge(dec.Age), c.action, c.reason, c.age)
			}
		}
		if !ok {
			continue
		}
		vh := ValidationHeaders(e.Header)
		if vh.Get("If-None-Match") != tt.inm || vh.Get("If-Modified-Since") != tt.ims {
			t.Errorf("%s: ValidationHeaders = %v; want If-None-Match %s, If-Modified-Since %q", tt.name, vh, tt.inm, tt.ims)
		}
	}
}

func TestCapturedSurrogateOriginVary(t *testing.T) {
	// The CDN-tuned origin varies on Cookie; with the edge's usual rule
	// (ignore Cookie, normalise Accept-Encoding) a Chrome and a curl
	// request land on the variants a person would expect.
	resp := parseHead(t, surrogateOrigin)
	opts := VaryOptions{Ignore: []string{"Cookie"},
		Normalize: map[string]Normalizer{"Accept-Encoding": NormalizeAcceptEncoding("br", "gzip")}}
	chrome := hdr("Accept-Encoding", "gzip, deflate, br, zstd", "Cookie", "_ga=GA1.1.123; theme=dark")
	firefox := hdr("Accept-Encoding", "gzip, deflate, br", "Cookie", "_ga=GA1.1.999")
	curl := hdr()
	vary := varyValue(resp.Header)
	kc, _ := VaryKey(vary, chrome, opts)
	kf, _ := VaryKey(vary, firefox, opts)
	ku, _ := VaryKey(vary, curl, opts)
	if kc != "accept-encoding=br" || kf != kc || ku != "accept-encoding=identity" {
		t.Errorf("keys chrome=%q firefox=%q curl=%q; want br, br, identity", kc, kf, ku)
	}
}
