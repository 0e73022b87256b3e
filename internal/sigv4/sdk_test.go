package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

// trickyKeys are object keys whose encoding trips up signers and
// verifiers: reserved and unreserved punctuation, spaces and '+', UTF-8,
// percent signs, dot segments and repeated slashes (S3 neither decodes
// twice nor normalises paths).
var trickyKeys = []string{
	"plain.txt",
	"with space.txt",
	"plus+sign+and space",
	"a=b&c=d",
	"tilde~under_score-dash.dot",
	"unicode-ü-日本語-€",
	"emoji-😀",
	"percent%20literal%2F",
	"semi;colon,comma",
	"bang!dollar$amp&quote'paren()star*",
	"at@colon:",
	"brackets[]{}",
	"caret^backtick`pipe|backslash\\",
	"quote\"less<greater>",
	"hash#frag",
	"question?mark",
	"dir/sub/file.bin",
	"a//double/slash",
	"./dot/./seg",
	"../dotdot/../seg",
	"trailing/",
	"ctl-\x01-\x7f",
}

// trickyQueries are query strings as S3 clients send them.
var trickyQueries = []url.Values{
	nil,
	{"uploads": {""}},
	{"list-type": {"2"}, "prefix": {"日本/a b"}, "delimiter": {"/"}},
	{"versionId": {"3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"}},
	{"marker": {"a+b=c&d%e"}, "max-keys": {"2"}},
	{"response-content-disposition": {`attachment; filename="x y.txt"`}, "x-id": {"GetObject"}},
	{"a": {"2", "1", ""}, "A": {"z"}, "~": {"~"}},
}

// sdkRequest builds a request as the aws-sdk-go-v2 S3 client does: the
// key escaped by smithy's httpbinding, the query canonicalised by the
// signer.
func sdkRequest(t *testing.T, method, base, key string, q url.Values, body []byte) *http.Request {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/bucket/" + key
	u.RawPath = "/bucket/" + httpbinding.EscapePath(key, false)
	u.RawQuery = q.Encode()
	r, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest(%q): %v", key, err)
	}
	if body == nil {
		r.Body, r.ContentLength = http.NoBody, 0
	}
	return r
}

func sdkSign(t *testing.T, r *http.Request, payloadHash string, when time.Time) {
	t.Helper()
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
	if err := signer.SignHTTP(context.Background(), creds, r, payloadHash, "s3", testRegion, when); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// aws-sdk-go-v2's signer signs, the verifier (over a real socket) accepts;
// one byte changed anywhere signed is SignatureDoesNotMatch.
func TestVerifyAcceptsSDKSignerOverSocket(t *testing.T) {
	srv, seen := verifyServer(t, testVerifier(), false)
	client := srv.Client()
	body := []byte("hello, strata")

	type variant struct {
		name        string
		method      string
		body        []byte
		payloadHash string
	}
	variants := []variant{
		{"GET", "GET", nil, emptySHA256},
		{"PUT sha256", "PUT", body, hexSHA256(body)},
		{"PUT unsigned", "PUT", body, UnsignedPayload},
	}
	tampers := []struct {
		name string
		fn   func(r *http.Request)
	}{
		{"signature", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+flipHex(a[len(a)-1:]))
		}},
		{"path", func(r *http.Request) { r.URL.Path += "x"; r.URL.RawPath += "x" }},
		{"query", func(r *http.Request) { r.URL.RawQuery += "&extra=1" }},
		{"signed header", func(r *http.Request) { r.Header.Set("X-Amz-Meta-Color", "blue") }},
		{"date", func(r *http.Request) {
			d, _ := time.Parse(iso8601Basic, r.Header.Get("X-Amz-Date"))
			r.Header.Set("X-Amz-Date", d.Add(time.Second).Format(iso8601Basic))
		}},
	}

	now := time.Now()
	for _, key := range trickyKeys {
		for qi, q := range trickyQueries {
			for _, vr := range variants {
				r := sdkRequest(t, vr.method, srv.URL, key, q, vr.body)
				r.Header.Set("X-Amz-Meta-Color", "red")
				sdkSign(t, r, vr.payloadHash, now)
				resp, err := client.Do(r)
				if err != nil {
					t.Fatalf("key %q: %v", key, err)
				}
				resp.Body.Close()
				ob := next(t, seen)
				if ob.err != nil || resp.StatusCode != 200 {
					t.Errorf("key %q query %d %s: status %d, verify error %v", key, qi, vr.name, resp.StatusCode, ob.err)
					continue
				}
				if !bytes.Equal(ob.body, vr.body) {
					t.Errorf("key %q %s: server read %q, want %q", key, vr.name, ob.body, vr.body)
				}
				if ob.path != "/bucket/"+key {
					t.Errorf("server path %q, want %q", ob.path, "/bucket/"+key)
				}
			}
		}
	}

	// Tampering, on a sample of keys to keep the test fast.
	for _, key := range []string{"with space.txt", "unicode-ü-日本語-€", "a=b&c=d", "../dotdot/../seg"} {
		for _, tm := range tampers {
			r := sdkRequest(t, "PUT", srv.URL, key, trickyQueries[2], body)
			r.Header.Set("X-Amz-Meta-Color", "red")
			sdkSign(t, r, hexSHA256(body), now)
			tm.fn(r)
			resp, err := client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ob := next(t, seen)
			var se *SignatureError
			if !errors.Is(ob.err, ErrSignatureMismatch) || !errors.As(ob.err, &se) || resp.StatusCode != 403 {
				t.Errorf("key %q, tampered %s: status %d, error %v; want SignatureError", key, tm.name, resp.StatusCode, ob.err)
			}
		}
	}
}

