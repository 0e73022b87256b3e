package sigv4

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// fuzzSigner is a fixed signing context for the decoder fuzzers.
var fuzzSigner = streamSigner{
	key:     signingKey(testSecret, "20250301", testRegion, serviceS3),
	amzDate: "20250301T120000Z",
	scope:   "20250301/us-east-1/s3/aws4_request",
	seed:    strings.Repeat("5e", 32),
}

// FuzzChunkedDecoder feeds arbitrary bytes to the aws-chunked decoder: it
// must never panic, never return more bytes than it was given, and only
// succeed with exactly the declared decoded length and the declared
// trailers.
func FuzzChunkedDecoder(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, signed, trailer bool, decoded int64, declared string) {
		if decoded < -1 {
			decoded = -1
		}
		var names []string
		if declared != "" {
			names = strings.Split(strings.ToLower(declared), ",")
		}
		out := make(http.Header)
		c := newChunkedReader(io.NopCloser(bytes.NewReader(data)), chunkedConfig{
			signed: signed, trailer: trailer, signer: fuzzSigner,
			decoded: decoded, declared: names, out: out,
		})
		got, err := io.ReadAll(io.LimitReader(c, int64(len(data))+1))
		if len(got) > len(data) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(data))
		}
		if err != nil {
			if !errors.Is(err, ErrMalformedChunk) && !errors.Is(err, ErrChunkSignature) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if len(out) != 0 {
				t.Fatalf("trailers %v exposed after an error", out)
			}
			return
		}
		if decoded >= 0 && int64(len(got)) != decoded {
			t.Fatalf("decoded %d bytes, declared %d", len(got), decoded)
		}
		for _, n := range names {
			if out.Get(strings.TrimSpace(n)) == "" && strings.TrimSpace(n) != "" {
				t.Fatalf("declared trailer %q missing after success", n)
			}
		}
	})
}

// FuzzChunkedRoundTrip frames any payload as SignChunked does and decodes
// it back, with and without signatures and trailers.
func FuzzChunkedRoundTrip(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte, chunkSize uint16, unsigned bool, trailerValue string) {
		opt := ChunkedUpload{ChunkSize: int(chunkSize%4096) + 1, Unsigned: unsigned}
		var names []string
		tv := strings.TrimSpace(trailerValue)
		if tv != "" && !strings.ContainsAny(tv, "\r\n") && len(tv) < 1000 {
			opt.Trailer = http.Header{"X-Amz-Checksum-Crc32": {tv}}
			names = []string{"x-amz-checksum-crc32"}
		}
		framed := frameChunks(payload, opt.ChunkSize, opt, names, fuzzSigner)
		out := make(http.Header)
		c := newChunkedReader(io.NopCloser(bytes.NewReader(framed)), chunkedConfig{
			signed: !unsigned, trailer: len(names) > 0 || unsigned, signer: fuzzSigner,
			decoded: int64(len(payload)), declared: names, out: out,
		})
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("decode: %v\nframed: %q", err, framed)
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("decoded %q, want %q", got, payload)
		}
		if len(names) > 0 && out.Get(names[0]) != tv {
			t.Fatalf("trailer %q, want %q", out.Get(names[0]), tv)
		}
	})
}

// FuzzParseAuthorization checks the Authorization parser never panics and
// that what it accepts survives being written out and parsed again.
func FuzzParseAuthorization(f *testing.F) {
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrMalformedAuth) && !errors.Is(err, ErrUnsupportedSigning) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		again := algorithm + " Credential=" + a.accessKey + "/" + a.scope() +
			", SignedHeaders=" + strings.Join(a.signedHeaders, ";") + ", Signature=" + a.signature
		b, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("reparse of %q: %v", again, err)
		}
		if b.accessKey != a.accessKey || b.scope() != a.scope() || b.signature != a.signature ||
			strings.Join(b.signedHeaders, ";") != strings.Join(a.signedHeaders, ";") {
			t.Fatalf("reparse changed %+v into %+v", a, b)
		}
	})
}

// FuzzCanonicalQuery checks that canonicalising a query is idempotent: the
// canonical form parses back to itself, as a client that sends the
// canonical query (the SDKs do) relies on.
func FuzzCanonicalQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		params, err := parseQuery(raw)
		if err != nil {
			return
		}
		c1 := canonicalQuery(params, "")
		params2, err := parseQuery(c1)
		if err != nil {
			t.Fatalf("canonical query %q does not parse: %v", c1, err)
		}
		if c2 := canonicalQuery(params2, ""); c2 != c1 {
			t.Fatalf("not idempotent: %q -> %q", c1, c2)
		}
	})
}
