package sigv4

import (
	"errors"
	"fmt"
)

// Sentinel errors; s3api maps them to S3 error codes (named in comments).
// Every error Verify or a Result's Body returns wraps exactly one of them
// (a Body may also return the underlying connection's read error as is).
var (
	ErrMissingAuth        = errors.New("request is not signed")                           // AccessDenied
	ErrMalformedAuth      = errors.New("authorization is malformed")                      // AuthorizationHeaderMalformed / AuthorizationQueryParametersError
	ErrUnknownAccessKey   = errors.New("access key does not exist")                       // InvalidAccessKeyId
	ErrSignatureMismatch  = errors.New("signature does not match")                        // SignatureDoesNotMatch
	ErrRequestExpired     = errors.New("request has expired")                             // AccessDenied "Request has expired"
	ErrTimeSkewed         = errors.New("request time is too far from the server's time")  // RequestTimeTooSkewed
	ErrContentSHA256      = errors.New("x-amz-content-sha256 does not match the payload") // XAmzContentSHA256Mismatch
	ErrMalformedChunk     = errors.New("aws-chunked payload is malformed")                // IncompleteBody / InvalidRequest
	ErrChunkSignature     = errors.New("chunk signature does not match")                  // SignatureDoesNotMatch
	ErrUnsupportedSigning = errors.New("signature version or algorithm is not supported") // NotImplemented / InvalidRequest
)

// SignatureError is the error for a signature that does not match. It
// wraps ErrSignatureMismatch (the request's signature) or ErrChunkSignature
// (an aws-chunked chunk or trailer signature) and carries what S3 puts in
// its SignatureDoesNotMatch error body, so a client can find its signing
// mistake by comparing with what it signed. It never carries the signature
// the server calculated: that would hand out valid signatures.
type SignatureError struct {
	err              error
	accessKey        string
	provided         string
	stringToSign     string
	canonicalRequest string
	where            string
}

// Error says which signature failed and shows the string to sign.
func (e *SignatureError) Error() string {
	return fmt.Sprintf("%v: %s signed with access key %q; provided signature %s; string to sign %q",
		e.err, e.where, e.accessKey, e.provided, e.stringToSign)
}

// Unwrap returns ErrSignatureMismatch or ErrChunkSignature.
func (e *SignatureError) Unwrap() error { return e.err }

// AccessKey is the access key the request named.
func (e *SignatureError) AccessKey() string { return e.accessKey }

// SignatureProvided is the signature the request carried.
func (e *SignatureError) SignatureProvided() string { return e.provided }

// StringToSign is the string the server signed to compare signatures.
func (e *SignatureError) StringToSign() string { return e.stringToSign }

// CanonicalRequest is the canonical request the server built from the
// request as received; empty for a chunk or trailer signature, whose string
// to sign has no canonical request.
func (e *SignatureError) CanonicalRequest() string { return e.canonicalRequest }

// Where names the failed signature: "request", "chunk 3" or "trailer".
func (e *SignatureError) Where() string { return e.where }

// errorsf returns an error wrapping sentinel with a reason.
func errorsf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// malformed returns an error wrapping ErrMalformedAuth with a reason.
func malformed(format string, args ...any) error {
	return errorsf(ErrMalformedAuth, format, args...)
}

// chunkErr returns an error wrapping ErrMalformedChunk with a reason.
func chunkErr(format string, args ...any) error {
	return errorsf(ErrMalformedChunk, format, args...)
}
