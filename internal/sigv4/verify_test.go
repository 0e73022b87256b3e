package sigv4

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var verifyTime = time.Date(2025, 6, 30, 23, 50, 0, 0, time.UTC)

// signedGet returns a GET signed at when with SignRequest, as the server
// receives it.
func signedGet(t *testing.T, target string, when time.Time, edit func(*http.Request)) *http.Request {
	t.Helper()
	r, _ := http.NewRequest("GET", "http://127.0.0.1:9000"+target, nil)
	if edit != nil {
		edit(r)
	}
	SignRequest(r, testAccessKey, testSecret, testRegion, when, "")
	return toServer(r, nil)
}

// toServer turns a client request into what net/http's server hands over.
func toServer(r *http.Request, body []byte) *http.Request {
	s := newServerRequest(r.Method, r.URL.RequestURI(), r.URL.Host, nil, body)
	s.Header = r.Header.Clone()
	return s
}

func TestVerifyAnonymous(t *testing.T) {
	r := newServerRequest("PUT", "/bucket/key?acl", "127.0.0.1", nil, []byte("body"))
	res, err := testVerifier().Verify(r, verifyTime)
	if err != nil || !res.Anonymous || res.AccessKey != "" {
		t.Fatalf("got %+v, %v; want anonymous", res, err)
	}
	if b, _ := io.ReadAll(res.Body); string(b) != "body" {
		t.Errorf("body = %q", b)
	}
}

