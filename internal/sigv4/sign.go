package sigv4

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signing is for tests and tools that need requests a real S3 client would
// send; it agrees with aws-sdk-go-v2's signer as the S3 client uses it.

// ignoredHeaders are never signed, as in aws-sdk-go-v2: they are changed
// by proxies and transports on the way.
var ignoredHeaders = map[string]bool{
	"authorization":     true,
	"user-agent":        true,
	"x-amzn-trace-id":   true,
	"expect":            true,
	"transfer-encoding": true,
}

// SignRequest signs r in place with an Authorization header for S3 in
// region at time now. payloadHash is what goes in x-amz-content-sha256: a
// hex SHA-256 of the body, UNSIGNED-PAYLOAD, or "" for an empty body.
//
// It signs host, content-length (when positive) and every other header
// already set, except those aws-sdk-go-v2 leaves out (User-Agent, Expect,
// ...). It rewrites r.URL's escaped path and query into the canonical
// encoding, so that what is sent is what was signed.
func SignRequest(r *http.Request, accessKey, secret, region string, now time.Time, payloadHash string) {
	signRequest(r, accessKey, secret, region, now, payloadHash, true)
}

func signRequest(r *http.Request, accessKey, secret, region string, now time.Time, payloadHash string, withLength bool) {
	if payloadHash == "" {
		payloadHash = emptySHA256
	}
	now = now.UTC()
	amzDate := now.Format(iso8601Basic)
	r.Header.Set("X-Amz-Date", amzDate)
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	r.Header.Del("Authorization")

	c := credential{accessKey: accessKey, date: now.Format(scopeDate), region: region, service: serviceS3}
	signed, canonHeaders := signingHeaders(r, withLength)
	uri, query := canonicalizeURL(r.URL)
	creq := canonicalRequest(r.Method, uri, query, canonHeaders, signed, payloadHash)
	sig := signature(signingKey(secret, c.date, region, serviceS3), stringToSign(amzDate, c.scope(), creq))
	r.Header.Set("Authorization", algorithm+" Credential="+accessKey+"/"+c.scope()+
		", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
}

// Presign returns a presigned URL for r (its method, URL and headers)
// valid from now for expires, signed with UNSIGNED-PAYLOAD. Headers set on
// r are signed and must be sent with the URL. r is not changed.
func Presign(r *http.Request, accessKey, secret, region string, now time.Time, expires time.Duration) *url.URL {
	now = now.UTC()
	amzDate := now.Format(iso8601Basic)
	c := credential{accessKey: accessKey, date: now.Format(scopeDate), region: region, service: serviceS3}
	signed, canonHeaders := signingHeaders(r, false)

	u := *r.URL
	q := u.Query()
	q.Set(paramAlgorithm, algorithm)
	q.Set(paramCredential, accessKey+"/"+c.scope())
	q.Set(paramDate, amzDate)
	q.Set(paramExpires, strconv.FormatInt(int64(expires/time.Second), 10))
	q.Set(paramSignedHeaders, strings.Join(signed, ";"))
	q.Del(paramSignature)
	u.RawQuery = q.Encode()
	uri, query := canonicalizeURL(&u)
	creq := canonicalRequest(r.Method, uri, query, canonHeaders, signed, UnsignedPayload)
	sig := signature(signingKey(secret, c.date, region, serviceS3), stringToSign(amzDate, c.scope(), creq))
	u.RawQuery = query + "&" + paramSignature + "=" + sig
	return &u
}

// ChunkedUpload says how SignChunked frames a payload.
type ChunkedUpload struct {
	// ChunkSize is the data size of each chunk but the last.
	// If zero, 64 KiB is used (as minio-go does).
	ChunkSize int
	// Trailer, when not empty, is sent after the last chunk (for example
	// x-amz-checksum-crc32) and named in x-amz-trailer.
	Trailer http.Header
	// Unsigned sends STREAMING-UNSIGNED-PAYLOAD-TRAILER (chunks without
	// signatures, as aws-sdk-go-v2 does over HTTPS) in place of
	// STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER].
	Unsigned bool
	// UnsignedLength leaves content-length out of the signed headers, as
	// minio-go does; by default it is signed, as in the AWS example.
	UnsignedLength bool
}

// SignChunked signs r for an aws-chunked upload of payload, as minio-go
// and the AWS SDKs send one, and sets r.Body to the framed payload. It sets
// Content-Encoding, x-amz-decoded-content-length, x-amz-trailer and the
// content length, then signs like SignRequest.
func SignChunked(r *http.Request, payload []byte, accessKey, secret, region string, now time.Time, opt ChunkedUpload) {
	size := opt.ChunkSize
	if size <= 0 {
		size = 64 << 10
	}
	hashValue := StreamingPayload
	switch {
	case opt.Unsigned:
		hashValue = StreamingUnsignedTrailer
	case len(opt.Trailer) > 0:
		hashValue = StreamingPayloadTrailer
	}
	names := sortedTrailerNames(opt.Trailer)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(payload)))
	if len(names) > 0 {
		r.Header.Set("X-Amz-Trailer", strings.Join(names, ","))
	}

	// The framed length must be known (and signed) before the seed
	// signature exists; every signature is 64 characters, so frame once
	// with placeholders to measure.
	placeholder := streamSigner{seed: strings.Repeat("0", 64), key: []byte{0}}
	r.ContentLength = int64(len(frameChunks(payload, size, opt, names, placeholder)))
	r.Header.Del("Content-Length")

	signRequest(r, accessKey, secret, region, now, hashValue, !opt.UnsignedLength)
	a, _ := parseAuthorization(r.Header.Get("Authorization"))
	amzDate := now.UTC().Format(iso8601Basic)
	s := streamSigner{
		key:     signingKey(secret, a.date, region, serviceS3),
		amzDate: amzDate,
		scope:   a.scope(),
		seed:    a.signature,
	}
	body := frameChunks(payload, size, opt, names, s)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// frameChunks writes payload in aws-chunked framing.