// A payload that differs from its signed SHA-256 fails at EOF.
func TestVerifyContentSHA256MismatchOverSocket(t *testing.T) {
	srv, seen := verifyServer(t, testVerifier(), false)
	r := sdkRequest(t, "PUT", srv.URL, "k", nil, []byte("the real body"))
	sdkSign(t, r, hexSHA256([]byte("another body")), time.Now())
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ob := next(t, seen)
	if !errors.Is(ob.err, ErrContentSHA256) {
		t.Errorf("got %v, want ErrContentSHA256", ob.err)
	}
	if !bytes.Equal(ob.body, []byte("the real body")) {
		t.Errorf("bytes before the error = %q", ob.body)
	}
}

// SignRequest and Presign agree with aws-sdk-go-v2's signer byte for byte.
func TestSignRequestMatchesSDK(t *testing.T) {
	when := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	for _, key := range trickyKeys {
		for _, q := range trickyQueries {
			body := []byte("payload for " + key)
			ours := sdkRequest(t, "PUT", "http://127.0.0.1:9000", key, q, body)
			theirs := sdkRequest(t, "PUT", "http://127.0.0.1:9000", key, q, body)
			for _, r := range []*http.Request{ours, theirs} {
				r.Header.Set("Content-Type", "text/plain;  charset=utf-8 ")
				r.Header.Add("X-Amz-Meta-Multi", "one")
				r.Header.Add("X-Amz-Meta-Multi", " two  words ")
				r.Header.Set("User-Agent", "not signed")
			}
			SignRequest(ours, testAccessKey, testSecret, testRegion, when, hexSHA256(body))
			sdkSign(t, theirs, hexSHA256(body), when)
			if got, want := ours.Header.Get("Authorization"), theirs.Header.Get("Authorization"); got != want {
				t.Errorf("key %q query %v:\n got %s\nwant %s", key, q, got, want)
			}
			if got, want := ours.URL.String(), theirs.URL.String(); got != want {
				t.Errorf("URL %q, SDK sends %q", got, want)
			}
		}
	}
}

func TestPresignMatchesSDK(t *testing.T) {
	when := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
	for _, key := range trickyKeys {
		r := sdkRequest(t, "GET", "http://127.0.0.1:9000", key, url.Values{"versionId": {"v+1 2"}}, nil)
		got := Presign(r, testAccessKey, testSecret, testRegion, when, time.Hour)

		sr := sdkRequest(t, "GET", "http://127.0.0.1:9000", key, url.Values{"versionId": {"v+1 2"}, "X-Amz-Expires": {"3600"}}, nil)
		want, _, err := signer.PresignHTTP(context.Background(), creds, sr, UnsignedPayload, "s3", testRegion, when)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want {
			t.Errorf("key %q:\n got %s\nwant %s", key, got, want)
		}
	}
}
