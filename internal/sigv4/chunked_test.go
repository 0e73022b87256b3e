package sigv4

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var chunkTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// signedChunked returns the headers and framed body of an aws-chunked
// upload signed by SignChunked.
func signedChunked(t *testing.T, payload []byte, opt ChunkedUpload) (http.Header, []byte) {
	t.Helper()
	r, _ := http.NewRequest("PUT", "http://127.0.0.1:9000/bucket/obj", nil)
	opt.UnsignedLength = true // so that tests may change the framing
	SignChunked(r, payload, testAccessKey, testSecret, testRegion, chunkTime, opt)
	body, _ := io.ReadAll(r.Body)
	h := r.Header.Clone()
	h.Set("Content-Length", "0") // replaced per body below
	return h, body
}

// verifyChunked sends body with the given headers through Verify and
// reads the payload; it returns what was read before any error.
func verifyChunked(t *testing.T, h http.Header, body []byte, oneByte bool) ([]byte, *Result, error) {
	t.Helper()
	r := newServerRequest("PUT", "/bucket/obj", "127.0.0.1:9000", nil, body)
	r.Header = h.Clone()
	r.Header.Set("Content-Length", itoa(len(body)))
	res, err := testVerifier().Verify(r, chunkTime)
	if err != nil {
		return nil, nil, err
	}
	var rd io.Reader = res.Body
	if oneByte {
		rd = iotest.OneByteReader(rd)
	}
	got, err := io.ReadAll(rd)
	return got, res, err
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestChunkedRoundTrip(t *testing.T) {
	trailer := http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}
	for _, tc := range []struct {
		name string
		size int
		opt  ChunkedUpload
	}{
		{"signed", 5000, ChunkedUpload{ChunkSize: 1000}},
		{"signed exact multiple", 3000, ChunkedUpload{ChunkSize: 1000}},
		{"signed one chunk", 10, ChunkedUpload{}},
		{"signed empty", 0, ChunkedUpload{}},
		{"signed trailer", 5000, ChunkedUpload{ChunkSize: 999, Trailer: trailer}},
		{"unsigned trailer", 5000, ChunkedUpload{ChunkSize: 1000, Trailer: trailer, Unsigned: true}},
		{"unsigned no trailer", 5000, ChunkedUpload{ChunkSize: 4096, Unsigned: true}},
		{"unsigned empty", 0, ChunkedUpload{Unsigned: true, Trailer: trailer}},
		{"big chunk", 3 << 20, ChunkedUpload{ChunkSize: 2 << 20, Trailer: trailer}},
	} {
		for _, oneByte := range []bool{false, true} {
			if oneByte && tc.size > 1<<20 {
				continue
			}
			payload := testPayload(tc.size)
			h, body := signedChunked(t, payload, tc.opt)
			got, res, err := verifyChunked(t, h, body, oneByte)
			if err != nil {
				t.Fatalf("%s (one-byte reads %v): %v", tc.name, oneByte, err)
			}
			if !bytes.Equal(got, payload) {
				t.Errorf("%s: read %d bytes, want %d", tc.name, len(got), len(payload))
			}
			if want := trailer.Get("X-Amz-Checksum-Crc32"); tc.opt.Trailer != nil && res.Trailer.Get("x-amz-checksum-crc32") != want {
				t.Errorf("%s: trailer = %v, want x-amz-checksum-crc32 %s", tc.name, res.Trailer, want)
			}
			if res.DecodedLength != int64(tc.size) {
				t.Errorf("%s: DecodedLength = %d, want %d", tc.name, res.DecodedLength, tc.size)
			}
		}
	}
}

// The decoder hands out a chunk's data before the chunk has arrived whole
// (C25: uploads stream without buffering), so memory stays bounded
// whatever the chunk size.
func TestChunkedStreamsWithinAChunk_C25(t *testing.T) {
	payload := testPayload(4 << 20)
	h, body := signedChunked(t, payload, ChunkedUpload{ChunkSize: 4 << 20})
	head := bytes.IndexByte(body, '\n') + 1 + 100000 // size line and part of the data

	pr, pw := io.Pipe()
	more := make(chan struct{})
	go func() {
		pw.Write(body[:head])
		<-more
		pw.Write(body[head:])
		pw.Close()
	}()
	r := newServerRequest("PUT", "/bucket/obj", "127.0.0.1:9000", nil, nil)
	r.Header = h.Clone()
	r.Body = pr
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", itoa(len(body)))
	res, err := testVerifier().Verify(r, chunkTime)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 50000)
	done := make(chan error, 1)
	go func() { _, err := io.ReadFull(res.Body, first); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("reading the start of the chunk: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("decoder waited for the whole 4 MiB chunk before returning data")
	}
	close(more)
	rest, err := io.ReadAll(res.Body)
	if err != nil || !bytes.Equal(append(first, rest...), payload) {
		t.Fatalf("rest: %v, %d bytes", err, len(rest))
	}
}

