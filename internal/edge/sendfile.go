package edge

import (
	"io"
	"net/http"
	"os"
	"sync/atomic"
)

// sentFromFile counts the body bytes handed to the zero-copy path, for
// tests to tell which path served a response.
var sentFromFile atomic.Int64

// fileBody is a stored body on disk that can hand out a descriptor for a
// verified byte range (cachestore.Entry): the edge then sends it with
// sendfile(2) instead of copying it through user space.
type fileBody interface {
	io.ReaderAt
	// Verify checks the blocks covering [off, off+n) once per process.
	Verify(off, n int64) error
	// File returns a descriptor of its own positioned at off, once
	// [off, off+n) is verified.
	File(off, n int64) (*os.File, error)
}

const (
	// zeroCopyMin is the smallest body sent from a file: below it, opening
	// a descriptor costs more than the copy it saves.
	zeroCopyMin = 64 << 10
	// sendChunk is how much one write to the client carries on the
	// zero-copy path: the client writer renews its write deadline and
	// checks the minimum rate per write (timeouts.go), and each chunk's
	// blocks are verified before it is sent.
	sendChunk = 256 << 10
)

// sendFile sends n bytes of body from off to the client from a descriptor
// on the entry file, so that net/http's connection can use sendfile(2):
// io.Copy hands an *io.LimitedReader over an *os.File to the writers'
// ReadFrom, which every wrapper of the response writer passes on. It
// reports false when nothing was sent and the caller should copy instead
// (the entry is in memory, or its file cannot be opened again); a failure
// after the first byte ends the response here, truncated.
func (x *exchange) sendFile(body fileBody, off, n int64) bool {
	f, err := body.File(off, min(n, sendChunk))
	if err != nil {
		// A corrupt block is found here as in ReadAt: the copy path then
		// reports it the same way (it cuts the connection).
		return false
	}
	defer f.Close()
	for sent := int64(0); sent < n; {
		chunk := min(n-sent, sendChunk)
		if sent > 0 {
			// File verified the first chunk; each later one is checked
			// before any of its bytes leave.
			if err := body.Verify(off+sent, chunk); err != nil {
				if x.ctx().Err() != nil {
					return true
				}
				x.h.log.Warn("edge: response body failed", "url", x.r.URL.String(), "err", err)
				panic(http.ErrAbortHandler)
			}
		}
		// Counted before it is sent, so that a client holding the
		// response sees the count.
		sentFromFile.Add(chunk)
		m, err := io.Copy(x.w, &io.LimitedReader{R: f, N: chunk})
		sent += m
		if err != nil || m < chunk {
			// The client left or was cut by a timeout (clientWriter logs
			// which): the response is shorter than its Content-Length,
			// so net/http closes the connection.
			return true
		}
	}
	return true
}