func TestVerifyErrors(t *testing.T) {
	good := func() *http.Request { return signedGet(t, "/bucket/key", verifyTime, nil) }
	presigned := func(when time.Time, expires time.Duration) *http.Request {
		r, _ := http.NewRequest("GET", "http://127.0.0.1:9000/bucket/key", nil)
		u := Presign(r, testAccessKey, testSecret, testRegion, when, expires)
		return toServer(&http.Request{Method: "GET", URL: u, Header: http.Header{}}, nil)
	}
	setAuth := func(r *http.Request, f func(string) string) *http.Request {
		r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
		return r
	}
	tests := []struct {
		name     string
		req      func() *http.Request
		now      time.Time
		v        *Verifier
		sentinel error
		want     string
	}{
		{name: "good", req: good, sentinel: nil},
		{name: "skew just inside", req: good, now: verifyTime.Add(15 * time.Minute)},
		{name: "clock ahead", req: good, now: verifyTime.Add(16 * time.Minute), sentinel: ErrTimeSkewed,
			want: "request time 2025-06-30T23:50:00Z differs from server time 2025-07-01T00:06:00Z by 16m0s"},
		{name: "clock behind", req: good, now: verifyTime.Add(-16 * time.Minute), sentinel: ErrTimeSkewed},
		{name: "custom skew", req: good, now: verifyTime.Add(2 * time.Minute), v: &Verifier{Lookup: testVerifier().Lookup, MaxSkew: time.Minute},
			sentinel: ErrTimeSkewed, want: "at most 1m0s"},
		{name: "unknown key", req: good, v: &Verifier{Lookup: func(string) (string, bool) { return "", false }},
			sentinel: ErrUnknownAccessKey, want: `access key "AKIDSTRATATEST"`},
		{name: "nil lookup", req: good, v: &Verifier{}, sentinel: ErrUnknownAccessKey},
		{name: "wrong region", req: good, v: &Verifier{Lookup: testVerifier().Lookup, Region: "eu-west-1"},
			sentinel: ErrMalformedAuth, want: `the region "us-east-1" is wrong; expecting "eu-west-1"`},
		{name: "wrong secret", req: good, v: &Verifier{Lookup: func(string) (string, bool) { return "other", true }},
			sentinel: ErrSignatureMismatch},
		{name: "two authorization headers", req: func() *http.Request {
			r := good()
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}, sentinel: ErrMalformedAuth, want: "2 Authorization headers"},
		{name: "header and query", req: func() *http.Request {
			r := presigned(verifyTime, time.Hour)
			r.Header.Set("Authorization", good().Header.Get("Authorization"))
			return r
		}, sentinel: ErrMalformedAuth, want: "both in the Authorization header and in the query string"},
		{name: "signature v2 header", req: func() *http.Request {
			r := good()
			r.Header.Set("Authorization", "AWS AKID:c2lnbmF0dXJl")
			return r
		}, sentinel: ErrUnsupportedSigning, want: "Signature Version 2"},
		{name: "signature v2 query", req: func() *http.Request {
			return newServerRequest("GET", "/b/k?AWSAccessKeyId=AKID&Expires=1&Signature=abc", "h", nil, nil)
		}, sentinel: ErrUnsupportedSigning, want: "Signature Version 2"},
		{name: "sigv4a", req: func() *http.Request {
			return setAuth(good(), func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) })
		}, sentinel: ErrUnsupportedSigning, want: `"AWS4-ECDSA-P256-SHA256"`},
		{name: "no date", req: func() *http.Request {
			r := good()
			r.Header.Del("X-Amz-Date")
			return r
		}, sentinel: ErrMalformedAuth, want: "neither X-Amz-Date nor Date"},
		{name: "bad date", req: func() *http.Request {
			r := good()
			r.Header.Set("X-Amz-Date", "2025-06-30T23:50:00Z")
			return r
		}, sentinel: ErrMalformedAuth, want: `X-Amz-Date "2025-06-30T23:50:00Z" is not yyyymmddThhmmssZ`},
		{name: "scope date differs", req: func() *http.Request {
			return setAuth(good(), func(a string) string { return strings.Replace(a, "/20250630/", "/20250629/", 1) })
		}, sentinel: ErrMalformedAuth, want: "credential date 20250629 is not the day of the request time 20250630T235000Z"},
		{name: "service not s3", req: func() *http.Request {
			return setAuth(good(), func(a string) string { return strings.Replace(a, "/s3/", "/ec2/", 1) })
		}, sentinel: ErrMalformedAuth, want: `credential service is "ec2"`},
		{name: "host not signed", req: func() *http.Request {
			return setAuth(good(), func(a string) string { return strings.Replace(a, "SignedHeaders=host;", "SignedHeaders=", 1) })
		}, sentinel: ErrMalformedAuth, want: "does not include host"},
		{name: "bad payload hash", req: func() *http.Request {
			r := good()
			r.Header.Set("X-Amz-Content-Sha256", "not-a-hash")
			return r
		}, sentinel: ErrMalformedAuth, want: `x-amz-content-sha256 "not-a-hash"`},
		{name: "sigv4a streaming", req: func() *http.Request {
			r := good()
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")
			return r
		}, sentinel: ErrUnsupportedSigning},
		{name: "missing payload hash with body", req: func() *http.Request {
			r := toServer(good(), []byte("x"))
			r.Header.Del("X-Amz-Content-Sha256")
			return r
		}, sentinel: ErrMalformedAuth, want: "no x-amz-content-sha256"},
		{name: "bad decoded length", req: func() *http.Request {
			r, _ := http.NewRequest("PUT", "http://127.0.0.1:9000/b/k", nil)
			r.Header.Set("X-Amz-Decoded-Content-Length", "-5")
			SignRequest(r, testAccessKey, testSecret, testRegion, verifyTime, StreamingPayload)
			return toServer(r, nil)
		}, sentinel: ErrMalformedChunk, want: `x-amz-decoded-content-length "-5"`},
		{name: "bad query escape", req: func() *http.Request {
			return newServerRequest("GET", "/b/k?X-Amz-Signature=%zz", "h", nil, nil)
		}, sentinel: ErrMalformedAuth, want: "X-Amz-Signature"},

		{name: "presigned good", req: func() *http.Request { return presigned(verifyTime, time.Hour) }, now: verifyTime.Add(time.Hour)},
		{name: "presigned expired", req: func() *http.Request { return presigned(verifyTime, time.Hour) }, now: verifyTime.Add(time.Hour + time.Second),
			sentinel: ErrRequestExpired, want: "presigned URL expired at 2025-07-01T00:50:00Z"},
		{name: "presigned not yet valid", req: func() *http.Request { return presigned(verifyTime, time.Hour) }, now: verifyTime.Add(-time.Hour),
			sentinel: ErrTimeSkewed, want: "not valid until"},
		{name: "presigned too long", req: func() *http.Request { return presigned(verifyTime, 8*24*time.Hour) },
			sentinel: ErrMalformedAuth, want: "X-Amz-Expires 691200 is more than a week"},
		{name: "presigned missing parameter", req: func() *http.Request {
			r := presigned(verifyTime, time.Hour)
			q := r.URL.Query()
			q.Del("X-Amz-SignedHeaders")
			return newServerRequest("GET", "/bucket/key?"+q.Encode(), r.Host, nil, nil)
		}, sentinel: ErrMalformedAuth, want: "presigned URL has no X-Amz-SignedHeaders"},
		{name: "presigned repeated parameter", req: func() *http.Request {
			r := presigned(verifyTime, time.Hour)
			return newServerRequest("GET", r.URL.RequestURI()+"&X-Amz-Date=20250630T235000Z", r.Host, nil, nil)
		}, sentinel: ErrMalformedAuth, want: "presigned URL has X-Amz-Date 2 times"},
		{name: "presigned wrong algorithm", req: func() *http.Request {
			r := presigned(verifyTime, time.Hour)
			return newServerRequest("GET", strings.Replace(r.URL.RequestURI(), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1), r.Host, nil, nil)
		}, sentinel: ErrUnsupportedSigning, want: `X-Amz-Algorithm "AWS4-HMAC-SHA512"`},
		{name: "presigned tampered query", req: func() *http.Request {
			r := presigned(verifyTime, time.Hour)
			return newServerRequest("GET", r.URL.RequestURI()+"&versionId=x", r.Host, nil, nil)
		}, sentinel: ErrSignatureMismatch},
		{name: "presigned other host", req: func() *http.Request {
			r := presigned(verifyTime, time.Hour)
			r.Host = "evil.example"
			return r
		}, sentinel: ErrSignatureMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.v
			if v == nil {
				v = testVerifier()
			}
			now := tc.now
			if now.IsZero() {
				now = verifyTime
			}
			res, err := v.Verify(tc.req(), now)
			if tc.sentinel == nil {
				if err != nil || res.AccessKey != testAccessKey {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want %v containing %q", err, tc.sentinel, tc.want)
			}
		})
	}
}

