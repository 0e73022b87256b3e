package httphdr

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"slices"
	"strconv"
)

// ErrMultipart is wrapped by the errors that MultipartByteranges.Err and
// Copy return when the body cannot be written as set up (a bad boundary or
// content type, or a range outside the representation).
var ErrMultipart = errors.New("bad multipart/byteranges")

// maxBoundary is the longest boundary RFC 2046 §5.1.1 allows.
const maxBoundary = 70

// MultipartByteranges writes a multipart/byteranges body (RFC 9110 §14.6),
// framed as RFC 2046 §5.1.1 says, with CRLF line ends:
//
//	--BOUNDARY CRLF
//	Content-Type: TYPE CRLF            (only when the type is not empty)
//	Content-Range: bytes a-b/size CRLF
//	CRLF
//	<bytes a through b>
//	CRLF --BOUNDARY CRLF
//	...
//	CRLF --BOUNDARY-- CRLF
//
// The body is laid out when it is created, so its exact Length is known
// before anything is written and Content-Length can be sent.
type MultipartByteranges struct {
	ranges      []ByteRange
	contentType string
	boundary    string
	heads       []string // each part's delimiter line and header section
	closing     string   // the close delimiter
	length      int64    // the whole body, -1 when err != nil
	err         error    // why the body cannot be written, if it cannot
}

// NewMultipartByteranges prepares a writer for ranges of a representation
// of the given size and content type. ContentType returns the
// "multipart/byteranges; boundary=..." value and Length the exact body
// length, so Content-Length can be sent before the body.
//
// The caller supplies the boundary: 1 to 70 characters of RFC 2046's bchars
// (letters, digits, "'()+_,-./:=?" and space, not ending in space), which
// must not occur in the data; RandomBoundary makes one from a random source.
// The ranges must lie within size, as ParseRange returns them. If any of
// this does not hold, Err reports it, Length is -1 and Copy writes nothing.
func NewMultipartByteranges(ranges []ByteRange, size int64, contentType, boundary string) *MultipartByteranges {
	m := &MultipartByteranges{
		ranges:      slices.Clone(ranges),
		contentType: contentType,
		boundary:    boundary,
		length:      -1,
	}
	if m.err = m.check(size); m.err != nil {
		return m
	}
	m.heads = make([]string, len(ranges))
	var total int64
	for i, r := range ranges {
		head := "--" + boundary + "\r\n"
		if i > 0 {
			head = "\r\n" + head // the CRLF before a delimiter belongs to it
		}
		if contentType != "" {
			head += "Content-Type: " + contentType + "\r\n"
		}
		head += "Content-Range: " + r.ContentRange(size) + "\r\n\r\n"
		m.heads[i] = head
		if total > math.MaxInt64-int64(len(head))-r.Length {
			m.err = fmt.Errorf("%w: body longer than int64", ErrMultipart)
			return m
		}
		total += int64(len(head)) + r.Length
	}
	m.closing = "\r\n--" + boundary + "--\r\n"
	m.length = total + int64(len(m.closing))
	return m
}

// check validates the arguments of NewMultipartByteranges.
func (m *MultipartByteranges) check(size int64) error {
	if !validBoundary(m.boundary) {
		return fmt.Errorf("%w: boundary %q is not 1-70 RFC 2046 bchars", ErrMultipart, m.boundary)
	}
	for i := 0; i < len(m.contentType); i++ {
		// A header value may not hold controls but HTAB (RFC 9110 §5.5);
		// a stored Content-Type with CR or LF would forge part headers.
		if c := m.contentType[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return fmt.Errorf("%w: content type %q has a control character", ErrMultipart, m.contentType)
		}
	}
	if len(m.ranges) == 0 {
		return fmt.Errorf("%w: no ranges", ErrMultipart)
	}
	for _, r := range m.ranges {
		if r.Start < 0 || r.Length <= 0 || r.Start > size-r.Length {
			return fmt.Errorf("%w: range %d+%d outside size %d", ErrMultipart, r.Start, r.Length, size)
		}
	}
	return nil
}

// validBoundary reports whether b is a boundary RFC 2046 §5.1.1 allows:
//
//	boundary := 0*69<bchars> bcharsnospace
//	bchars := bcharsnospace / " "
//	bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," /
//	                 "-" / "." / "/" / ":" / "=" / "?"
func validBoundary(b string) bool {
	if len(b) == 0 || len(b) > maxBoundary || b[len(b)-1] == ' ' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c == '\'' || c == '(' || c == ')' || c == '+' || c == '_' || c == ',' ||
			c == '-' || c == '.' || c == '/' || c == ':' || c == '=' || c == '?' || c == ' ':
		default:
			return false
		}
	}
	return true
}

// RandomBoundary returns a boundary of 60 hex digits made from 30 bytes of
// rand (normally crypto/rand.Reader), as mime/multipart does; the package
// itself reads no randomness.
func RandomBoundary(rand io.Reader) (string, error) {
	var b [30]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("read boundary randomness: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// ContentType is the Content-Type field value of the multipart body, with
// the boundary quoted when it needs to be.
func (m *MultipartByteranges) ContentType() string {
	return mime.FormatMediaType("multipart/byteranges", map[string]string{"boundary": m.boundary})
}

// Length is the exact byte length of the whole multipart body, or -1 when
// Err is not nil.
func (m *MultipartByteranges) Length() int64 { return m.length }

// Err reports why the body cannot be written, wrapping ErrMultipart; nil
// when it can. Check it before sending the response header.
func (m *MultipartByteranges) Err() error { return m.err }

// Copy writes the multipart body to w, reading each range from src, and
// returns the number of bytes written. It streams each range through a
// bounded buffer (io.SectionReader and io.Copy), never holding a range in
// memory. A src shorter than a range is io.ErrUnexpectedEOF.
func (m *MultipartByteranges) Copy(w io.Writer, src io.ReaderAt) (int64, error) {
	if m.err != nil {
		return 0, m.err
	}
	var written int64
	for i, r := range m.ranges {
		n, err := io.WriteString(w, m.heads[i])
		written += int64(n)
		if err != nil {
			return written, fmt.Errorf("write part %d header: %w", i, err)
		}
		c, err := io.Copy(w, io.NewSectionReader(src, r.Start, r.Length))
		written += c
		if err != nil {
			return written, fmt.Errorf("copy range %s: %w", rangeSpec(r), err)
		}
		if c != r.Length {
			return written, fmt.Errorf("copy range %s: got %d bytes: %w", rangeSpec(r), c, io.ErrUnexpectedEOF)
		}
	}
	n, err := io.WriteString(w, m.closing)
	written += int64(n)
	if err != nil {
		return written, fmt.Errorf("write close delimiter: %w", err)
	}
	return written, nil
}

// rangeSpec formats r as a range-spec "first-last" for error messages.
func rangeSpec(r ByteRange) string {
	return strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.Start+r.Length-1, 10)
}
