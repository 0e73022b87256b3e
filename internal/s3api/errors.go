package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/strata-cdn/strata/internal/objstore"
	"github.com/strata-cdn/strata/internal/sigv4"
)

// statusClientClosed marks, in the request log, a request the client gave
// up on (nginx's 499); the client never sees it.
const statusClientClosed = 499

// apiError is an S3 error response: the code, status and message S3 uses,
// plus any extra elements and header fields the error carries.
type apiError struct {
	Code    string
	Status  int
	Message string
	// Extra elements in the <Error> body, in order (for example
	// StringToSign for SignatureDoesNotMatch).
	Extra []xmlElem
	// Header fields to add to the response (for example Content-Range on
	// 416).
	Header http.Header
	// cause is the underlying error, for the log.
	cause error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.Message + ": " + e.cause.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *apiError) Unwrap() error { return e.cause }

// xmlElem is one extra child element of <Error>.
type xmlElem struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

func (e *apiError) with(name, value string) *apiError {
	e.Extra = append(e.Extra, xmlElem{XMLName: xml.Name{Local: name}, Value: value})
	return e
}

func (e *apiError) withCause(err error) *apiError {
	e.cause = err
	return e
}

func errMethodNotAllowed(method, what string) *apiError {
	return newError(http.StatusMethodNotAllowed, "MethodNotAllowed",
		"The specified method %s is not allowed against %s.", method, what)
}

func errNotImplementedSub(sub, method string) *apiError {
	return newError(http.StatusNotImplemented, "NotImplemented",
		"The ?%s subresource (%s) is not implemented by Strata.", sub, method)
}

func errInvalidArgument(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "InvalidArgument", format, args...)
}

func errMalformedXML(cause error) *apiError {
	return newError(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema.").withCause(cause)
}

var errAccessDenied = newError(http.StatusForbidden, "AccessDenied", "Access Denied")

// checksumMismatch is returned by the checksum-verifying reader when a
// declared x-amz-checksum-* value does not match the data; toAPIError maps
// it (also when the store wraps it) to BadDigest.
type checksumMismatch struct{ algorithm string }

func (e *checksumMismatch) Error() string {
	return fmt.Sprintf("the x-amz-checksum-%s you specified did not match the calculated checksum", e.algorithm)
}

// toAPIError maps any error to the S3 error to send. This is the one place
// that turns engine, signature and body errors into S3 codes.
func (req *request) toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var cm *checksumMismatch
	if errors.As(err, &cm) {
		return newError(http.StatusBadRequest, "BadDigest",
			"The x-amz-checksum-%s you specified did not match the calculated checksum of the data received.", cm.algorithm).withCause(err)
	}
	var tl *objstore.TooLargeError
	if errors.As(err, &tl) {
		return req.entityTooLarge(tl).withCause(err)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return newError(http.StatusBadRequest, "EntityTooLarge",
			"The request body exceeds the limit of %d bytes for this request on node %s.", mbe.Limit, req.h.NodeID).withCause(err)
	}
	if e := versionError(err); e != nil {
		return e.withCause(err)
	}
	if e := storeError(err); e != nil {
		return e.withCause(err)
	}
	if e := req.sigv4Error(err); e != nil {
		return e.withCause(err)
	}
	switch {
	case errors.Is(err, context.Canceled):
		// The client went away; the response is not seen by anyone.
		return newError(statusClientClosed, "RequestCanceled", "The client closed the request.").withCause(err)
	case errors.Is(err, context.DeadlineExceeded):
		return newError(http.StatusServiceUnavailable, "SlowDown",
			"The request took too long on node %s; please retry.", req.h.NodeID).withCause(err)
	}
	return newError(http.StatusInternalServerError, "InternalError",
		"We encountered an internal error on node %s. Please try again; quote request id %s if it persists.", req.h.NodeID, req.id).withCause(err)
}

func (req *request) entityTooLarge(tl *objstore.TooLargeError) *apiError {
	size := req.declaredSize()
	what := tl.What
	if what == "" {
		what = "object"
	}
	if size >= 0 {
		return newError(http.StatusBadRequest, "EntityTooLarge",
			"Your proposed upload of %d bytes exceeds the maximum allowed %s size of %d bytes on node %s.",
			size, what, tl.Limit, req.h.NodeID).
			with("ProposedSize", strconv.FormatInt(size, 10)).
			with("MaxSizeAllowed", strconv.FormatInt(tl.Limit, 10))
	}
	return newError(http.StatusBadRequest, "EntityTooLarge",
		"Your upload exceeds the maximum allowed %s size of %d bytes on node %s.", what, tl.Limit, req.h.NodeID).
		with("MaxSizeAllowed", strconv.FormatInt(tl.Limit, 10))
}

