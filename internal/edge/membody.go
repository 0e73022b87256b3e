package edge

// memoryBody is a stored body held in memory (cachestore.Entry): the edge
// writes its bytes to the client as they are, without copying them
// through a buffer of its own.
type memoryBody interface {
	// MemoryBody returns the body, shared and read only, and true; false
	// when the body is not in memory.
	MemoryBody() ([]byte, bool)
}

// writeBody sends b, all of a response body in memory, to the client, in
// writes of at most sendChunk bytes: the client writer renews its write
// deadline and checks the minimum rate per write (timeouts.go), as for a
// body sent from a file (sendfile.go). A write error means the client
// left or was cut by a timeout; the response is then shorter than its
// Content-Length, so net/http closes the connection.
func (x *exchange) writeBody(b []byte) {
	for len(b) > 0 {
		chunk := b[:min(len(b), sendChunk)]
		if _, err := x.w.Write(chunk); err != nil {
			return
		}
		b = b[len(chunk):]
	}
}
