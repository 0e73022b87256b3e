package edge

import (
	"crypto/rand"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/httphdr"
)

// representation is a response the edge serves itself, from a stored
// entry, a fill in progress or slices.
type representation struct {
	status int
	header http.Header // the full response's header; not modified
	size   int64       // body length; -1 when unknown (no ranges then)
	body   io.ReaderAt
	xcache string
	age    string // the Age value; "" keeps the header's
	// sequential marks a body that can only be read forward (a stream):
	// several ranges are then not served (the whole body is).
	sequential bool
	// prime, if set, is called with the first offset to be sent before the
	// response header is written; an error aborts serving (nothing is
	// written) and is returned. It may return a replacement body.
	prime func(first int64) (io.ReaderAt, error)
	// stored names the stored response body comes from, whole: its
	// transformed variants are cached beside it (transform.go).
	stored *storedRef
	// view, if set, is the stored response's header derived for serving
	// (storedview.go); header is then that response's stored header.
	view *storedView
}

// errPrime wraps the error of representation.prime.
type errPrime struct{ err error }

func (e errPrime) Error() string { return "edge: preparing response: " + e.err.Error() }
func (e errPrime) Unwrap() error { return e.err }

// serve answers the request from rep exactly as RFC 9110 asks of an origin:
// preconditions (§13.2.2), then If-Range and Range (§14) with 206,
// multipart/byteranges or 416, else the whole body. Checksum fields, which
// describe the whole representation, are never put on a 206 (C07). It
// returns an errPrime when prime failed and nothing was written.
func (x *exchange) serve(rep representation) error {
	view := rep.view
	rep, release, err := x.transformed(rep) // transform.go (C03)
	defer release()
	if err != nil {
		return errPrime{err}
	}
	if x.dom.Transform != nil || strings.HasPrefix(rep.xcache, "MISS") {
		// A transformed response has a header of its own, and a miss
		// keeps the stored trace field: neither is the view's.
		view = nil
	}
	// The header is served as stored or received, Content-Range included:
	// a 206 passed on keeps the origin's (RFC 9110 §15.3.7 requires it),
	// and a 200 that carries one keeps it (RFC 9111 §3.1: a cache stores
	// the fields it received). A 206 or 416 made here sets its own, on a
	// copy (editableHeader): rep.header is only read.
	isGet := x.r.Method == http.MethodGet
	if rep.status == http.StatusOK {
		var f storedFields
		if view != nil {
			f = view.fields
		} else {
			f = parseStoredFields(rep.header)
		}
		v := x.validators(f)
		switch httphdr.Evaluate(x.r.Method, x.r.Header, v) {
		case httphdr.NotModified:
			// RFC 9110 §15.4.5: the 304 carries the fields a 200 would
			// (ETag, Cache-Control, Date, Expires, Vary, ...), no body.
			hdr := editableHeader(rep)
			for _, f := range []string{"Content-Length", "Content-Type", "Content-Encoding"} {
				hdr.Del(f)
			}
			removeChecksums(hdr)
			x.writeHead(http.StatusNotModified, hdr, rep.xcache)
			return nil
		case httphdr.PreconditionFailed:
			x.fail(http.StatusPreconditionFailed, rep.xcache, "a precondition (If-Match or If-Unmodified-Since) does not hold for the stored representation")
			return nil
		}
		vr := v
		if !f.strongModified {
			vr.LastModified = time.Time{}
		}
		if isGet && rep.size >= 0 && len(x.r.Header.Values("Range")) > 0 && httphdr.IfRangeMatches(x.r.Header, vr) {
			ranges, err := httphdr.ParseRange(strings.Join(x.r.Header.Values("Range"), ","), rep.size)
			switch {
			case errors.Is(err, httphdr.ErrUnsatisfiable):
				hdr := editableHeader(rep)
				removeChecksums(hdr)
				hdr.Set("Content-Range", httphdr.UnsatisfiedRange(rep.size))
				hdr.Set("Content-Length", "0")
				hdr.Del("Content-Type")
				x.writeHead(http.StatusRequestedRangeNotSatisfiable, hdr, rep.xcache)
				return nil
			case err == nil && len(ranges) == 1:
				return x.serveRange(rep, editableHeader(rep), ranges[0])
			case err == nil && !rep.sequential:
				return x.serveMultipart(rep, editableHeader(rep), ranges)
			}
			// ErrInvalidRange: ignore the field, serve the whole body.
		}
	}
	body := rep.body
	if rep.prime != nil {
		b, err := rep.prime(0)
		if err != nil {
			return errPrime{err}
		}
		if b != nil {
			body = b
		}
	}
	if view != nil {
		x.writeStoredHead(rep.status, view, rep.age, rep.xcache)
	} else {
		hdr := editableHeader(rep)
		if rep.size >= 0 {
			hdr.Set("Content-Length", strconv.FormatInt(rep.size, 10))
		} else {
			hdr.Del("Content-Length")
		}
		x.writeHead(rep.status, hdr, rep.xcache)
	}
	if !isGet {
		return nil
	}
	size := rep.size
	if size < 0 {
		size = math.MaxInt64
	}
	x.copyRange(body, 0, size, rep.size < 0)
	return nil
}

