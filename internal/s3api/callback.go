package s3api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/strata-cdn/strata/internal/checksum"
	"github.com/strata-cdn/strata/internal/objstore"
)

// Upload callbacks, as Alibaba Cloud OSS has them: a PUT, a POST form or a
// CompleteMultipartUpload may carry a callback (the x-oss-callback header,
// or the form field "callback": base64 JSON naming callbackUrl,
// callbackHost, callbackBody and callbackBodyType). Once the object is
// stored, Strata POSTs the body, with ${bucket}, ${object}, ${etag},
// ${size}, ${mimeType} and custom ${x:var} filled in, to the URL and gives
// the callback server's answer to the uploader.
//
// When the callback fails the object stays stored and the uploader gets
// 203 with a CallbackFailed error whose message says exactly what failed:
// the DNS lookup, the connection (refused, reset), TLS (unknown authority,
// name mismatch), a timeout and in which phase, or the status and first
// bytes of the callback server's answer (case C24).

// CallbackOptions configure upload callbacks. The zero value works.
type CallbackOptions struct {
	// Timeout bounds one callback: every attempt on every URL, from the
	// DNS lookup to the end of the answer. If zero, 5s is used.
	Timeout time.Duration
	// RetryBackoff is the wait before retrying an attempt that failed
	// before any byte was sent (connection refused, temporary DNS
	// failure); it doubles for the second and last retry. If zero, 200ms.
	RetryBackoff time.Duration
	// RootCAs verify HTTPS callback servers; nil means the system roots.
	RootCAs *x509.CertPool
	// Resolver resolves callback hosts; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// Deny lists networks callbacks may not connect to, checked on the
	// resolved address of every connection (callback_networks.go;
	// DefaultCallbackDeny is what the daemon uses unless configured). An
	// address also in Allow is allowed. Empty: every address is allowed.
	Deny, Allow []netip.Prefix
}

const (
	defaultCallbackTimeout = 5 * time.Second
	defaultCallbackBackoff = 200 * time.Millisecond
	maxCallbackRetries     = 2
	maxCallbackURLs        = 5
	maxCallbackParam       = 16 << 10
	// maxCallbackAnswer bounds the callback server's answer relayed to the
	// uploader (OSS allows 1 MB).
	maxCallbackAnswer = 1 << 20
	// callbackBodyQuote is how much of a failed answer the error shows.
	callbackBodyQuote = 256
)

// callbackSpec is a parsed callback parameter.
type callbackSpec struct {
	URLs     []*url.URL
	Host     string // callbackHost: the Host header and TLS server name
	Body     string // template
	BodyType string // application/x-www-form-urlencoded or application/json
	Vars     map[string]string
}

type callbackParam struct {
	URL      string `json:"callbackUrl"`
	Host     string `json:"callbackHost"`
	Body     string `json:"callbackBody"`
	BodyType string `json:"callbackBodyType"`
	SNI      *bool  `json:"callbackSNI"`
}

func errInvalidCallback(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "InvalidArgument", "The callback parameter is not valid: "+format, args...)
}

// decodeCallbackJSON decodes a base64 JSON parameter (the callback or its
// variables), naming where it came from in errors.
func decodeCallbackJSON(where, b64 string, v any) error {
	b64 = strings.TrimSpace(b64)
	if len(b64) > maxCallbackParam {
		return errInvalidCallback("%s is over %d bytes.", where, maxCallbackParam)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return errInvalidCallback("%s is not base64 (%v).", where, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errInvalidCallback("%s is not the base64 of a JSON object (%v).", where, err)
	}
	return nil
}

// parseCallback parses a callback parameter and its variables. vars maps
// "x:name" to values (from x-oss-callback-var or x:* form fields).
func parseCallback(where, b64 string, vars map[string]string) (*callbackSpec, error) {
	var p callbackParam
	if err := decodeCallbackJSON(where, b64, &p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.URL) == "" {
		return nil, errInvalidCallback("%s has no callbackUrl.", where)
	}
	if p.Body == "" {
		return nil, errInvalidCallback("%s has no callbackBody.", where)
	}
	spec := &callbackSpec{Host: strings.TrimSpace(p.Host), Body: p.Body, Vars: vars}
	switch bt := strings.TrimSpace(p.BodyType); bt {
	case "", "application/x-www-form-urlencoded":
		spec.BodyType = "application/x-www-form-urlencoded"
	case "application/json":
		spec.BodyType = bt
	default:
		return nil, errInvalidCallback("%s has callbackBodyType %q; use application/x-www-form-urlencoded or application/json.", where, bt)
	}
	for _, s := range strings.Split(p.URL, ";") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "://") {
			s = "http://" + s // OSS accepts a bare host[:port]/path
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errInvalidCallback("callbackUrl %q is not an http or https URL.", s)
		}
		spec.URLs = append(spec.URLs, u)
	}
	if len(spec.URLs) == 0 || len(spec.URLs) > maxCallbackURLs {
		return nil, errInvalidCallback("callbackUrl must list 1 to %d URLs separated by ';' (got %d).", maxCallbackURLs, len(spec.URLs))
	}
	return spec, nil
}

