package sigv4

import (
	"net/http"
	"strconv"
	"time"
)

// Query parameters of a presigned URL.
const (
	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramExpires       = "X-Amz-Expires"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramContentSHA256 = "X-Amz-Content-Sha256"
)

// parsePresigned reads the query-string form of SigV4 (a presigned URL):
// every X-Amz-* parameter once, X-Amz-Expires at most seven days. The
// payload is UNSIGNED-PAYLOAD unless the client sent (and so signed)
// x-amz-content-sha256, as a header or a parameter.
func parsePresigned(h http.Header, params []queryParam) (signedRequest, error) {
	get := func(name string) (string, error) {
		var v string
		n := 0
		for _, p := range params {
			if p.key == name {
				v = p.value
				n++
			}
		}
		switch n {
		case 0:
			return "", malformed("presigned URL has no %s", name)
		case 1:
			return v, nil
		}
		return "", malformed("presigned URL has %s %d times", name, n)
	}
	alg, err := get(paramAlgorithm)
	if err != nil {
		return signedRequest{}, err
	}
	if alg != algorithm {
		return signedRequest{}, errorsf(ErrUnsupportedSigning, "X-Amz-Algorithm %q; use %s", truncate(alg), algorithm)
	}
	var vals [5]string
	for i, name := range [5]string{paramCredential, paramDate, paramExpires, paramSignedHeaders, paramSignature} {
		if vals[i], err = get(name); err != nil {
			return signedRequest{}, err
		}
	}
	a, err := newAuthorization(vals[0], vals[3], vals[4])
	if err != nil {
		return signedRequest{}, err
	}
	t, err := time.Parse(iso8601Basic, vals[1])
	if err != nil {
		return signedRequest{}, malformed("X-Amz-Date %q is not yyyymmddThhmmssZ", truncate(vals[1]))
	}
	secs, err := strconv.ParseInt(vals[2], 10, 64)
	switch {
	case err != nil || secs < 0:
		return signedRequest{}, malformed("X-Amz-Expires %q is not a non-negative number of seconds", truncate(vals[2]))
	case secs > maxPresignSecs:
		return signedRequest{}, malformed("X-Amz-Expires %d is more than a week (%d seconds)", secs, maxPresignSecs)
	}
	sr := signedRequest{
		authorization: a,
		amzDate:       vals[1],
		t:             t,
		presigned:     true,
		expires:       time.Duration(secs) * time.Second,
		skipParam:     paramSignature,
		payloadHash:   UnsignedPayload,
	}
	if v := h.Get("X-Amz-Content-Sha256"); v != "" {
		sr.payloadHash = v
	} else {
		for _, p := range params {
			if p.key == paramContentSHA256 {
				sr.payloadHash = p.value
			}
		}
	}
	return sr, nil
}
