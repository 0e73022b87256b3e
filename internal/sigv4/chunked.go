package sigv4

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Limits of the aws-chunked decoder. The payload itself streams through
// without being buffered; only framing lines and the trailer are held.
const (
	chunkBufSize    = 16 << 10 // bufio buffer under the decoder
	maxSizeLine     = 256      // "hex;chunk-signature=<64 hex>" is 17+64+16
	maxTrailerBytes = 16 << 10 // the trailer section after the last chunk
	maxTrailers     = 32
	chunkSigPrefix  = "chunk-signature="
	trailerSigName  = "x-amz-trailer-signature"
)

// chunkedConfig says how to decode one aws-chunked payload.
type chunkedConfig struct {
	signed   bool // each chunk carries ;chunk-signature=
	trailer  bool // trailing headers follow the last chunk
	signer   streamSigner
	decoded  int64    // x-amz-decoded-content-length, or -1
	declared []string // x-amz-trailer names, lower case
	out      http.Header
}

// chunkedReader decodes an aws-chunked payload as it is read:
//
//	hex-size[;chunk-signature=sig]\r\n
//	data\r\n
//	...
//	0[;chunk-signature=sig]\r\n
//	[name:value\r\n ... [x-amz-trailer-signature:sig\r\n]]
//	\r\n
//
// Chunk data goes to the caller as it arrives, hashed on the way; a chunk's
// signature is checked when its data ends, before anything after it is
// returned, and io.EOF comes only after the last chunk and the trailer are
// verified. Memory is bounded by the bufio buffer whatever the chunk size.
type chunkedReader struct {
	chunkedConfig
	body io.ReadCloser
	br   *bufio.Reader
	h    hash.Hash

	prevSig string // the signature the next one chains from
	chunk   int    // number of the current chunk, from 1
	inData  bool   // reading a chunk's data
	left    int64  // data bytes of the current chunk still to read
	wantSig string // the current chunk's signature as sent
	total   int64  // decoded bytes so far
	err     error  // sticky: io.EOF after the end, or the first failure
}

func newChunkedReader(body io.ReadCloser, cfg chunkedConfig) *chunkedReader {
	return &chunkedReader{
		chunkedConfig: cfg,
		body:          body,
		br:            bufio.NewReaderSize(body, chunkBufSize),
		h:             sha256.New(),
		prevSig:       cfg.signer.seed,
	}
}

// Read implements io.Reader.
func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for !c.inData || c.left == 0 {
		if c.inData {
			if err := c.endChunk(); err != nil {
				return 0, c.fail(err)
			}
		}
		last, err := c.nextChunk()
		if err != nil {
			return 0, c.fail(err)
		}
		if last {
			if err := c.finish(); err != nil {
				return 0, c.fail(err)
			}
			c.err = io.EOF
			return 0, io.EOF
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	if c.signed {
		c.h.Write(p[:n])
	}
	c.left -= int64(n)
	c.total += int64(n)
	if err != nil && n == 0 {
		if err == io.EOF {
			return 0, c.fail(fmt.Errorf("%w: chunk %d: body ended with %d bytes of the chunk's data missing: %w",
				ErrMalformedChunk, c.chunk, c.left, io.ErrUnexpectedEOF))
		}
		return 0, c.fail(err)
	}
	return n, nil
}

// Close closes the request body.
func (c *chunkedReader) Close() error { return c.body.Close() }

func (c *chunkedReader) fail(err error) error {
	c.err = err
	return err
}

// nextChunk reads a size line; last reports the final, empty chunk.
func (c *chunkedReader) nextChunk() (last bool, err error) {
	c.chunk++
	line, err := c.readLine()
	if err != nil {
		if c.chunk == 1 && c.decoded == 0 && errors.Is(err, io.ErrUnexpectedEOF) && line == "" {
			// An empty object sent with no framing at all: nothing to verify.
			return true, c.checkDecodedLength()
		}
		return false, err
	}
	sizeHex, ext, hasExt := strings.Cut(line, ";")
	if !isHex(sizeHex) {
		return false, chunkErr("chunk %d: size line %q is not hex", c.chunk, truncate(line))
	}
	if len(sizeHex) > 15 {
		return false, chunkErr("chunk %d: size %s is too large", c.chunk, truncate(sizeHex))
	}
	size, _ := strconv.ParseInt(sizeHex, 16, 64)
	if c.signed {
		sig, ok := strings.CutPrefix(ext, chunkSigPrefix)
		if !hasExt || !ok {
			return false, chunkErr("chunk %d: size line %q has no chunk-signature", c.chunk, truncate(line))
		}
		if !isSignature(sig) {
			return false, chunkErr("chunk %d: chunk-signature %q is not 64 lower-case hex digits", c.chunk, truncate(sig))
		}
		c.wantSig = sig
	} else if hasExt {
		return false, chunkErr("chunk %d: size line %q has an extension; x-amz-content-sha256 says chunks are unsigned", c.chunk, truncate(line))
	}
	if c.decoded >= 0 && size > c.decoded-c.total {
		return false, chunkErr("chunk %d: size %d goes past x-amz-decoded-content-length %d (%d bytes already)",
			c.chunk, size, c.decoded, c.total)
	}
	if size == 0 {
		if c.signed {
			if err := c.checkChunkSignature(emptySHA256); err != nil {
				return false, err
			}
		}
		return true, c.checkDecodedLength()
	}
	c.h.Reset()
	c.inData, c.left = true, size
	return false, nil
}

// endChunk reads the CRLF after a chunk's data and checks its signature.
func (c *chunkedReader) endChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w: chunk %d: body ended before the CRLF after the chunk's data: %w",
				ErrMalformedChunk, c.chunk, io.ErrUnexpectedEOF)
		}
		return err
	}
	if crlf != [2]byte{'\r', '\n'} {
		return chunkErr("chunk %d: data is followed by %q, not CRLF (chunk shorter or longer than its size line says?)", c.chunk, crlf[:])
	}
	c.inData = false
	if c.signed {
		return c.checkChunkSignature(hex.EncodeToString(c.h.Sum(nil)))
	}
	return nil
}