// storeError maps objstore sentinels.
func storeError(err error) *apiError {
	switch {
	case errors.Is(err, objstore.ErrNoSuchBucket):
		return newError(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
	case errors.Is(err, objstore.ErrBucketExists):
		return newError(http.StatusConflict, "BucketAlreadyOwnedByYou",
			"Your previous request to create the named bucket succeeded and you already own it.")
	case errors.Is(err, objstore.ErrBucketNotEmpty):
		return newError(http.StatusConflict, "BucketNotEmpty",
			"The bucket you tried to delete is not empty; delete its objects and abort its multipart uploads first.")
	case errors.Is(err, objstore.ErrInvalidBucketName):
		return newError(http.StatusBadRequest, "InvalidBucketName",
			"The specified bucket is not valid: use 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.")
	case errors.Is(err, objstore.ErrNoSuchKey):
		return newError(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	case errors.Is(err, objstore.ErrInvalidKey):
		return newError(http.StatusBadRequest, "KeyTooLongError",
			"The object key is not valid: it must be 1-1024 bytes of UTF-8 (%v).", err)
	case errors.Is(err, objstore.ErrBadDigest):
		return newError(http.StatusBadRequest, "BadDigest",
			"The Content-MD5 you specified did not match what we received.")
	case errors.Is(err, objstore.ErrIncompleteBody):
		return newError(http.StatusBadRequest, "IncompleteBody",
			"You did not provide the number of bytes specified by the Content-Length HTTP header.")
	case errors.Is(err, objstore.ErrNoSuchUpload):
		return newError(http.StatusNotFound, "NoSuchUpload",
			"The specified multipart upload does not exist. The upload ID might be invalid, or the upload might have been aborted or completed.")
	case errors.Is(err, objstore.ErrInvalidPart):
		return newError(http.StatusBadRequest, "InvalidPart",
			"One or more of the specified parts could not be found, or its ETag did not match the part's entity tag (%v).", err)
	case errors.Is(err, objstore.ErrInvalidPartOrder):
		return newError(http.StatusBadRequest, "InvalidPartOrder",
			"The list of parts was not in ascending order. The parts list must be specified in order by part number.")
	case errors.Is(err, objstore.ErrEntityTooSmall):
		return newError(http.StatusBadRequest, "EntityTooSmall",
			"Your proposed upload is smaller than the minimum allowed size: every part but the last must meet the minimum part size (%v).", err)
	}
	return nil
}

// sigv4Error maps sigv4 sentinels.
func (req *request) sigv4Error(err error) *apiError {
	presigned := req.r.URL.Query().Get("X-Amz-Signature") != ""
	switch {
	case errors.Is(err, sigv4.ErrMissingAuth):
		return newError(http.StatusForbidden, "AccessDenied", "Access Denied: the request is not signed.")
	case errors.Is(err, sigv4.ErrMalformedAuth):
		if presigned {
			return newError(http.StatusBadRequest, "AuthorizationQueryParametersError",
				"The presigned URL's X-Amz-* query parameters are malformed (%v).", err)
		}
		return newError(http.StatusBadRequest, "AuthorizationHeaderMalformed",
			"The authorization header is malformed (%v); this node's region is %s.", err, req.h.region())
	case errors.Is(err, sigv4.ErrUnknownAccessKey):
		return newError(http.StatusForbidden, "InvalidAccessKeyId",
			"The AWS Access Key Id you provided does not exist in our records.")
	case errors.Is(err, sigv4.ErrSignatureMismatch), errors.Is(err, sigv4.ErrChunkSignature):
		e := newError(http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		addSignatureDetails(e, err)
		return e
	case errors.Is(err, sigv4.ErrRequestExpired):
		return newError(http.StatusForbidden, "AccessDenied", "Request has expired")
	case errors.Is(err, sigv4.ErrTimeSkewed):
		return newError(http.StatusForbidden, "RequestTimeTooSkewed",
			"The difference between the request time and the current time on node %s is too large; check the client's clock.", req.h.NodeID).
			with("ServerTime", req.h.now().UTC().Format(xmlTimeFormat))
	case errors.Is(err, sigv4.ErrContentSHA256):
		return newError(http.StatusBadRequest, "XAmzContentSHA256Mismatch",
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	case errors.Is(err, sigv4.ErrMalformedChunk):
		return newError(http.StatusBadRequest, "IncompleteBody",
			"The aws-chunked request body is malformed or ended early (%v).", err)
	case errors.Is(err, sigv4.ErrUnsupportedSigning):
		return newError(http.StatusBadRequest, "InvalidRequest",
			"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	}
	return nil
}

// signatureDetails is implemented by sigv4 errors that can show the string
// to sign and canonical request the server computed, which S3 returns so a
// client can find its signing mistake.
type signatureDetails interface {
	StringToSign() string
	CanonicalRequest() string
}

func addSignatureDetails(e *apiError, err error) {
	var d signatureDetails
	if errors.As(err, &d) {
		e.with("StringToSign", d.StringToSign()).with("CanonicalRequest", d.CanonicalRequest())
	}
}

// errorBody is the S3 error document.
type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Extra     []xmlElem
	Resource  string
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

// writeError sends err as an S3 error response, unless the response has
// already started (then the connection is cut short by returning).
func (req *request) writeError(err error) {
	if req.w.WroteHeader() {
		return
	}
	ae := req.toAPIError(err)
	hdr := req.w.Header()
	for k, vs := range ae.Header {
		hdr[k] = vs
	}
	// Object headers set before the failure must not describe the error.
	for _, k := range []string{"ETag", "Last-Modified", "Content-Length", "Content-Encoding", "Content-Range", "Content-Md5"} {
		if _, keep := ae.Header[k]; !keep {
			hdr.Del(k)
		}
	}
	status := ae.Status
	if status == statusClientClosed {
		// Nothing reads it; keep the log honest and send a real status.
		status = http.StatusBadRequest
	}
	if req.r.Method == http.MethodHead {
		req.w.WriteHeader(status)
		req.w.Status = ae.Status
		return
	}
	body := errorBody{
		Code:      ae.Code,
		Message:   ae.Message,
		Extra:     ae.Extra,
		Resource:  req.r.URL.Path,
		RequestID: req.id,
		HostID:    req.h.NodeID,
	}
	req.writeXML(status, body)
	req.w.Status = ae.Status
}