func TestChunkedRejectsTamperingAndBadFraming(t *testing.T) {
	payload := testPayload(2500) // chunks of 0x3e8, 0x3e8, 0x1f4, then 0
	trailer := http.Header{"X-Amz-Checksum-Crc32c": {"sOO8/Q=="}}
	type mutate func(b []byte) []byte
	replaceNth := func(old, new string, n int) mutate {
		return func(b []byte) []byte {
			s := string(b)
			idx := -1
			for i := 0; i < n; i++ {
				j := strings.Index(s[idx+1:], old)
				if j < 0 {
					t.Fatalf("%q occurs fewer than %d times", old, n)
				}
				idx += 1 + j
			}
			return []byte(s[:idx] + new + s[idx+len(old):])
		}
	}
	tests := []struct {
		name     string
		opt      ChunkedUpload
		mut      mutate
		sentinel error
		want     string // in the error message
		prefix   int    // bytes that must be read before the error
	}{
		{"size not hex", ChunkedUpload{ChunkSize: 1000}, replaceNth("3e8;", "zz;", 2),
			ErrMalformedChunk, `chunk 2: size line "zz;chunk-signature=`, 1000},
		{"size with sign", ChunkedUpload{ChunkSize: 1000}, replaceNth("3e8;", "+3e8;", 1),
			ErrMalformedChunk, `chunk 1: size line "+3e8;`, 0},
		{"no chunk signature", ChunkedUpload{ChunkSize: 1000}, replaceNth(";chunk-signature=", ";chunk-sig=", 1),
			ErrMalformedChunk, "chunk 1: size line", 0},
		{"short signature", ChunkedUpload{ChunkSize: 1000}, replaceNth(";chunk-signature=", ";chunk-signature=0", 1),
			ErrMalformedChunk, "chunk 1: chunk-signature", 0},
		{"bare LF", ChunkedUpload{ChunkSize: 1000}, replaceNth("\r\n", "\n", 1),
			ErrMalformedChunk, "ends in a bare LF", 0},
		{"size too small", ChunkedUpload{ChunkSize: 1000}, replaceNth("3e8;", "3e7;", 2),
			ErrMalformedChunk, "chunk 2: data is followed by", 1000},
		{"data tampered", ChunkedUpload{ChunkSize: 1000}, func(b []byte) []byte {
			i := bytes.Index(b, []byte("3e8;"))
			i = bytes.Index(b[i+4:], []byte("3e8;")) + i + 4 // chunk 2
			i += bytes.IndexByte(b[i:], '\n') + 10
			b[i] ^= 1
			return b
		}, ErrChunkSignature, "chunk 2 signed with", 1000},
		{"chunk dropped", ChunkedUpload{ChunkSize: 1000}, func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n3e8;")) + 2
			j := bytes.Index(b[i:], []byte("\r\n1f4;")) + i + 2
			return append(b[:i:i], b[j:]...)
		}, ErrChunkSignature, "chunk 2", 1000},
		{"truncated in data", ChunkedUpload{ChunkSize: 1000}, func(b []byte) []byte { return b[:1500] },
			io.ErrUnexpectedEOF, "chunk 2: body ended", 1000},
		{"truncated before last chunk", ChunkedUpload{ChunkSize: 1000}, func(b []byte) []byte {
			return b[:bytes.Index(b, []byte("\r\n0;"))+2]
		}, io.ErrUnexpectedEOF, "chunk 4: body ended before a complete size line", 2500},
		{"garbage after last chunk", ChunkedUpload{ChunkSize: 1000}, func(b []byte) []byte { return append(b, "x-evil:1\r\n"...) },
			ErrMalformedChunk, `"x-evil:1" follows the final chunk`, 2500},
		{"huge size", ChunkedUpload{ChunkSize: 1000}, replaceNth("3e8;", "ffffffffffffffffff;", 1),
			ErrMalformedChunk, "chunk 1: size ffffffffffffffffff is too large", 0},
		{"size past decoded length", ChunkedUpload{ChunkSize: 1000}, replaceNth("1f4;", "1f5;", 1),
			ErrMalformedChunk, "chunk 3: size 501 goes past x-amz-decoded-content-length 2500", 2000},
		{"trailer tampered", ChunkedUpload{ChunkSize: 1000, Trailer: trailer}, replaceNth("sOO8/Q==", "sOO8/Q=A", 1),
			ErrChunkSignature, "trailer signed with", 2500},
		{"trailer signature missing", ChunkedUpload{ChunkSize: 1000, Trailer: trailer}, func(b []byte) []byte {
			return b[:bytes.Index(b, []byte("x-amz-trailer-signature"))]
		}, ErrMalformedChunk, "trailer has no x-amz-trailer-signature", 2500},
		{"trailer after signature", ChunkedUpload{ChunkSize: 1000, Trailer: trailer}, func(b []byte) []byte {
			return append(b[:len(b)-2], "x-late:1\r\n\r\n"...)
		}, ErrMalformedChunk, `trailer "x-late" follows x-amz-trailer-signature`, 2500},
		{"declared trailer missing", ChunkedUpload{ChunkSize: 1000, Trailer: trailer, Unsigned: true}, func(b []byte) []byte {
			return b[:bytes.Index(b, []byte("x-amz-checksum-crc32c"))]
		}, ErrMalformedChunk, `trailer "x-amz-checksum-crc32c" named in x-amz-trailer is missing`, 2500},
		{"bad trailer line", ChunkedUpload{ChunkSize: 1000, Trailer: trailer, Unsigned: true}, replaceNth("x-amz-checksum-crc32c:", "x-amz-checksum-crc32c ", 1),
			ErrMalformedChunk, "is not name:value", 2500},
		{"extension on unsigned chunk", ChunkedUpload{ChunkSize: 1000, Trailer: trailer, Unsigned: true}, replaceNth("3e8\r\n", "3e8;a=b\r\n", 1),
			ErrMalformedChunk, "has an extension", 0},
		{"signature in unsigned trailer", ChunkedUpload{ChunkSize: 1000, Trailer: trailer, Unsigned: true}, func(b []byte) []byte {
			return append(b[:len(b)-2], "x-amz-trailer-signature:00\r\n\r\n"...)
		}, ErrMalformedChunk, "x-amz-trailer-signature in an unsigned payload", 2500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, body := signedChunked(t, payload, tc.opt)
			got, _, err := verifyChunked(t, h, tc.mut(body), false)
			if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v; want %v containing %q", err, tc.sentinel, tc.want)
			}
			if len(got) < tc.prefix || !bytes.Equal(got[:tc.prefix], payload[:tc.prefix]) {
				t.Errorf("read %d bytes before the error, want at least %d correct ones", len(got), tc.prefix)
			}
			if len(got) == len(payload) && errors.Is(err, ErrChunkSignature) && !strings.HasPrefix(tc.name, "trailer") {
				t.Errorf("all data returned although a data chunk was bad")
			}
		})
	}
}