func frameChunks(payload []byte, size int, opt ChunkedUpload, names []string, s streamSigner) []byte {
	var b bytes.Buffer
	prev := s.seed
	writeChunk := func(data []byte) {
		b.WriteString(strconv.FormatInt(int64(len(data)), 16))
		if !opt.Unsigned {
			prev = signature(s.key, s.chunkStringToSign(prev, sha256Hex(data)))
			b.WriteString(";" + chunkSigPrefix + prev)
		}
		b.WriteString("\r\n")
		b.Write(data)
		if len(data) > 0 {
			b.WriteString("\r\n")
		}
	}
	for off := 0; off < len(payload); off += size {
		writeChunk(payload[off:min(off+size, len(payload))])
	}
	writeChunk(nil)
	var canon strings.Builder
	for _, name := range names {
		canon.WriteString(name + ":" + opt.Trailer.Get(name) + "\n")
		b.WriteString(name + ":" + opt.Trailer.Get(name) + "\r\n")
	}
	if len(names) > 0 && !opt.Unsigned {
		sig := signature(s.key, s.trailerStringToSign(prev, sha256Hex([]byte(canon.String()))))
		b.WriteString(trailerSigName + ":" + sig + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func sortedTrailerNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, strings.ToLower(k))
	}
	sort.Strings(names)
	return names
}

// signingHeaders chooses the headers to sign and builds their canonical
// form. withLength adds content-length when the body has a known positive
// length (the header form; aws-sdk-go-v2 does the same).
func signingHeaders(r *http.Request, withLength bool) (signed []string, canonical string) {
	signed = []string{"host"}
	if withLength && r.ContentLength > 0 {
		signed = append(signed, "content-length")
	}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if ignoredHeaders[lk] || lk == "host" || lk == "content-length" {
			continue
		}
		signed = append(signed, lk)
	}
	sort.Strings(signed)
	sr := *r
	if sr.Host == "" {
		sr.Host = r.URL.Host
	}
	return signed, canonicalHeaders(&sr, signed)
}

// canonicalizeURL rewrites u's path and query into their canonical
// encoding and returns both.
func canonicalizeURL(u *url.URL) (uri, query string) {
	uri = EncodePath(u.Path)
	if u.Path != "" {
		u.RawPath = uri
	}
	params, _ := parseQuery(u.RawQuery)
	query = canonicalQuery(params, "")
	u.RawQuery = query
	return uri, query
}
