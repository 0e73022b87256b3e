package s3api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/strata-cdn/strata/internal/objstore"
)

// callbackParamB64 builds an x-oss-callback value.
func callbackParamB64(t *testing.T, p map[string]any) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// putWithCallback PUTs data with a callback header and returns the
// response.
func (e *testEnv) putWithCallback(bucket, key string, data []byte, cb, vars string) (*http.Response, []byte) {
	e.t.Helper()
	hdr := http.Header{"X-Oss-Callback": {cb}, "Content-Type": {"text/plain"}}
	if vars != "" {
		hdr.Set("X-Oss-Callback-Var", vars)
	}
	return e.signedDo(http.MethodPut, "/"+bucket+"/"+key, data, hdr)
}

// callbackRecorder is a callback server that records what it received.
type callbackRecorder struct {
	mu   sync.Mutex // guards got
	got  []recordedCallback
	srv  *httptest.Server
	resp func(w http.ResponseWriter)
}

type recordedCallback struct {
	host, contentType, body, requestID string
}

func newCallbackRecorder(t *testing.T, tlsServer bool, resp func(w http.ResponseWriter)) *callbackRecorder {
	c := &callbackRecorder{resp: resp}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.got = append(c.got, recordedCallback{r.Host, r.Header.Get("Content-Type"), string(b), r.Header.Get("x-oss-request-id")})
		c.mu.Unlock()
		c.resp(w)
	})
	c.srv = httptest.NewUnstartedServer(h)
	// The failing-TLS cases make the server log handshake errors.
	c.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsServer {
		c.srv.StartTLS()
	} else {
		c.srv.Start()
	}
	t.Cleanup(c.srv.Close)
	return c
}

func (c *callbackRecorder) calls() []recordedCallback {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]recordedCallback(nil), c.got...)
}

func jsonAnswer(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"Status":"OK"}`)
}

func TestCallbackSuccess_C24(t *testing.T) {
	e := newEnv(t)
	e.bucket("cbk")
	rec := newCallbackRecorder(t, false, jsonAnswer)
	cb := callbackParamB64(t, map[string]any{
		"callbackUrl":  rec.srv.URL + "/notify",
		"callbackHost": "app.example",
		"callbackBody": "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&uid=${x:uid}",
	})
	vars := base64.StdEncoding.EncodeToString([]byte(`{"x:uid":"u 1&2"}`))
	data := []byte("hello callback")
	resp, body := e.putWithCallback("cbk", "dir/a b.txt", data, cb, vars)
	if resp.StatusCode != 200 || string(body) != `{"Status":"OK"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q, body %q; want 200 with the callback's JSON", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	calls := rec.calls()
	if len(calls) != 1 {
		t.Fatalf("callback server got %d calls, want 1", len(calls))
	}
	info, err := e.store.StatObject(context.Background(), "cbk", "dir/a b.txt")
	if err != nil {
		t.Fatalf("object not stored: %v", err)
	}
	want := url.Values{
		"bucket": {"cbk"}, "object": {"dir/a b.txt"}, "etag": {info.ETag}, "size": {"14"},
		"mimeType": {"text/plain"}, "uid": {"u 1&2"},
	}
	got, err := url.ParseQuery(calls[0].body)
	if err != nil {
		t.Fatalf("callback body %q is not URL-encoded: %v", calls[0].body, err)
	}
	if got.Encode() != want.Encode() {
		t.Errorf("callback body = %q\nwant values %v", calls[0].body, want)
	}
	if calls[0].host != "app.example" || calls[0].contentType != "application/x-www-form-urlencoded" {
		t.Errorf("callback Host %q, Content-Type %q; want app.example and application/x-www-form-urlencoded", calls[0].host, calls[0].contentType)
	}
	if calls[0].requestID != resp.Header.Get("x-amz-request-id") {
		t.Errorf("callback x-oss-request-id %q, want the upload's request id %q", calls[0].requestID, resp.Header.Get("x-amz-request-id"))
	}
}

func TestCallbackJSONBody(t *testing.T) {
	cb := &callbackSpec{
		Body:     `{"bucket":${bucket},"object":"${object}","size":${size},"v":${x:v},"other":"${unknown}"}`,
		BodyType: "application/json",
		Vars:     map[string]string{"x:v": `say "hi"`},
	}
	got := cb.render(objstore.ObjectInfo{Bucket: "b", Key: `k"1`, Size: 5}, "text/plain")
	want := `{"bucket":"b","object":"k\"1","size":5,"v":"say \"hi\"","other":"${unknown}"}`
	if got != want {
		t.Errorf("render =\n %s\nwant\n %s", got, want)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Errorf("rendered body is not JSON: %v", err)
	}
}

// failingCallbackCase is a callback server that fails in one way.
type failingCallbackCase struct {
	name string
	url  func(t *testing.T) string
	opts func(*CallbackOptions)
	msg  []string // all must appear in the message
}

