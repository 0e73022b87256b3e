package edge

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/strata-cdn/strata/internal/cachepolicy"
)

// conditionalFields are the request fields a cache fill does not forward:
// the edge evaluates them itself against what it stores (RFC 9110 §13.2.1).
var conditionalFields = []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range"}

// originURL maps the request URL onto the domain's origin: scheme and host
// of Origin, path = origin prefix + request path, query kept.
func originURL(d *Domain, reqURL *url.URL) *url.URL {
	o := d.Origin
	escaped := strings.TrimSuffix(o.EscapedPath(), "/") + reqURL.EscapedPath()
	if escaped == "" {
		escaped = "/"
	}
	u := &url.URL{Scheme: o.Scheme, Host: o.Host, RawQuery: reqURL.RawQuery}
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path = p
		u.RawPath = escaped
	} else {
		u.Path = escaped
	}
	return u
}

// originHeader returns the header of a request to the origin made for this
// exchange: the client's fields without the hop-by-hop ones (RFC 9110
// §7.6.1), optionally without Range and the conditional fields (a cache fill
// fetches the whole representation unconditionally), plus Via and CDN-Loop
// naming this node (RFC 9110 §7.6.3, RFC 8586), its Surrogate-Capability
// (surrogate.go), the request ID and X-Forwarded-For.
func (x *exchange) originHeader(keepConditionals bool) http.Header {
	hd := x.r.Header.Clone()
	if hd == nil {
		hd = http.Header{}
	}
	cachepolicy.RemoveHopByHop(hd)
	if !keepConditionals {
		for _, f := range conditionalFields {
			hd.Del(f)
		}
	}
	proto, ok := strings.CutPrefix(x.r.Proto, "HTTP/")
	if !ok || proto == "" {
		proto = "1.1"
	}
	hd["Via"] = append(hd["Via"], proto+" "+x.h.nodeID)
	hd["Cdn-Loop"] = append(hd["Cdn-Loop"], x.h.nodeID)
	x.h.addSurrogateCapability(hd)
	hd.Set("X-Request-Id", x.id)
	if ip, _, err := net.SplitHostPort(x.r.RemoteAddr); err == nil {
		if prior := hd.Values("X-Forwarded-For"); len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		hd.Set("X-Forwarded-For", ip)
	}
	if _, ok := hd["User-Agent"]; !ok {
		hd["User-Agent"] = nil // do not let net/http add its own
	}
	// The edge's own Accept-Encoding (transform.go), then the domain's
	// header rules (headerrules.go).
	x.dom.originAcceptEncoding(hd, keepConditionals && len(x.r.Header.Values("Range")) > 0)
	x.dom.RequestHeaders.apply(hd)
	return hd
}

// newOriginRequest builds a request to the origin of d for the client URL.
func newOriginRequest(ctx context.Context, d *Domain, method string, reqURL *url.URL, hdr http.Header, body io.Reader, length int64) *http.Request {
	req := (&http.Request{
		Method:        method,
		URL:           originURL(d, reqURL),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        hdr,
		Host:          d.originHost(),
		ContentLength: length,
	}).WithContext(withUpstream(ctx, d, reqURL)) // parents.go may send it elsewhere
	if body != nil && length != 0 {
		req.Body = io.NopCloser(body)
	}
	return req
}

// responseHeader returns the origin's response header as the edge passes it
// on: without hop-by-hop fields, so that, for one, an origin's
// Connection: close never closes the client's connection (C19).
func responseHeader(resp *http.Response) http.Header {
	return cachepolicy.HeaderToStore(resp.Header)
}

// originError answers a failed origin request.
func (x *exchange) originError(err error, xcache string) {
	if x.uploadTooLarge() { // bodypolicy.go
		x.refuseUpload(-1)
		return
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		x.fail(http.StatusGatewayTimeout, xcache, "the origin "+x.dom.Origin.Host+" of domain "+x.dom.Host+" did not answer in time: "+err.Error())
		return
	}
	x.fail(http.StatusBadGateway, xcache, "the origin "+x.dom.Origin.Host+" of domain "+x.dom.Host+" could not be reached: "+err.Error())
}

// passThrough forwards the client's request as it is (Range and conditionals
// included) and relays the response, storing nothing.
func (x *exchange) passThrough(xcache string) {
	x.relay(xcache, nil)
}

// forwardUnsafe forwards a request with an unsafe (or unknown) method,
// streaming its body, and invalidates what its success makes stale (RFC
// 9111 §4.4) before relaying the response.
func (x *exchange) forwardUnsafe() {
	x.relay("MISS reason=method", func(resp *http.Response) {
		if x.h.Cache == nil {
			return
		}
		target := &url.URL{Scheme: "http", Host: x.r.Host, Path: x.r.URL.Path, RawPath: x.r.URL.RawPath, RawQuery: x.r.URL.RawQuery}
		if x.r.TLS != nil {
			target.Scheme = "https"
		}
		for _, u := range cachepolicy.Invalidates(x.r.Method, resp.StatusCode, target, resp.Header) {
			key := primaryKey(x.dom, u)
			if _, err := x.h.Cache.DeletePrefix(key + "#"); err != nil {
				x.h.log.Warn("edge: invalidation failed", "key", key, "err", err)
			}
		}
	})
}

// relay forwards the client's request and copies the response back; after
// is called with the response before anything is sent to the client.
func (x *exchange) relay(xcache string, after func(*http.Response)) {
	var body io.Reader
	length := int64(0)
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodHead && x.r.Body != nil {
		body, length = x.r.Body, x.r.ContentLength
		if length == 0 {
			body = nil
		}
	}
	req := newOriginRequest(x.ctx(), x.dom, x.r.Method, x.r.URL, x.originHeader(true), body, length)
	resp, err := x.h.rt.RoundTrip(req)
	if err != nil {
		x.originError(err, xcache)
		return
	}
	defer resp.Body.Close()
	if after != nil {
		after(resp)
	}
	if x.dom.Transform != nil && x.r.Method == http.MethodGet && resp.StatusCode == http.StatusOK {
		// A response not stored is transformed all the same (C03).
		rep := representation{status: resp.StatusCode, header: responseHeader(resp), size: resp.ContentLength,
			body: &streamReader{r: resp.Body}, xcache: xcache, sequential: true}
		if err := x.serve(rep); err != nil {
			x.originError(err, xcache)
		}
		return
	}
	x.writeHead(resp.StatusCode, responseHeader(resp), xcache)
	if x.r.Method == http.MethodHead {
		return
	}
	if err := copyOut(x.w, resp.Body, resp.ContentLength < 0); err != nil && x.ctx().Err() == nil {
		// The origin's body broke off: cut the client's connection so it
		// sees the truncation.
		x.h.log.Warn("edge: origin body failed", "url", req.URL.Redacted(), "err", err)
		panic(http.ErrAbortHandler)
	}
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// copyOut copies body to the client, flushing after every write when the
// length is unknown (a stream: the client gets each piece as it arrives).
func copyOut(w http.ResponseWriter, body io.Reader, flush bool) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	rc := http.NewResponseController(w)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil // the client hung up; nothing to report
			}
			if flush {
				_ = rc.Flush()
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