// callbackFromHeader parses x-oss-callback and x-oss-callback-var; nil
// when the request has no callback.
func (req *request) callbackFromHeader() (*callbackSpec, error) {
	cb := req.r.Header.Get("x-oss-callback")
	if cb == "" {
		return nil, nil
	}
	vars := map[string]string{}
	if v := req.r.Header.Get("x-oss-callback-var"); v != "" {
		var m map[string]any
		if err := decodeCallbackJSON("x-oss-callback-var", v, &m); err != nil {
			return nil, err
		}
		for k, val := range m {
			if !strings.HasPrefix(k, "x:") {
				return nil, errInvalidCallback("x-oss-callback-var has variable %q; custom variables are named x:<name>.", k)
			}
			vars[k] = fmt.Sprint(val)
		}
	}
	return parseCallback("x-oss-callback", cb, vars)
}

// render fills in the body template for info, encoding each value for the
// body type: URL-encoded for a form body; for JSON, a JSON value (string
// or number), or escaped string content when the template already quotes
// the variable ("${bucket}").
func (cb *callbackSpec) render(info objstore.ObjectInfo, mimeType string) string {
	sys := map[string]string{
		"bucket":   info.Bucket,
		"object":   info.Key,
		"etag":     info.ETag,
		"size":     strconv.FormatInt(info.Size, 10),
		"mimeType": mimeType,
		"crc64":    checksum.ECMADecimal(info.CRC64ECMA),
	}
	if len(info.MD5) == 16 {
		sys["contentMd5"] = base64.StdEncoding.EncodeToString(info.MD5)
	}
	t := cb.Body
	var b strings.Builder
	for {
		i := strings.Index(t, "${")
		if i < 0 {
			b.WriteString(t)
			break
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			b.WriteString(t)
			break
		}
		name := t[i+2 : i+j]
		b.WriteString(t[:i])
		val, known := sys[name]
		if strings.HasPrefix(name, "x:") {
			val, known = cb.Vars[name], true
		}
		rest := t[i+j+1:]
		if !known {
			b.WriteString(t[i : i+j+1]) // not ours: leave it as written
			t = rest
			continue
		}
		switch {
		case cb.BodyType != "application/json":
			b.WriteString(url.QueryEscape(val))
		case strings.HasSuffix(t[:i], `"`) && strings.HasPrefix(rest, `"`):
			q, _ := json.Marshal(val)
			b.Write(q[1 : len(q)-1])
		case name == "size":
			b.WriteString(val)
		default:
			q, _ := json.Marshal(val)
			b.Write(q)
		}
		t = rest
	}
	return b.String()
}

// callbackResult is the answer of a successful callback.
type callbackResult struct {
	url         string // the URL that answered
	status      int
	contentType string
	body        []byte
}

