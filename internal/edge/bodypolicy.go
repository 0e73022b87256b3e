package edge

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// MaxSafeMethodBody is the largest body a GET or HEAD may carry: the edge
// reads and discards such a body and serves the request; a larger one is
// refused with 413 (C11). A GET body has no defined meaning (RFC 9110
// §9.3.1) and is never forwarded to the origin.
const MaxSafeMethodBody = 64 << 10

// errUploadTooLarge is the error an upload body reports when it grows past
// the domain's MaxUpload.
var errUploadTooLarge = errors.New("edge: upload exceeds the domain's limit")

// hasBody reports whether r carries a body: a positive Content-Length or a
// chunked one of unknown length.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// discardSafeBody applies the GET/HEAD body policy; it reports false when
// it answered the request (413).
func (x *exchange) discardSafeBody() bool {
	if !hasBody(x.r) {
		return true
	}
	if x.r.ContentLength > MaxSafeMethodBody {
		x.refuseSafeBody()
		return false
	}
	n, err := io.Copy(io.Discard, io.LimitReader(x.r.Body, MaxSafeMethodBody+1))
	if n > MaxSafeMethodBody {
		x.refuseSafeBody()
		return false
	}
	if err != nil {
		x.fail(http.StatusBadRequest, "MISS reason=bad-body", "the "+x.r.Method+" request body could not be read: "+err.Error())
		return false
	}
	x.h.log.Debug("edge: discarded a request body", "method", x.r.Method, "bytes", n, "request", x.id)
	return true
}

func (x *exchange) refuseSafeBody() {
	x.markTier()
	x.w.Header().Set("Connection", "close") // the body is left unread
	x.fail(http.StatusRequestEntityTooLarge, "MISS reason=body-too-large",
		x.r.Method+" request with a body larger than "+strconv.Itoa(MaxSafeMethodBody)+
			" bytes refused by the edge tier; a "+x.r.Method+" body has no meaning and is never forwarded to the origin (bodies up to that size are discarded); send the data with POST or PUT")
}

// markTier sets the fields that name the tier and node answering an error
// of the edge's own, so that a client behind several proxies can tell which
// hop refused (C25).
func (x *exchange) markTier() {
	hd := x.w.Header()
	hd.Set("X-Strata-Tier", "edge")
	hd.Set("X-Strata-Node", x.h.nodeID)
}

// limitUpload applies the domain's MaxUpload to an upload; it reports
// false when it answered the request (413). A body of unknown length is
// counted as it streams to the origin (uploadBody).
func (x *exchange) limitUpload() bool {
	max := x.dom.MaxUpload
	if max <= 0 || !hasBody(x.r) {
		return true
	}
	if x.r.ContentLength > max {
		x.refuseUpload(x.r.ContentLength)
		return false
	}
	x.r.Body = &uploadBody{ReadCloser: x.r.Body, left: max}
	return true
}

func (x *exchange) refuseUpload(n int64) {
	x.markTier()
	x.w.Header().Set("Connection", "close")
	// Read on while answering, so the client still sending is not reset
	// before it reads the 413 (linger, below).
	_ = http.NewResponseController(x.w).EnableFullDuplex()
	defer x.linger()
	size := "of unknown length grew past"
	if n > 0 {
		size = "of " + itoa(n) + " bytes exceeds"
	}
	x.fail(http.StatusRequestEntityTooLarge, "MISS reason=upload-too-large",
		"upload "+size+" the limit of "+itoa(x.dom.MaxUpload)+" bytes of domain "+strconv.Quote(x.dom.Host)+
			" set at the edge tier (domains[].max_upload)")
}

// Lingering after a refused upload, as nginx's lingering_close: closing a
// connection with unread request bytes makes the kernel send RST, which
// can destroy the 413 in the client's receive buffer before the client,
// still busy sending, reads it — the client would then see "connection
// reset" instead of the answer that names the limit and the tier (C25).
const (
	lingerTime  = 5 * time.Second
	lingerBytes = 64 << 20
)

// linger reads and discards what the client still sends of a refused
// upload, for at most lingerTime and lingerBytes, after the answer has
// been sent.
func (x *exchange) linger() {
	body := x.r.Body
	if ub, ok := body.(*uploadBody); ok {
		body = ub.ReadCloser
	}
	if body == nil || body == http.NoBody {
		return
	}
	rc := http.NewResponseController(x.w)
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, body, lingerBytes)
}

// uploadTooLarge reports whether the upload stopped at the domain's limit.
func (x *exchange) uploadTooLarge() bool {
	ub, ok := x.r.Body.(*uploadBody)
	return ok && ub.over.Load()
}

// uploadBody streams an upload to the origin, failing once more than left
// bytes have passed.
type uploadBody struct {
	io.ReadCloser
	left int64
	over atomic.Bool
}

func (b *uploadBody) Read(p []byte) (int, error) {
	if b.over.Load() {
		return 0, errUploadTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		b.over.Store(true)
		return 0, errUploadTooLarge
	}
	return n, err
}
