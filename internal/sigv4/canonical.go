package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Names and constants of AWS Signature Version 4 as S3 uses it.
const (
	algorithm      = "AWS4-HMAC-SHA256"
	iso8601Basic   = "20060102T150405Z"
	scopeDate      = "20060102"
	scopeTerminal  = "aws4_request"
	serviceS3      = "s3"
	emptySHA256    = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	maxPresignSecs = 7 * 24 * 60 * 60
)

// Values of x-amz-content-sha256 other than a hex SHA-256 of the payload.
const (
	// UnsignedPayload: the payload is not part of the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// StreamingPayload: aws-chunked, each chunk signed.
	StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingPayloadTrailer: aws-chunked, each chunk and the trailing
	// headers signed.
	StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedTrailer: aws-chunked without signatures, with
	// trailing headers (a checksum); aws-sdk-go-v2's PutObject over HTTPS.
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// isUnreserved reports whether c is left as is by AWS URI encoding: the
// RFC 3986 §2.3 unreserved set.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// uriEncode appends s to b encoded as SigV4 requires: every byte outside
// the unreserved set as %XX with upper-case hex, a space as %20 (never
// '+'), and '/' kept only when keepSlash is set (the path).
func uriEncode(b *strings.Builder, s string, keepSlash bool) {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
}

// EncodePath returns an object path encoded the way S3 signs it: the
// decoded path, each byte outside the unreserved set percent-encoded, '/'
// kept. S3 encodes the path once (other AWS services encode it twice) and
// does not normalise "." or ".." segments or repeated slashes.
func EncodePath(path string) string {
	if path == "" {
		return "/"
	}
	var b strings.Builder
	b.Grow(len(path) + len(path)/4)
	uriEncode(&b, path, true)
	return b.String()
}

// canonicalURIs returns the canonical URI of r and, when it differs, the
// path exactly as it was sent. S3 re-encodes the decoded path (what the AWS
// SDKs and minio-go sign); a client that signs a path it sent with, say, an
// unencoded '!' or '$' signs the wire form instead, so that is tried second.
func canonicalURIs(r *http.Request) (primary, asSent string) {
	primary = EncodePath(r.URL.Path)
	asSent = r.URL.EscapedPath()
	if r.RequestURI != "" && r.RequestURI != "*" {
		raw := r.RequestURI
		if i := strings.IndexByte(raw, '?'); i >= 0 {
			raw = raw[:i]
		}
		if strings.HasPrefix(raw, "/") {
			asSent = raw
		}
	}
	if asSent == "" {
		asSent = "/"
	}
	if asSent == primary {
		asSent = ""
	}
	return primary, asSent
}

// queryParam is one decoded query parameter.
type queryParam struct{ key, value string }

// parseQuery splits a raw query string on '&' (never ';') and decodes each
// key and value, '+' as a space as url.ParseQuery does. Unlike url.Values
// it keeps the parameters in order and reports the first bad escape.
func parseQuery(raw string) ([]queryParam, error) {
	var params []queryParam
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, malformed("query parameter %q: %v", truncate(k), err)
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, malformed("query parameter %q: %v", truncate(k), err)
		}
		params = append(params, queryParam{key, value})
	}
	return params, nil
}

// canonicalQuery builds the canonical query string: every parameter (but
// the one named skip, X-Amz-Signature for presigned URLs) with key and value
// URI-encoded, sorted by encoded key and then value, joined with '&'; a
// parameter without a value gets "key=".
func canonicalQuery(params []queryParam, skip string) string {
	enc := make([]queryParam, 0, len(params))
	for _, p := range params {
		if skip != "" && p.key == skip {
			continue
		}
		var k, v strings.Builder
		uriEncode(&k, p.key, false)
		uriEncode(&v, p.value, false)
		enc = append(enc, queryParam{k.String(), v.String()})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// trimAll trims leading and trailing spaces and collapses runs of spaces
// into one, as the SigV4 canonical header value requires (and as
// aws-sdk-go-v2 does it: spaces only).
func trimAll(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// headerValues returns the values of the signed header name (lower case)
// as received. Go's server moves some headers out of r.Header; they are
// rebuilt from the request's fields.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		return []string{r.Host}
	}
	vals := r.Header.Values(name)
	if len(vals) > 0 {
		return vals
	}
	switch name {
	case "content-length":
		if r.ContentLength > 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
	}
	return nil
}

// canonicalHeaders builds "name:value\n" for each signed header in the
// order given, joining repeated headers' values with ','.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range headerValues(r, name) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimAll(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// canonicalRequest joins the parts of the canonical request.
func canonicalRequest(method, uri, query, headers string, signed []string, payloadHash string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" +
		strings.Join(signed, ";") + "\n" + payloadHash
}

// stringToSign builds the string to sign for a request.
func stringToSign(amzDate, scope, canonical string) string {
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
}

// signingKey derives the key for one day, region and service.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerminal)
}

// signature is the hex HMAC-SHA256 of sts under key.
func signature(key []byte, sts string) string {
	return hex.EncodeToString(hmacSHA256(key, sts))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sigEqual compares two hex signatures in constant time.
func sigEqual(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
