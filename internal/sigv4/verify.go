package sigv4

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Verifier checks signatures. Its zero value is not usable: set Lookup.
type Verifier struct {
	// Lookup returns the secret key for an access key.
	Lookup func(accessKey string) (secret string, ok bool)
	// Region, when not empty, is the only region accepted in the scope.
	Region string
	// MaxSkew bounds |now - X-Amz-Date| for header-signed requests.
	// If zero, 15 minutes is used.
	MaxSkew time.Duration
}

// Result is what a verified request carries.
type Result struct {
	AccessKey string
	// Anonymous is true for an unsigned request (no Authorization header
	// and no X-Amz-Signature query parameter); Verify then returns no error
	// and the caller decides whether anonymous access is allowed.
	Anonymous bool
	// Body is the request payload to read in place of r.Body: aws-chunked
	// framing removed and every chunk signature verified as it is read, or
	// the payload hashed and checked against x-amz-content-sha256 at EOF.
	// A verification failure surfaces as a read error wrapping one of the
	// sentinels above, before the final bytes are returned as valid (EOF).
	Body io.ReadCloser
	// DecodedLength is x-amz-decoded-content-length for aws-chunked bodies,
	// r.ContentLength otherwise (-1 when unknown).
	DecodedLength int64
	// Trailer holds trailing headers of an aws-chunked body (for example
	// x-amz-checksum-crc32), valid after Body returned io.EOF.
	Trailer http.Header

	// Presigned is true when the signature came in the query string.
	Presigned bool
	// PayloadHash is the request's x-amz-content-sha256 as signed: a hex
	// SHA-256, UNSIGNED-PAYLOAD or one of the STREAMING-* values.
	PayloadHash string
	// Region is the region of the credential scope.
	Region string
}

// signedRequest is what the header and query forms have in common once
// parsed.
type signedRequest struct {
	authorization
	amzDate     string    // ISO 8601 basic, as it goes in the string to sign
	t           time.Time // amzDate parsed
	payloadHash string
	presigned   bool
	expires     time.Duration // presigned only
	skipParam   string        // query parameter left out of the canonical query
}

// Verify checks r's signature at time now and returns the request's
// identity and payload reader.
func (v *Verifier) Verify(r *http.Request, now time.Time) (*Result, error) {
	auths := r.Header.Values("Authorization")
	params, qerr := parseQuery(r.URL.RawQuery)
	presigned := qerr == nil && (hasParam(params, "X-Amz-Signature") ||
		hasParam(params, "X-Amz-Algorithm") || hasParam(params, "X-Amz-Credential"))
	if qerr != nil && strings.Contains(r.URL.RawQuery, "X-Amz-") {
		return nil, qerr
	}

	var sr signedRequest
	var err error
	switch {
	case len(auths) > 1:
		return nil, malformed("request has %d Authorization headers", len(auths))
	case len(auths) == 1 && presigned:
		return nil, malformed("request is signed both in the Authorization header and in the query string; use one")
	case len(auths) == 1:
		sr, err = parseHeaderAuth(r, auths[0])
	case presigned:
		sr, err = parsePresigned(r.Header, params)
	case qerr == nil && hasParam(params, "AWSAccessKeyId") && hasParam(params, "Signature"):
		return nil, errorsf(ErrUnsupportedSigning, "presigned URL uses Signature Version 2; use AWS4-HMAC-SHA256")
	default:
		body := r.Body
		if body == nil {
			body = http.NoBody
		}
		return &Result{Anonymous: true, Body: body, DecodedLength: r.ContentLength}, nil
	}
	if err != nil {
		return nil, err
	}
	if qerr != nil {
		return nil, qerr
	}

	if sr.date != sr.t.Format(scopeDate) {
		return nil, malformed("credential date %s is not the day of the request time %s", sr.date, sr.amzDate)
	}
	var secret string
	ok := false
	if v.Lookup != nil {
		secret, ok = v.Lookup(sr.accessKey)
	}
	if !ok {
		return nil, errorsf(ErrUnknownAccessKey, "access key %q", truncate(sr.accessKey))
	}
	if v.Region != "" && sr.region != v.Region {
		return nil, malformed("the region %q is wrong; expecting %q", truncate(sr.region), v.Region)
	}
	if err := v.checkTime(sr, now); err != nil {
		return nil, err
	}
	mode, err := payloadMode(sr.payloadHash)
	if err != nil {
		return nil, err
	}

	key := signingKey(secret, sr.date, sr.region, serviceS3)
	if err := checkSignature(r, params, sr, key); err != nil {
		return nil, err
	}

	res := &Result{
		AccessKey:     sr.accessKey,
		Presigned:     sr.presigned,
		PayloadHash:   sr.payloadHash,
		Region:        sr.region,
		DecodedLength: r.ContentLength,
	}
	if err := attachBody(r, res, mode, streamSigner{
		accessKey: sr.accessKey,
		key:       key,
		amzDate:   sr.amzDate,
		scope:     sr.scope(),
		seed:      sr.signature,
	}); err != nil {
		return nil, err
	}
	return res, nil
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return 15 * time.Minute
}