// editableHeader returns a copy of rep's header, with its Age, for a
// response that edits it.
func editableHeader(rep representation) http.Header {
	hdr := rep.header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	if rep.age != "" {
		hdr.Set("Age", rep.age)
	}
	return hdr
}

// serveRange answers one range with 206 (RFC 9110 §15.3.7).
func (x *exchange) serveRange(rep representation, hdr http.Header, r httphdr.ByteRange) error {
	body := rep.body
	if rep.prime != nil {
		b, err := rep.prime(r.Start)
		if err != nil {
			return errPrime{err}
		}
		if b != nil {
			body = b
		}
	}
	removeChecksums(hdr)
	hdr.Set("Content-Range", r.ContentRange(rep.size))
	hdr.Set("Content-Length", strconv.FormatInt(r.Length, 10))
	x.writeHead(http.StatusPartialContent, hdr, rep.xcache)
	x.copyRange(body, r.Start, r.Length, false)
	return nil
}

// serveMultipart answers several ranges with a multipart/byteranges body
// (RFC 9110 §14.6).
func (x *exchange) serveMultipart(rep representation, hdr http.Header, ranges []httphdr.ByteRange) error {
	boundary, err := httphdr.RandomBoundary(rand.Reader)
	if err != nil {
		return errPrime{err}
	}
	mp := httphdr.NewMultipartByteranges(ranges, rep.size, hdr.Get("Content-Type"), boundary)
	if err := mp.Err(); err != nil {
		return errPrime{err}
	}
	body := rep.body
	if rep.prime != nil {
		b, err := rep.prime(ranges[0].Start)
		if err != nil {
			return errPrime{err}
		}
		if b != nil {
			body = b
		}
	}
	removeChecksums(hdr)
	hdr.Del("Content-Range") // each part has its own (RFC 9110 §14.6)
	hdr.Set("Content-Type", mp.ContentType())
	hdr.Set("Content-Length", strconv.FormatInt(mp.Length(), 10))
	x.writeHead(http.StatusPartialContent, hdr, rep.xcache)
	cw := &checkedWriter{w: x.w}
	if _, err := mp.Copy(cw, body); err != nil && cw.err == nil && x.ctx().Err() == nil {
		x.h.log.Warn("edge: response body failed", "url", x.r.URL.String(), "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// checkedWriter remembers a write error: the client hung up.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// copyRange sends n bytes of body from off to the client. A read failure
// (corrupt cache entry, origin gone, object changed between slices) cuts
// the connection so the client sees a truncated response, never a wrong
// one; a write failure means the client left. When toEOF is set, n is an
// upper bound and io.EOF ends the body.
func (x *exchange) copyRange(body io.ReaderAt, off, n int64, toEOF bool) {
	if mb, ok := body.(memoryBody); ok && !toEOF {
		if b, ok := mb.MemoryBody(); ok && off >= 0 && off <= int64(len(b)) && n <= int64(len(b))-off {
			x.writeBody(b[off : off+n])
			return
		}
	}
	if fb, ok := body.(fileBody); ok && !toEOF && n >= zeroCopyMin {
		if x.sendFile(fb, off, n) {
			return
		}
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var rc *http.ResponseController
	if toEOF {
		rc = http.NewResponseController(x.w)
	}
	for n > 0 {
		chunk := buf
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		m, err := body.ReadAt(chunk, off)
		if m > 0 {
			if _, werr := x.w.Write(chunk[:m]); werr != nil {
				return
			}
			if toEOF {
				_ = rc.Flush()
			}
			off += int64(m)
			n -= int64(m)
		}
		if err == io.EOF && toEOF {
			return
		}
		if err != nil && n > 0 {
			if x.ctx().Err() != nil {
				return
			}
			x.h.log.Warn("edge: response body failed", "url", x.r.URL.String(), "err", err)
			panic(http.ErrAbortHandler)
		}
	}
}

// streamReader reads a body that arrives once, front to back, for
// representation.sequential: ReadAt skips forward and returns what one Read
// gives (possibly short without an error, which copyRange accepts), so a
// stream reaches the client as it arrives.
type streamReader struct {
	r   io.Reader
	pos int64
}

func (s *streamReader) ReadAt(p []byte, off int64) (int, error) {
	if off < s.pos {
		return 0, errors.New("edge: stream read backwards")
	}
	if off > s.pos {
		n, err := io.CopyN(io.Discard, s.r, off-s.pos)
		s.pos += n
		if err != nil {
			return 0, err
		}
	}
	n, err := s.r.Read(p)
	s.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}