// A signature over the path as sent (an unencoded '$', say) verifies too:
// not every client re-encodes before signing.
func TestVerifyPathAsSent(t *testing.T) {
	key := signingKey(testSecret, "20250630", testRegion, serviceS3)
	r := newServerRequest("GET", "/bucket/a$b!c", "h", map[string]string{
		"X-Amz-Date": "20250630T235000Z", "X-Amz-Content-Sha256": emptySHA256,
	}, nil)
	signed := []string{"host", "x-amz-content-sha256", "x-amz-date"}
	creq := canonicalRequest("GET", "/bucket/a$b!c", "", canonicalHeaders(r, signed), signed, emptySHA256)
	sig := signature(key, stringToSign("20250630T235000Z", "20250630/us-east-1/s3/aws4_request", creq))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAccessKey+"/20250630/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature="+sig)
	if _, err := testVerifier().Verify(r, verifyTime); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestPresignedWithQueryParameters(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://127.0.0.1:9000/bucket/dir/a b+c?response-content-type=text%2Fplain&versionId=a+b", nil)
	u := Presign(r, testAccessKey, testSecret, testRegion, verifyTime, time.Minute)
	got := toServer(&http.Request{Method: "GET", URL: u, Header: http.Header{}}, nil)
	res, err := testVerifier().Verify(got, verifyTime)
	if err != nil || !res.Presigned || res.PayloadHash != UnsignedPayload {
		t.Fatalf("got %+v, %v", res, err)
	}
	if q, _ := url.ParseQuery(u.RawQuery); q.Get("versionId") != "a b" {
		t.Errorf("versionId = %q, want %q", q.Get("versionId"), "a b")
	}
}
