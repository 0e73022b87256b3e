package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// attachBody sets res.Body (and, for aws-chunked, DecodedLength and
// Trailer) to read r's payload as x-amz-content-sha256 says it is sent.
func attachBody(r *http.Request, res *Result, m mode, s streamSigner) error {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	switch m {
	case modeUnsigned:
		res.Body = body
		return nil
	case modeHash:
		res.Body = &hashReader{body: body, h: sha256.New(), want: strings.ToLower(res.PayloadHash)}
		return nil
	}

	decoded := int64(-1)
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return chunkErr("x-amz-decoded-content-length %q is not a length", truncate(v))
		}
		decoded = n
	}
	var declared []string
	for _, v := range r.Header.Values("X-Amz-Trailer") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				declared = append(declared, name)
			}
		}
	}
	res.DecodedLength = decoded
	res.Trailer = make(http.Header)
	res.Body = newChunkedReader(body, chunkedConfig{
		signed:   m == modeStreaming || m == modeStreamingTrailer,
		trailer:  m == modeStreamingTrailer || m == modeUnsignedTrailer,
		signer:   s,
		decoded:  decoded,
		declared: declared,
		out:      res.Trailer,
	})
	return nil
}

// hashReader passes a payload through and checks its SHA-256 against
// x-amz-content-sha256 when the payload ends: on a mismatch the final read
// returns an error wrapping ErrContentSHA256 in place of io.EOF.
type hashReader struct {
	body io.ReadCloser
	h    hash.Hash
	want string // lower-case hex
	err  error  // sticky: io.EOF once verified, or the mismatch
}

// Read implements io.Reader.
func (hr *hashReader) Read(p []byte) (int, error) {
	if hr.err != nil {
		return 0, hr.err
	}
	n, err := hr.body.Read(p)
	hr.h.Write(p[:n])
	if err == io.EOF {
		got := hex.EncodeToString(hr.h.Sum(nil))
		if got != hr.want {
			hr.err = errorsf(ErrContentSHA256, "payload SHA-256 is %s; x-amz-content-sha256 says %s", got, hr.want)
			return n, hr.err
		}
		hr.err = io.EOF
	}
	return n, err
}

// Close closes the request body.
func (hr *hashReader) Close() error { return hr.body.Close() }

// streamSigner computes the signatures of an aws-chunked payload: each
// chunk's signature chains from the previous one, the first from the
// request's own (seed) signature.
type streamSigner struct {
	accessKey string // for error reports
	key       []byte
	amzDate   string
	scope     string
	seed      string
}

// chunkStringToSign is the string to sign for one chunk (AWS "Transferring
// payload in multiple chunks"): the empty-string hash stands for the chunk
// headers, which S3 does not use.
func (s streamSigner) chunkStringToSign(prev, chunkSHA256 string) string {
	return "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" +
		prev + "\n" + emptySHA256 + "\n" + chunkSHA256
}

// trailerStringToSign is the string to sign for the trailing headers,
// hashed as "name:value\n" each.
func (s streamSigner) trailerStringToSign(prev, trailerSHA256 string) string {
	return "AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope + "\n" +
		prev + "\n" + trailerSHA256
}