// refusedAddr is a 127.0.0.1 port nothing listens on.
func refusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// resetServer accepts connections, reads the request head, then closes
// with SO_LINGER 0 so the kernel sends RST, as a DDoS scrubber does.
func resetServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			http.ReadRequest(br)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	return ln.Addr().String()
}

// fakeDNS answers every query with rcode, so lookups fail as a real
// resolver would make them fail.
func fakeDNS(t *testing.T, rcode dnsmessage.RCode) *net.Resolver {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true, RCode: rcode})
			b.StartQuestions()
			b.Question(q)
			out, err := b.Finish()
			if err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// TestCallbackFailures_C24 checks that every way a callback can fail gives
// 203 CallbackFailed naming the failure, with the object stored.
func TestCallbackFailures_C24(t *testing.T) {
	tlsRec := newCallbackRecorder(t, true, jsonAnswer)
	tests := []failingCallbackCase{
		{
			name: "connection refused",
			url:  func(t *testing.T) string { return "http://" + refusedAddr(t) + "/cb" },
			msg:  []string{"connection refused", "(3 attempts)"},
		},
		{
			name: "connection reset",
			url:  func(t *testing.T) string { return "http://" + resetServer(t) + "/cb" },
			msg:  []string{"connection reset by peer"},
		},
		{
			name: "timeout",
			url:  func(t *testing.T) string { return "http://" + silentServer(t) + "/cb" },
			opts: func(o *CallbackOptions) { o.Timeout = time.Second },
			msg:  []string{"timed out after 1s waiting for the answer after sending the request"},
		},
		{
			name: "500 answer",
			url: func(t *testing.T) string {
				rec := newCallbackRecorder(t, false, func(w http.ResponseWriter) {
					w.WriteHeader(500)
					io.WriteString(w, "upstream database down\n"+strings.Repeat("z", 400))
				})
				return rec.srv.URL
			},
			msg: []string{"callback server answered 500: upstream database down " + strings.Repeat("z", 256-len("upstream database down\n")) + "..."},
		},
		{
			name: "unknown CA",
			url:  func(t *testing.T) string { return tlsRec.srv.URL },
			msg:  []string{"TLS error with 127.0.0.1:", "certificate signed by unknown authority"},
		},
		{
			name: "name mismatch",
			url: func(t *testing.T) string {
				return strings.Replace(tlsRec.srv.URL, "127.0.0.1", "localhost", 1)
			},
			opts: func(o *CallbackOptions) {
				pool := x509.NewCertPool()
				pool.AddCert(tlsRec.srv.Certificate())
				o.RootCAs = pool
			},
			msg: []string{"TLS error with", "name mismatch", "not localhost"},
		},
		{
			name: "no such host",
			url:  func(t *testing.T) string { return "http://cb.example.invalid/cb" },
			opts: func(o *CallbackOptions) { o.Resolver = fakeDNS(t, dnsmessage.RCodeNameError) },
			msg:  []string{"lookup cb.example.invalid: no such host"},
		},
		{
			name: "DNS server failure is retried",
			url:  func(t *testing.T) string { return "http://cb.example.invalid/cb" },
			opts: func(o *CallbackOptions) { o.Resolver = fakeDNS(t, dnsmessage.RCodeServerFailure) },
			msg:  []string{"lookup cb.example.invalid: server misbehaving", "(3 attempts)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newLogSink()
			e := newEnv(t, func(c *envConfig) {
				c.h.Logger = slog.New(sink)
				c.h.Callback.RetryBackoff = time.Millisecond
				if tt.opts != nil {
					tt.opts(&c.h.Callback)
				}
			})
			e.bucket("cbk")
			u := tt.url(t)
			cb := callbackParamB64(t, map[string]any{"callbackUrl": u, "callbackBody": "object=${object}"})
			resp, body := e.putWithCallback("cbk", "kept.txt", []byte("data"), cb, "")
			d := wantError(t, resp, body, http.StatusNonAuthoritativeInfo, "CallbackFailed")
			t.Logf("message: %s", d.Message)
			for _, m := range tt.msg {
				if !strings.Contains(d.Message, m) {
					t.Errorf("Message = %q\nwant it to contain %q", d.Message, m)
				}
			}
			if !strings.Contains(d.Message, "The object was stored") {
				t.Errorf("Message = %q, want it to say the object was stored", d.Message)
			}
			if _, err := e.store.StatObject(context.Background(), "cbk", "kept.txt"); err != nil {
				t.Errorf("object not stored after a failed callback: %v", err)
			}
			if resp.Header.Get("ETag") == "" {
				t.Errorf("203 response has no ETag")
			}
			r := sink.waitLog(t, "upload callback failed")
			if got := recordAttrs(r)["request_id"]; got != resp.Header.Get("x-amz-request-id") {
				t.Errorf("log request_id = %q, want %q", got, resp.Header.Get("x-amz-request-id"))
			}
		})
	}
}

