package s3api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/strata-cdn/strata/internal/objstore"
	"github.com/strata-cdn/strata/internal/sigv4"
)

const (
	testAccessKey = "AKIDSTRATATEST"
	testSecret    = "strata-test-secret-key"
	testRegion    = "us-east-1"
	testNode      = "node-t1"
	testMinPart   = 64 << 10
)

// testEnv is a Handler over a real store in a temporary directory, served
// on 127.0.0.1.
type testEnv struct {
	t     *testing.T
	h     *Handler
	store *objstore.Store
	srv   *httptest.Server
}

// envConfig is what envOptions change before the server starts.
type envConfig struct {
	h     *Handler
	store objstore.Options
	tls   bool
}

type envOption func(*envConfig)

// withTLS serves over HTTPS, where the SDK streams aws-chunked bodies with
// trailing checksums.
func withTLS(c *envConfig) { c.tls = true }

func newEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	h := &Handler{
		Credentials: func(ak string) (string, bool) {
			if ak == testAccessKey {
				return testSecret, true
			}
			return "", false
		},
		Region:  testRegion,
		NodeID:  testNode,
		Domains: []string{"s3.strata.test"},
	}
	cfg := envConfig{h: h, store: objstore.Options{MinPartSize: testMinPart}}
	for _, o := range opts {
		o(&cfg)
	}
	st, err := objstore.Open(t.TempDir(), cfg.store)
	if err != nil {
		t.Fatalf("objstore.Open: %v", err)
	}
	h.Store = st
	var srv *httptest.Server
	if cfg.tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return &testEnv{t: t, h: h, store: st, srv: srv}
}

func (e *testEnv) sdk(opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, testSecret, ""),
		BaseEndpoint:     aws.String(e.srv.URL),
		UsePathStyle:     true,
		HTTPClient:       e.srv.Client(),
		RetryMaxAttempts: 1,
	}, opts...)
}

func (e *testEnv) minio() *minio.Client {
	e.t.Helper()
	u, _ := url.Parse(e.srv.URL)
	c, err := minio.New(u.Host, &minio.Options{
		Creds:  miniocreds.NewStaticV4(testAccessKey, testSecret, ""),
		Region: testRegion,
		Secure: false,
	})
	if err != nil {
		e.t.Fatalf("minio.New: %v", err)
	}
	return c
}

func (e *testEnv) bucket(name string) {
	e.t.Helper()
	if err := e.store.CreateBucket(context.Background(), name); err != nil {
		e.t.Fatalf("CreateBucket(%s): %v", name, err)
	}
}

func (e *testEnv) put(bucket, key string, data []byte, meta objstore.Meta) objstore.ObjectInfo {
	e.t.Helper()
	info, err := e.store.PutObject(context.Background(), bucket, key, bytes.NewReader(data),
		objstore.PutOptions{Size: int64(len(data)), Meta: meta})
	if err != nil {
		e.t.Fatalf("PutObject(%s/%s): %v", bucket, key, err)
	}
	return info
}

// request builds a request to path (with query) on the test server; sign it
// with e.sign or send it as is.
func (e *testEnv) request(method, path string, body []byte) *http.Request {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	return r
}

func (e *testEnv) sign(r *http.Request, body []byte) *http.Request {
	sum := sha256.Sum256(body)
	sigv4.SignRequest(r, testAccessKey, testSecret, testRegion, time.Now(), hex.EncodeToString(sum[:]))
	return r
}

// do sends r and returns the response with its body read.
func (e *testEnv) do(r *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", r.Method, r.URL, err)
	}
	return resp, b
}

// signedDo signs and sends a request with body and returns the response.
func (e *testEnv) signedDo(method, path string, body []byte, hdr http.Header) (*http.Response, []byte) {
	e.t.Helper()
	r := e.request(method, path, body)
	for k, v := range hdr {
		r.Header[k] = v
	}
	return e.do(e.sign(r, body))
}

type errorDoc struct {
	Code      string
	Message   string
	Resource  string
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

func parseError(t *testing.T, body []byte) errorDoc {
	t.Helper()
	var d errorDoc
	if err := xml.Unmarshal(body, &d); err != nil {
		t.Fatalf("error body is not S3 XML: %v\n%s", err, body)
	}
	return d
}

// wantError checks an S3 error response's status and code.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) errorDoc {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body:\n%s", resp.StatusCode, status, body)
	}
	d := parseError(t, body)
	if d.Code != code {
		t.Fatalf("Code = %q, want %q (message %q)", d.Code, code, d.Message)
	}
	if d.RequestID == "" || d.RequestID != resp.Header.Get("x-amz-request-id") {
		t.Errorf("RequestId = %q, header x-amz-request-id = %q; want equal and not empty", d.RequestID, resp.Header.Get("x-amz-request-id"))
	}
	if d.HostID != testNode {
		t.Errorf("HostId = %q, want %q", d.HostID, testNode)
	}
	return d
}

// payload is deterministic test data.
func payload(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// logSink is a slog handler that sends every record to a channel, so a
// test can wait for a log line instead of sleeping.
type logSink struct {
	ch    chan slog.Record
	attrs []slog.Attr
}

func newLogSink() *logSink { return &logSink{ch: make(chan slog.Record, 1024)} }

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	select {
	case s.ch <- r.Clone():
	default:
	}
	return nil
}
func (s *logSink) WithAttrs(as []slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler         { return s }

// waitLog waits for a record whose message contains substr.
func (s *logSink) waitLog(t *testing.T, substr string) slog.Record {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case r := <-s.ch:
			t.Logf("log: %s %v", r.Message, recordAttrs(r))
			if strings.Contains(r.Message, substr) {
				return r
			}
		case <-timeout:
			t.Fatalf("no log record containing %q within 30s", substr)
		}
	}
}

func recordAttrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}
