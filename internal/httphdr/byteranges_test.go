package httphdr

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
	"testing/iotest"
)

// content is a representation whose bytes differ at every offset mod 251.
func content(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// RFC 9110 §14.6: each part carries Content-Type and Content-Range; the
// body must be readable by a standard multipart parser, and Length must be
// exactly what Copy writes.
func TestMultipartByterangesRoundTrip(t *testing.T) {
	data := content(100_000)
	size := int64(len(data))
	tests := []struct {
		name        string
		header      string
		contentType string
		boundary    string
	}{
		{"two ranges", "bytes=0-99,-100", "application/pdf", "THIS_STRING_SEPARATES"},
		{"many ranges", "bytes=0-0,10-19,1000-65535,70000-,5-5", "video/mp4", "3d6b6a416f9b5"},
		{"no content type", "bytes=1-2,50000-50010", "", "b"},
		{"boundary needing quotes", "bytes=0-9,20-29", "text/plain; charset=utf-8", "a b:c=d?e"},
		{"single range", "bytes=100-199", "application/octet-stream", strings.Repeat("x", 70)},
		{"large range beyond copy buffer", "bytes=0-99998,99999-", "application/octet-stream", "zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ranges, err := ParseRange(tt.header, size)
			if err != nil {
				t.Fatalf("ParseRange(%q): %v", tt.header, err)
			}
			m := NewMultipartByteranges(ranges, size, tt.contentType, tt.boundary)
			if err := m.Err(); err != nil {
				t.Fatalf("Err() = %v", err)
			}
			var body bytes.Buffer
			n, err := m.Copy(&body, bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			if n != int64(body.Len()) || n != m.Length() {
				t.Errorf("Copy returned %d, wrote %d bytes, Length() = %d; want all equal", n, body.Len(), m.Length())
			}

			mediaType, params, err := mime.ParseMediaType(m.ContentType())
			if err != nil || mediaType != "multipart/byteranges" || params["boundary"] != tt.boundary {
				t.Fatalf("ContentType() = %q: parsed %q %v, %v; want multipart/byteranges with boundary %q",
					m.ContentType(), mediaType, params, err, tt.boundary)
			}
			mr := multipart.NewReader(bytes.NewReader(body.Bytes()), params["boundary"])
			for i, r := range ranges {
				p, err := mr.NextRawPart()
				if err != nil {
					t.Fatalf("part %d: NextRawPart: %v", i, err)
				}
				if got := p.Header.Get("Content-Type"); got != tt.contentType {
					t.Errorf("part %d Content-Type = %q, want %q", i, got, tt.contentType)
				}
				if _, ok := p.Header["Content-Type"]; ok != (tt.contentType != "") {
					t.Errorf("part %d has Content-Type = %v, want %v", i, ok, tt.contentType != "")
				}
				if got, want := p.Header.Get("Content-Range"), r.ContentRange(size); got != want {
					t.Errorf("part %d Content-Range = %q, want %q", i, got, want)
				}
				if len(p.Header) != 1+btoi(tt.contentType != "") {
					t.Errorf("part %d has headers %v, want only Content-Type and Content-Range", i, p.Header)
				}
				got, err := io.ReadAll(p)
				if err != nil {
					t.Fatalf("part %d: read: %v", i, err)
				}
				if want := data[r.Start : r.Start+r.Length]; !bytes.Equal(got, want) {
					t.Errorf("part %d (%s): got %d bytes, want %d bytes %x...", i, r.ContentRange(size), len(got), len(want), want[:min(len(want), 8)])
				}
			}
			if p, err := mr.NextRawPart(); err != io.EOF {
				t.Errorf("after %d parts: NextRawPart = %v, %v; want io.EOF", len(ranges), p, err)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RFC 9110 §14.6 / RFC 2046 §5.1.1: the exact framing, byte for byte.
func TestMultipartByterangesFraming(t *testing.T) {
	data := []byte("0123456789")
	m := NewMultipartByteranges([]ByteRange{{0, 2}, {8, 2}}, 10, "text/plain", "SEP")
	var body bytes.Buffer
	if _, err := m.Copy(&body, bytes.NewReader(data)); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	want := "--SEP\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01" +
		"\r\n--SEP\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\n89" +
		"\r\n--SEP--\r\n"
	if got := body.String(); got != want {
		t.Errorf("body =\n%q\nwant\n%q", got, want)
	}
	if got, want := m.ContentType(), "multipart/byteranges; boundary=SEP"; got != want {
		t.Errorf("ContentType() = %q, want %q", got, want)
	}
}

func TestMultipartByterangesInvalid(t *testing.T) {
	tests := []struct {
		name        string
		ranges      []ByteRange
		size        int64
		contentType string
		boundary    string
	}{
		{"empty boundary", []ByteRange{{0, 1}}, 10, "text/plain", ""},
		{"boundary too long", []ByteRange{{0, 1}}, 10, "text/plain", strings.Repeat("x", 71)},
		{"boundary ends in space", []ByteRange{{0, 1}}, 10, "text/plain", "ab "},
		{"boundary with CRLF", []ByteRange{{0, 1}}, 10, "text/plain", "a\r\nb"},
		{"boundary with quote", []ByteRange{{0, 1}}, 10, "text/plain", `a"b`},
		{"content type with CRLF", []ByteRange{{0, 1}}, 10, "text/plain\r\nX-Evil: 1", "b"},
		{"no ranges", nil, 10, "text/plain", "b"},
		{"range past size", []ByteRange{{5, 6}}, 10, "text/plain", "b"},
		{"negative start", []ByteRange{{-1, 2}}, 10, "text/plain", "b"},
		{"empty range", []ByteRange{{0, 0}}, 10, "text/plain", "b"},
		{"overflowing range", []ByteRange{{5, 1<<63 - 1}}, 10, "text/plain", "b"},
		{"total overflows int64", []ByteRange{{0, 1<<63 - 1}, {0, 1<<63 - 1}}, 1<<63 - 1, "", "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMultipartByteranges(tt.ranges, tt.size, tt.contentType, tt.boundary)
			if err := m.Err(); !errors.Is(err, ErrMultipart) {
				t.Errorf("Err() = %v, want ErrMultipart", err)
			}
			if got := m.Length(); got != -1 {
				t.Errorf("Length() = %d, want -1", got)
			}
			var body bytes.Buffer
			n, err := m.Copy(&body, bytes.NewReader(make([]byte, 10)))
			if !errors.Is(err, ErrMultipart) || n != 0 || body.Len() != 0 {
				t.Errorf("Copy = %d, %v (wrote %d bytes); want 0, ErrMultipart, nothing written", n, err, body.Len())
			}
		})
	}
}

// The representation shrank under the writer: a short source must be an
// error, never a silently short part (A1: no short slices).
func TestMultipartByterangesShortSource(t *testing.T) {
	m := NewMultipartByteranges([]ByteRange{{0, 5}, {90, 10}}, 100, "", "b")
	n, err := m.Copy(io.Discard, bytes.NewReader(content(95)))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Copy from a short source = %d, %v; want io.ErrUnexpectedEOF", n, err)
	}
}

func TestMultipartByterangesErrors(t *testing.T) {
	m := NewMultipartByteranges([]ByteRange{{0, 5}, {50, 10}}, 100, "", "b")
	readErr := errors.New("disk on fire")
	if _, err := m.Copy(io.Discard, errReaderAt{readErr}); !errors.Is(err, readErr) {
		t.Errorf("Copy from a failing source = %v, want %v", err, readErr)
	}
	writeErr := errors.New("client gone")
	for limit := range int(m.Length()) {
		w := &limitWriter{n: limit, err: writeErr}
		n, err := m.Copy(w, bytes.NewReader(content(100)))
		if !errors.Is(err, writeErr) || n != int64(limit) {
			t.Fatalf("Copy to a writer failing after %d bytes = %d, %v; want %d, %v", limit, n, err, limit, writeErr)
		}
	}
	// A slow, one-byte-at-a-time source still yields the exact body.
	var body bytes.Buffer
	src := bytes.NewReader(content(100))
	n, err := m.Copy(&body, readerAtFunc(func(p []byte, off int64) (int, error) {
		return iotest.OneByteReader(io.NewSectionReader(src, off, int64(len(p)))).Read(p)
	}))
	if err != nil || n != m.Length() {
		t.Errorf("Copy from a one-byte source = %d, %v; want %d, nil", n, err, m.Length())
	}
}

type errReaderAt struct{ err error }

func (e errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, e.err }

type readerAtFunc func(p []byte, off int64) (int, error)

func (f readerAtFunc) ReadAt(p []byte, off int64) (int, error) { return f(p, off) }

// limitWriter accepts n bytes, then fails with err.
type limitWriter struct {
	n   int
	err error
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestRandomBoundary(t *testing.T) {
	b, err := RandomBoundary(bytes.NewReader(bytes.Repeat([]byte{0xab}, 30)))
	if err != nil || b != strings.Repeat("ab", 30) || !validBoundary(b) {
		t.Errorf("RandomBoundary = %q, %v; want 60 × \"ab\"", b, err)
	}
	if _, err := RandomBoundary(bytes.NewReader(make([]byte, 29))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("RandomBoundary(short source) error = %v, want io.ErrUnexpectedEOF", err)
	}
}

func ExampleMultipartByteranges() {
	data := []byte("Hello, multipart world!")
	ranges, _ := ParseRange("bytes=0-4,-6", int64(len(data)))
	m := NewMultipartByteranges(ranges, int64(len(data)), "text/plain", "SEP")
	var body strings.Builder
	n, err := m.Copy(&body, bytes.NewReader(data))
	fmt.Println(m.ContentType(), m.Length() == n, err)
	fmt.Printf("%q\n", body.String())
	// Output:
	// multipart/byteranges; boundary=SEP true <nil>
	// "--SEP\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/23\r\n\r\nHello\r\n--SEP\r\nContent-Type: text/plain\r\nContent-Range: bytes 17-22/23\r\n\r\nworld!\r\n--SEP--\r\n"
}