// checkChunkSignature compares the current chunk's signature with the one
// computed from the previous signature and the chunk's hash.
func (c *chunkedReader) checkChunkSignature(chunkSHA256 string) error {
	sts := c.signer.chunkStringToSign(c.prevSig, chunkSHA256)
	if !sigEqual(signature(c.signer.key, sts), c.wantSig) {
		return &SignatureError{
			err:          ErrChunkSignature,
			accessKey:    c.signer.accessKey,
			provided:     c.wantSig,
			stringToSign: sts,
			where:        fmt.Sprintf("chunk %d", c.chunk),
		}
	}
	c.prevSig = c.wantSig
	return nil
}

func (c *chunkedReader) checkDecodedLength() error {
	if c.decoded >= 0 && c.total != c.decoded {
		return chunkErr("chunks hold %d bytes; x-amz-decoded-content-length says %d", c.total, c.decoded)
	}
	return nil
}

// readLine reads one CRLF-terminated framing line without the CRLF.
func (c *chunkedReader) readLine() (string, error) {
	b, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull || len(b) > maxSizeLine:
		return "", chunkErr("chunk %d: size line %q... is longer than %d bytes", c.chunk, truncate(string(b)), maxSizeLine)
	case err == io.EOF:
		return string(b), fmt.Errorf("%w: chunk %d: body ended before a complete size line (got %q): %w",
			ErrMalformedChunk, c.chunk, truncate(string(b)), io.ErrUnexpectedEOF)
	case err != nil:
		return "", err
	}
	line, ok := strings.CutSuffix(string(b), "\r\n")
	if !ok {
		return "", chunkErr("chunk %d: size line %q ends in a bare LF, not CRLF", c.chunk, truncate(string(b)))
	}
	return line, nil
}

// finish reads what follows the final chunk: nothing but line ends, or
// trailing headers (and their signature) when x-amz-content-sha256 says so.
// S3 clients differ in line ends there (the SDKs send CRLF; minio-go ends
// trailer lines in LF and puts an empty line before the signature), so
// lines may end in LF or CRLF and empty lines are skipped.
func (c *chunkedReader) finish() error {
	rest, err := io.ReadAll(io.LimitReader(c.br, maxTrailerBytes+1))
	if err != nil {
		return err
	}
	if len(rest) > maxTrailerBytes {
		return chunkErr("more than %d bytes follow the final chunk", maxTrailerBytes)
	}
	got := make(http.Header)
	var canon strings.Builder
	var trailerSig string
	sigSeen := false
	n := 0
	for _, line := range strings.Split(string(rest), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if !c.trailer {
			return chunkErr("%q follows the final chunk, but x-amz-content-sha256 declares no trailer", truncate(line))
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(name)
		if !ok || !isLowerToken(name) {
			return chunkErr("trailer line %q is not name:value", truncate(line))
		}
		if sigSeen {
			return chunkErr("trailer %q follows %s", truncate(name), trailerSigName)
		}
		if name == trailerSigName {
			if !c.signed {
				return chunkErr("%s in an unsigned payload", trailerSigName)
			}
			sigSeen, trailerSig = true, strings.TrimSpace(value)
			continue
		}
		if n++; n > maxTrailers {
			return chunkErr("more than %d trailers", maxTrailers)
		}
		canon.WriteString(name + ":" + value + "\n")
		got.Add(name, strings.TrimSpace(value))
	}
	if c.trailer && c.signed {
		if !sigSeen {
			return chunkErr("trailer has no %s", trailerSigName)
		}
		sts := c.signer.trailerStringToSign(c.prevSig, sha256Hex([]byte(canon.String())))
		if !sigEqual(signature(c.signer.key, sts), trailerSig) {
			return &SignatureError{
				err:          ErrChunkSignature,
				accessKey:    c.signer.accessKey,
				provided:     trailerSig,
				stringToSign: sts,
				where:        "trailer",
			}
		}
	}
	for _, name := range c.declared {
		if got.Get(name) == "" {
			return chunkErr("trailer %q named in x-amz-trailer is missing", truncate(name))
		}
	}
	for k, v := range got {
		c.out[k] = v
	}
	return nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
