package respcount

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// plainWriter is a ResponseWriter without ReadFrom.
type plainWriter struct {
	hdr    http.Header
	status int
	buf    bytes.Buffer
}

func (w *plainWriter) Header() http.Header         { return w.hdr }
func (w *plainWriter) WriteHeader(code int)        { w.status = code }
func (w *plainWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

// fromWriter is a ResponseWriter with ReadFrom, as net/http's is.
type fromWriter struct {
	plainWriter
	calls int
}

func (w *fromWriter) ReadFrom(r io.Reader) (int64, error) {
	w.calls++
	return w.buf.ReadFrom(r)
}

// TestWriterReadFrom checks that the wrapper passes ReadFrom
// (net/http's sendfile path) through when the wrapped writer has it, copies
// when not, and counts the bytes and an implicit 200 either way.
func TestWriterReadFrom(t *testing.T) {
	const body = "response body"
	from := &fromWriter{plainWriter: plainWriter{hdr: http.Header{}}}
	plain := &plainWriter{hdr: http.Header{}}
	for _, tt := range []struct {
		name string
		w    http.ResponseWriter
		buf  *bytes.Buffer
	}{
		{"with ReadFrom", from, &from.buf},
		{"without ReadFrom", plain, &plain.buf},
	} {
		sw := &Writer{ResponseWriter: tt.w}
		n, err := io.Copy(sw, io.LimitReader(strings.NewReader(body+"not this"), int64(len(body))))
		if err != nil || n != int64(len(body)) {
			t.Errorf("%s: io.Copy = %d, %v; want %d, nil", tt.name, n, err, len(body))
		}
		if sw.Bytes != int64(len(body)) || sw.Status != http.StatusOK || tt.buf.String() != body {
			t.Errorf("%s: counted %d, code %d, body %q; want %d, 200, %q", tt.name, sw.Bytes, sw.Status, tt.buf.String(), len(body), body)
		}
	}
	if from.calls != 1 {
		t.Errorf("wrapped ReadFrom called %d times, want 1", from.calls)
	}
}