// checkTime applies the clock rules: a header-signed request must be within
// MaxSkew of now; a presigned URL is good from its date (less MaxSkew, for
// clocks running slow) until its date plus X-Amz-Expires.
func (v *Verifier) checkTime(sr signedRequest, now time.Time) error {
	skew := v.maxSkew()
	if sr.presigned {
		if sr.t.Sub(now) > skew {
			return errorsf(ErrTimeSkewed, "presigned URL is not valid until %s; server time is %s",
				sr.t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		if end := sr.t.Add(sr.expires); now.After(end) {
			return errorsf(ErrRequestExpired, "presigned URL expired at %s (signed at %s for %s); server time is %s",
				end.UTC().Format(time.RFC3339), sr.t.UTC().Format(time.RFC3339), sr.expires, now.UTC().Format(time.RFC3339))
		}
		return nil
	}
	d := now.Sub(sr.t)
	if d < 0 {
		d = -d
	}
	if d > skew {
		return errorsf(ErrTimeSkewed, "request time %s differs from server time %s by %s (at most %s allowed)",
			sr.t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), d.Round(time.Second), skew)
	}
	return nil
}

// checkSignature builds the canonical request and compares signatures.
func checkSignature(r *http.Request, params []queryParam, sr signedRequest, key []byte) error {
	query := canonicalQuery(params, sr.skipParam)
	headers := canonicalHeaders(r, sr.signedHeaders)
	primary, asSent := canonicalURIs(r)
	creq := canonicalRequest(r.Method, primary, query, headers, sr.signedHeaders, sr.payloadHash)
	sts := stringToSign(sr.amzDate, sr.scope(), creq)
	if sigEqual(signature(key, sts), sr.signature) {
		return nil
	}
	if asSent != "" {
		alt := canonicalRequest(r.Method, asSent, query, headers, sr.signedHeaders, sr.payloadHash)
		if sigEqual(signature(key, stringToSign(sr.amzDate, sr.scope(), alt)), sr.signature) {
			return nil
		}
	}
	return &SignatureError{
		err:              ErrSignatureMismatch,
		accessKey:        sr.accessKey,
		provided:         sr.signature,
		stringToSign:     sts,
		canonicalRequest: creq,
		where:            "request",
	}
}

// parseHeaderAuth reads the Authorization header form.
func parseHeaderAuth(r *http.Request, h string) (signedRequest, error) {
	a, err := parseAuthorization(h)
	if err != nil {
		return signedRequest{}, err
	}
	sr := signedRequest{authorization: a}
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		t, err := time.Parse(iso8601Basic, d)
		if err != nil {
			return signedRequest{}, malformed("X-Amz-Date %q is not yyyymmddThhmmssZ", truncate(d))
		}
		sr.t, sr.amzDate = t, d
	} else if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return signedRequest{}, malformed("Date %q is not an HTTP date", truncate(d))
		}
		sr.t, sr.amzDate = t.UTC(), t.UTC().Format(iso8601Basic)
	} else {
		return signedRequest{}, malformed("request has neither X-Amz-Date nor Date")
	}

	sr.payloadHash = r.Header.Get("X-Amz-Content-Sha256")
	if sr.payloadHash == "" {
		// S3 requires the header; a client that omits it can only have
		// signed the hash of its payload, known here only when it is empty.
		if r.ContentLength != 0 {
			return signedRequest{}, malformed("request has a body but no x-amz-content-sha256")
		}
		sr.payloadHash = emptySHA256
	}
	return sr, nil
}

// hasParam reports whether the query has a parameter named key.
func hasParam(params []queryParam, key string) bool {
	for _, p := range params {
		if p.key == key {
			return true
		}
	}
	return false
}

// payload modes, from x-amz-content-sha256.
type mode int

const (
	modeHash             mode = iota // hex SHA-256 of the payload
	modeUnsigned                     // UNSIGNED-PAYLOAD
	modeStreaming                    // signed chunks
	modeStreamingTrailer             // signed chunks and signed trailer
	modeUnsignedTrailer              // unsigned chunks and trailer
)

// payloadMode classifies an x-amz-content-sha256 value.
func payloadMode(h string) (mode, error) {
	switch h {
	case UnsignedPayload:
		return modeUnsigned, nil
	case StreamingPayload:
		return modeStreaming, nil
	case StreamingPayloadTrailer:
		return modeStreamingTrailer, nil
	case StreamingUnsignedTrailer:
		return modeUnsignedTrailer, nil
	}
	if len(h) == 64 && isLowerHex(strings.ToLower(h)) {
		return modeHash, nil
	}
	if strings.HasPrefix(h, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD") {
		return 0, errorsf(ErrUnsupportedSigning, "x-amz-content-sha256 %s (SigV4a) is not supported", h)
	}
	return 0, malformed("x-amz-content-sha256 %q is not a hex SHA-256, %s, or a STREAMING-* value", truncate(h), UnsignedPayload)
}

// String names the mode as x-amz-content-sha256 does.
func (m mode) String() string {
	switch m {
	case modeHash:
		return "sha256"
	case modeUnsigned:
		return UnsignedPayload
	case modeStreaming:
		return StreamingPayload
	case modeStreamingTrailer:
		return StreamingPayloadTrailer
	case modeUnsignedTrailer:
		return StreamingUnsignedTrailer
	}
	return fmt.Sprintf("mode(%d)", int(m))
}
