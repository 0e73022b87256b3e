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

// via returns this node's Via element for a response produced after d.
func (x *exchange) via() string {
	ms := time.Since(x.start).Milliseconds()
	return "1.1 " + x.h.nodeID + " (strata, " + strconv.FormatInt(ms, 10) + "ms)"
}

// writeHead copies hdr into the response header, adds the edge's own fields
// (Via appended to the origin's, X-Cache, X-Request-Id) and a quoted ETag,
// and writes the status.
func (x *exchange) writeHead(status int, hdr http.Header, xcache string) {
	out := x.w.Header()
	for k, v := range hdr {
		out[k] = v
	}
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
	x.editResponse(out) // headerrules.go, cors.go
	out["Via"] = append(append([]string(nil), hdr.Values("Via")...), x.via())
	out.Set("X-Cache", xcache)
	out.Set("X-Request-Id", x.id)
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