// runCallback performs the callback for a stored object and writes the
// response: the callback server's answer (200), or 203 CallbackFailed
// naming the failure. The object stays stored either way.
func (req *request) runCallback(cb *callbackSpec, info objstore.ObjectInfo) error {
	mimeType := info.Meta.ContentType
	if mimeType == "" {
		mimeType = defaultContentType
	}
	body := cb.render(info, mimeType)
	res, failure := req.h.callback(req.ctx, req.id, cb, body)
	hdr := req.w.Header()
	hdr.Set("ETag", quoteETag(info.ETag))
	if failure != "" {
		req.h.logger().Warn("upload callback failed", "request_id", req.id, "bucket", info.Bucket, "key", info.Key, "error", failure)
		// Written here rather than returned: the upload succeeded, and
		// an error response would drop the object's headers.
		req.writeXML(http.StatusNonAuthoritativeInfo, errorBody{
			Code:      "CallbackFailed",
			Message:   "The object was stored, but the upload callback failed: " + failure,
			Resource:  req.r.URL.Path,
			RequestID: req.id,
			HostID:    req.h.NodeID,
		})
		return nil
	}
	req.h.logger().Debug("upload callback answered", "request_id", req.id, "bucket", info.Bucket, "key", info.Key,
		"url", res.url, "status", res.status, "bytes", len(res.body))
	ct := res.contentType
	if ct == "" {
		ct = "application/json"
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("Content-Length", strconv.Itoa(len(res.body)))
	req.w.WriteHeader(http.StatusOK)
	if req.r.Method != http.MethodHead {
		_, _ = req.w.Write(res.body)
	}
	return nil
}

// callback sends body to each URL in turn until one answers 2xx. It
// returns that answer, or a description of every failure.
func (h *Handler) callback(ctx context.Context, requestID string, cb *callbackSpec, body string) (callbackResult, string) {
	timeout := h.Callback.Timeout
	if timeout <= 0 {
		timeout = defaultCallbackTimeout
	}
	backoff := h.Callback.RetryBackoff
	if backoff <= 0 {
		backoff = defaultCallbackBackoff
	}
	// The callback runs after the object is stored: it must not be cut
	// short because the uploader hung up, only by its own timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var failures []string
	for _, u := range cb.URLs {
		var desc string
		attempts := 0
		for {
			attempts++
			res, f := h.callbackAttempt(ctx, requestID, cb, u, body, timeout)
			if f == nil {
				return res, ""
			}
			desc = f.desc
			if !f.retryable || attempts > maxCallbackRetries || !sleepCtx(ctx, backoff<<(attempts-1)) {
				break
			}
		}
		if attempts > 1 {
			desc += fmt.Sprintf(" (%d attempts)", attempts)
		}
		failures = append(failures, fmt.Sprintf("POST %s: %s", u.Redacted(), desc))
	}
	return callbackResult{}, strings.Join(failures, "; ")
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false // no time left for another attempt
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// callbackFailure describes one failed attempt.
type callbackFailure struct {
	desc string
	// retryable: nothing reached the server (refused, temporary DNS
	// failure), so trying again cannot run the callback twice.
	retryable bool
}

// phaseTrace records how far an attempt got, to say where it failed.
type phaseTrace struct {
	mu      sync.Mutex // guards the fields below (httptrace hooks run on other goroutines)
	addr    string     // the address being connected to
	phase   string
	written bool // the request was written
}

func (p *phaseTrace) set(phase, addr string) {
	p.mu.Lock()
	p.phase = phase
	if addr != "" {
		p.addr = addr
	}
	p.mu.Unlock()
}

func (p *phaseTrace) get() (phase, addr string, written bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.phase, p.addr, p.written
}

func (h *Handler) callbackAttempt(ctx context.Context, requestID string, cb *callbackSpec, u *url.URL, body string, timeout time.Duration) (callbackResult, *callbackFailure) {
	serverName := u.Hostname()
	if cb.Host != "" {
		serverName = hostWithoutPort(cb.Host)
	}
	dialer := &net.Dialer{Resolver: h.Callback.Resolver, Control: h.Callback.callbackControl}
	tr := &http.Transport{
		DialContext: dialer.DialContext,
		// SNI: the callback host when given (the server behind the URL's
		// address may serve several names), else the URL's host.
		TLSClientConfig:        &tls.Config{ServerName: serverName, RootCAs: h.Callback.RootCAs, MinVersion: tls.VersionTLS12},
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	tp := &phaseTrace{phase: "resolving " + u.Hostname()}
	trace := &httptrace.ClientTrace{
		DNSStart:          func(i httptrace.DNSStartInfo) { tp.set("resolving "+i.Host, "") },
		ConnectStart:      func(_, addr string) { tp.set("connecting to "+addr, addr) },
		TLSHandshakeStart: func() { tp.set("in the TLS handshake", "") },
		WroteHeaders:      func() { tp.set("sending the request", "") },
		WroteRequest: func(httptrace.WroteRequestInfo) {
			tp.mu.Lock()
			tp.phase, tp.written = "waiting for the answer after sending the request", true
			tp.mu.Unlock()
		},
		GotFirstResponseByte: func() { tp.set("reading the answer", "") },
	}
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		return callbackResult{}, &callbackFailure{desc: err.Error()}
	}
	if cb.Host != "" {
		hreq.Host = cb.Host
	}
	hreq.Header.Set("Content-Type", cb.BodyType)
	hreq.Header.Set("User-Agent", "Strata upload callback")
	hreq.Header.Set("x-oss-request-id", requestID)
	resp, err := client.Do(hreq)
	if err != nil {
		return callbackResult{}, describeCallbackError(err, tp, timeout)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCallbackAnswer+1))
	if err != nil {
		return callbackResult{}, describeCallbackError(err, tp, timeout)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return callbackResult{}, &callbackFailure{desc: fmt.Sprintf("callback server answered %d: %s", resp.StatusCode, quoteBody(data))}
	}
	if len(data) > maxCallbackAnswer {
		return callbackResult{}, &callbackFailure{desc: fmt.Sprintf("callback server's answer is over the %d-byte limit", maxCallbackAnswer)}
	}
	return callbackResult{url: u.Redacted(), status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: data}, nil
}

// quoteBody shows the start of an answer in a message: at most 256 bytes,
// control characters and invalid UTF-8 replaced.
func quoteBody(b []byte) string {
	cut := len(b) > callbackBodyQuote
	if cut {
		b = b[:callbackBodyQuote]
	}
	s := strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || (unicode.IsControl(r) && r != ' ') {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), "\uFFFD"))
	s = strings.TrimSpace(s)
	if s == "" {
		s = "(empty body)"
	}
	if cut {
		s += "..."
	}
	return s
}

