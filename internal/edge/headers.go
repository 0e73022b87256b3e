package edge

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/httphdr"
)

// checksumFields are the fields that describe the whole representation's
// bytes. They are never put on a 206, whose body is only part of it (C07).
var checksumFields = []string{
	"Content-Md5",
	"Digest",
	"Repr-Digest",
	"Content-Digest",
	"X-Oss-Hash-Crc64ecma",
}

// removeChecksums deletes the whole-representation checksum fields from h.
func removeChecksums(h http.Header) {
	for _, f := range checksumFields {
		h.Del(f)
	}
	for k := range h {
		if strings.HasPrefix(k, "X-Amz-Checksum-") {
			delete(h, k)
		}
	}
}

// via returns this node's Via element for a response produced now.
func (x *exchange) via() string {
	ms := time.Since(x.start).Milliseconds()
	var b [64]byte
	buf := append(b[:0], "1.1 "...)
	buf = append(buf, x.h.nodeID...)
	buf = append(buf, " (strata, "...)
	buf = strconv.AppendInt(buf, ms, 10)
	buf = append(buf, "ms)"...)
	return string(buf)
}

// writeHead copies hdr into the response header, adds the edge's own fields
// (Via appended to the origin's, X-Cache, X-Request-Id) and a quoted ETag,
// and writes the status. hdr is only read.
func (x *exchange) writeHead(status int, hdr http.Header, xcache string) {
	out := x.w.Header()
	for k, v := range hdr {
		out[k] = v
	}
	prepareHead(out, xcache)
	x.finishHead(status, out, hdr.Values("Via"), "", xcache)
}

// writeStoredHead writes the header of a whole stored response from its
// view (storedview.go): as writeHead does for the stored header with
// Content-Length set, and Age when age is not empty, without preparing the
// stored fields again. It is for a response that is not a miss.
func (x *exchange) writeStoredHead(status int, v *storedView, age, xcache string) {
	out := x.w.Header()
	for k, vs := range v.head {
		out[k] = vs
	}
	x.finishHead(status, out, v.head["Via"], age, xcache)
}

// prepareHead edits a header copied from a stored or received response
// before the domain's edits: it drops the fields this node consumed and
// quotes the ETag.
func prepareHead(out http.Header, xcache string) {
	// Surrogate-Control speaks to surrogates only; this node consumed it
	// (surrogate.go).
	out.Del("Surrogate-Control")
	if !strings.HasPrefix(xcache, "MISS") {
		out.Del(TraceHeader) // stored with the object; it describes no fetch of this response
	}
	if et := out.Get("Etag"); et != "" {
		// A1: the edge's responses always carry a valid quoted ETag,
		// whatever the origin sent.
		if tag, ok := httphdr.ParseETag(et); ok {
			out.Set("Etag", tag.String())
		} else {
			out.Del("Etag")
		}
	}
}

// finishHead sets Age (when age is not empty), applies the domain's edits,
// adds the edge's own fields and writes the status. via is the Via of the
// response before the edits; this node's element is appended to it.
func (x *exchange) finishHead(status int, out http.Header, via []string, age, xcache string) {
	// One allocation holds the values of the fields set here; each field
	// gets a slice without spare capacity, so an edit that appends copies.
	vals := make([]string, len(via)+4)
	n := copy(vals, via)
	vals[n] = x.via()
	vals[n+1], vals[n+2], vals[n+3] = xcache, x.id, age
	if age != "" {
		out["Age"] = vals[n+3 : n+4 : n+4]
	}
	x.editResponse(out) // headerrules.go, cors.go
	out["Via"] = vals[: n+1 : n+1]
	out["X-Cache"] = vals[n+1 : n+2 : n+2]
	out["X-Request-Id"] = vals[n+2 : n+3 : n+3]
	x.wrote = true
	x.w.WriteHeader(status)
}

// fail answers with an error produced by the edge itself: a plain-text body
// that names this node and says what went wrong.
func (x *exchange) fail(status int, xcache, msg string) {
	if x.wrote {
		// The header is gone: the only honest signal left is to cut the
		// connection, so the client sees a truncated body, not a bad one.
		panic(http.ErrAbortHandler)
	}
	body := "strata edge " + x.h.nodeID + ": " + msg + " (request " + x.id + ")\n"
	hdr := http.Header{}
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	hdr.Set("Cache-Control", "no-store")
	x.writeHead(status, hdr, xcache)
	if x.r.Method != http.MethodHead {
		_, _ = x.w.Write([]byte(body))
	}
}

// missReason formats the X-Cache value of a miss.
func missReason(reason string) string {
	if reason == "" {
		reason = "not-cached"
	}
	return "MISS reason=" + reason
}

// isToken reports whether s is a non-empty run of visible ASCII without
// separators that would break a header list.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ',' || c == ';' || c == '"' {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
