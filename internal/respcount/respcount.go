// Package respcount wraps an http.ResponseWriter to record the status code
// and the body bytes of a response, for metrics and request logs, without
// hiding what the wrapped writer can do: ReadFrom (net/http's sendfile
// path), Flush, and Unwrap for http.ResponseController (write deadlines).
package respcount

import (
	"io"
	"net/http"
)

// Writer records the status and body size of the response written through
// it. Wrap a ResponseWriter as &Writer{ResponseWriter: w}.
type Writer struct {
	http.ResponseWriter
	// Status is the status code sent, 0 before the header is written; a
	// body written without WriteHeader records the implicit 200.
	Status int
	// Bytes counts the body bytes written.
	Bytes int64
}

// WriteHeader records the first status code and passes it on.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write passes p on and counts what was written.
func (w *Writer) Write(p []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.Bytes += int64(n)
	return n, err
}

// ReadFrom passes io.Copy's fast path through: net/http's response writer
// sends an *os.File (or an io.LimitedReader of one) with sendfile(2), which
// a wrapper without ReadFrom would hide. The bytes are counted as Write
// counts them.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(w.ResponseWriter, r)
	}
	w.Bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through for streaming responses.
func (w *Writer) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// WroteHeader reports whether the status line has been sent, after which
// an error can no longer be reported in the response.
func (w *Writer) WroteHeader() bool { return w.Status != 0 }