// describeCallbackError names what went wrong in an attempt, as precisely
// as the error allows.
func describeCallbackError(err error, tp *phaseTrace, timeout time.Duration) *callbackFailure {
	phase, addr, written := tp.get()
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alert tls.AlertError
	var netErr net.Error
	var denied *deniedAddrError
	switch {
	case errors.As(err, &denied):
		return &callbackFailure{desc: denied.Error()}
	case errors.As(err, &dnsErr):
		desc := fmt.Sprintf("lookup %s: %s", dnsErr.Name, dnsErr.Err)
		if dnsErr.IsTimeout {
			desc = fmt.Sprintf("lookup %s: DNS timed out", dnsErr.Name)
		}
		return &callbackFailure{desc: desc, retryable: dnsErr.IsTemporary || dnsErr.IsTimeout}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &callbackFailure{desc: fmt.Sprintf("connect to %s: connection refused", addr), retryable: true}
	case errors.Is(err, syscall.ECONNRESET):
		return &callbackFailure{desc: fmt.Sprintf("connection reset by peer (%s, %s)", addr, phase)}
	case errors.As(err, &unknownCA):
		issuer := ""
		if unknownCA.Cert != nil {
			issuer = fmt.Sprintf(" (issuer %q)", unknownCA.Cert.Issuer.String())
		}
		return &callbackFailure{desc: fmt.Sprintf("TLS error with %s: certificate signed by unknown authority%s", addr, issuer)}
	case errors.As(err, &hostErr):
		return &callbackFailure{desc: fmt.Sprintf("TLS error with %s: name mismatch: %v", addr, hostErr)}
	case errors.As(err, &invalidCert):
		return &callbackFailure{desc: fmt.Sprintf("TLS error with %s: %v", addr, invalidCert)}
	case errors.As(err, &recordErr):
		return &callbackFailure{desc: fmt.Sprintf("TLS error with %s: the server did not answer in TLS (is it plain HTTP?)", addr)}
	case errors.As(err, &alert):
		return &callbackFailure{desc: fmt.Sprintf("TLS error with %s: the server sent alert %v", addr, alert)}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return &callbackFailure{desc: fmt.Sprintf("timed out after %s %s", timeout, phase)}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if written {
			return &callbackFailure{desc: fmt.Sprintf("%s closed the connection without a complete answer (%s)", addr, phase)}
		}
		return &callbackFailure{desc: fmt.Sprintf("%s closed the connection %s", addr, phase)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &callbackFailure{desc: fmt.Sprintf("%v (%s)", err, phase)}
}

// formCallbackVars collects the x:* fields of a POST form.
func formCallbackVars(fields map[string]string) map[string]string {
	vars := map[string]string{}
	for k, v := range fields {
		if strings.HasPrefix(k, "x:") {
			vars[k] = v
		}
	}
	return vars
}