// The decoder alone, on framing a client could send without signatures.
func TestChunkedReaderDirect(t *testing.T) {
	tests := []struct {
		name, body string
		decoded    int64
		declared   []string
		want       string // decoded payload, or
		wantErr    string // an error containing this
	}{
		{name: "sdk unsigned trailer", body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", decoded: 5,
			declared: []string{"x-amz-checksum-crc32"}, want: "hello"},
		{name: "minio unsigned trailer", body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\n\r\n\r\n", decoded: 5, want: "hello"},
		{name: "upper-case hex", body: "A\r\n0123456789\r\n0\r\n\r\n", decoded: -1, want: "0123456789"},
		{name: "empty body, empty object", body: "", decoded: 0, want: ""},
		{name: "empty body, object expected", body: "", decoded: 3, wantErr: "chunk 1: body ended before a complete size line"},
		{name: "decoded length short", body: "5\r\nhello\r\n0\r\n\r\n", decoded: 6, wantErr: "chunks hold 5 bytes; x-amz-decoded-content-length says 6"},
		{name: "long size line", body: strings.Repeat("0", 300) + "\r\n", decoded: -1, wantErr: "longer than 256 bytes"},
		{name: "empty size line", body: "\r\n", decoded: -1, wantErr: `chunk 1: size line "" is not hex`},
		{name: "too much trailer", body: "0\r\n" + strings.Repeat("a:b\r\n", 5000), decoded: -1, wantErr: "more than 16384 bytes follow"},
		{name: "too many trailers", body: "0\r\n" + strings.Repeat("a:b\r\n", 40), decoded: -1, wantErr: "more than 32 trailers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := make(http.Header)
			c := newChunkedReader(io.NopCloser(strings.NewReader(tc.body)), chunkedConfig{
				trailer: true, decoded: tc.decoded, declared: tc.declared, out: out,
			})
			got, err := io.ReadAll(c)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrMalformedChunk) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want ErrMalformedChunk containing %q", err, tc.wantErr)
				}
				if _, err2 := c.Read(make([]byte, 1)); err2 != err {
					t.Errorf("second Read returned %v, want the same error", err2)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