func TestCallbackSeveralURLs(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.h.Callback.RetryBackoff = time.Millisecond })
	e.bucket("cbk")
	rec := newCallbackRecorder(t, false, jsonAnswer)
	dead := "http://" + refusedAddr(t)
	cb := callbackParamB64(t, map[string]any{"callbackUrl": dead + ";" + rec.srv.URL, "callbackBody": "o=${object}"})
	resp, body := e.putWithCallback("cbk", "two.txt", []byte("x"), cb, "")
	if resp.StatusCode != 200 || len(rec.calls()) != 1 {
		t.Fatalf("status %d body %s, callback calls %d; want the second URL to answer", resp.StatusCode, body, len(rec.calls()))
	}
}

func TestCallbackInvalidParameter(t *testing.T) {
	e := newEnv(t)
	e.bucket("cbk")
	tests := []struct {
		cb, msg string
	}{
		{"%%%", "x-oss-callback is not base64"},
		{base64.StdEncoding.EncodeToString([]byte("[1]")), "not the base64 of a JSON object"},
		{callbackParamB64(t, map[string]any{"callbackBody": "a"}), "has no callbackUrl"},
		{callbackParamB64(t, map[string]any{"callbackUrl": "ftp://x/", "callbackBody": "a"}), `callbackUrl "ftp://x/" is not an http or https URL`},
		{callbackParamB64(t, map[string]any{"callbackUrl": "http://x/", "callbackBody": "a", "callbackBodyType": "text/xml"}), `callbackBodyType "text/xml"`},
	}
	for _, tt := range tests {
		resp, body := e.putWithCallback("cbk", "bad.txt", []byte("x"), tt.cb, "")
		d := wantError(t, resp, body, 400, "InvalidArgument")
		if !strings.Contains(d.Message, tt.msg) {
			t.Errorf("Message = %q, want it to contain %q", d.Message, tt.msg)
		}
	}
	if _, err := e.store.StatObject(context.Background(), "cbk", "bad.txt"); !errors.Is(err, objstore.ErrNoSuchKey) {
		t.Errorf("an upload with an invalid callback was stored (err %v)", err)
	}
}

func TestCallbackPostForm_C24(t *testing.T) {
	e := newEnv(t)
	e.bucket("cbk")
	rec := newCallbackRecorder(t, false, jsonAnswer)
	cb := callbackParamB64(t, map[string]any{
		"callbackUrl":      rec.srv.URL,
		"callbackBody":     `{"object":${object},"size":${size},"who":${x:who}}`,
		"callbackBodyType": "application/json",
	})
	fields := e.presign("cbk", "post.txt", map[string]string{"callback": cb, "x:who": "Ann"}, 0)
	body, ct := multipartForm(t, sortedFields(fields), "file", "post.txt", []byte("posted"))
	resp, respBody := e.postForm(e.srv.URL+"/cbk", body, ct)
	if resp.StatusCode != 200 || string(respBody) != `{"Status":"OK"}` {
		t.Fatalf("status %d body %s; want 200 with the callback's answer", resp.StatusCode, respBody)
	}
	calls := rec.calls()
	if len(calls) != 1 || calls[0].body != `{"object":"post.txt","size":6,"who":"Ann"}` {
		t.Errorf("callback calls %+v; want one with the JSON body", calls)
	}
}

func TestCallbackCompleteMultipart_C24(t *testing.T) {
	e := newEnv(t)
	e.bucket("cbk")
	rec := newCallbackRecorder(t, false, jsonAnswer)
	ctx := context.Background()
	id, err := e.store.CreateMultipartUpload(ctx, "cbk", "mp.bin", objstore.Meta{ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	part, err := e.store.UploadPart(ctx, "cbk", "mp.bin", id, 1, bytes.NewReader([]byte("only part")), objstore.PutOptions{Size: 9})
	if err != nil {
		t.Fatal(err)
	}
	xmlBody := []byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"` + part.ETag + `"</ETag></Part></CompleteMultipartUpload>`)
	cb := callbackParamB64(t, map[string]any{"callbackUrl": rec.srv.URL, "callbackBody": "mime=${mimeType}&size=${size}"})
	resp, body := e.signedDo(http.MethodPost, "/cbk/mp.bin?uploadId="+url.QueryEscape(id), xmlBody, http.Header{"X-Oss-Callback": {cb}})
	if resp.StatusCode != 200 || string(body) != `{"Status":"OK"}` {
		t.Fatalf("status %d body %s; want 200 with the callback's answer", resp.StatusCode, body)
	}
	if calls := rec.calls(); len(calls) != 1 || calls[0].body != "mime=video%2Fmp4&size=9" {
		t.Errorf("callback calls %+v; want one with mime=video%%2Fmp4&size=9", calls)
	}
}

// TestDescribeResetWhileSending checks the wording for a reset that
// arrives while the request is being written.
func TestDescribeCallbackError(t *testing.T) {
	tp := &phaseTrace{phase: "sending the request", addr: "10.0.0.1:80"}
	err := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "write", Err: syscall.ECONNRESET}}
	f := describeCallbackError(err, tp, time.Second)
	if f.desc != "connection reset by peer (10.0.0.1:80, sending the request)" || f.retryable {
		t.Errorf("describe(reset) = %+v", f)
	}
}
