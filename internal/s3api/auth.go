package s3api

import (
	"errors"
	"net/http"

	"github.com/strata-cdn/strata/internal/objstore"
	"github.com/strata-cdn/strata/internal/sigv4"
)

// authenticate verifies the request's SigV4 signature (header or presigned)
// and decides whether an anonymous request may proceed: only object reads
// (GET/HEAD) in a public-read bucket may. On success req.body is the
// verified payload reader, which every operation reads instead of r.Body.
func (req *request) authenticate() error {
	h := req.h
	lookup := h.Credentials
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	v := sigv4.Verifier{Lookup: lookup, Region: h.region()}
	res, err := v.Verify(req.r, h.now())
	if err != nil {
		return err
	}
	req.auth = res
	if res.Body != nil {
		req.body = res.Body
	} else if req.r.Body != nil {
		req.body = req.r.Body
	}
	if !res.Anonymous || req.op.selfAuth {
		return nil
	}
	if !req.op.publicRead {
		return newError(http.StatusForbidden, "AccessDenied",
			"Access Denied: anonymous requests may only read objects of a public-read bucket; sign the request.")
	}
	b, err := h.Store.GetBucket(req.ctx, req.bucket)
	if err != nil {
		if errors.Is(err, objstore.ErrNoSuchBucket) {
			// Do not tell anonymous clients which buckets exist.
			return errAccessDenied
		}
		return err
	}
	if !b.PublicRead {
		// A bucket policy may make some keys public (policy.go).
		if ok, err := req.policyAllowsRead(req.key); err != nil || ok {
			return err
		}
		return newError(http.StatusForbidden, "AccessDenied",
			"Access Denied: bucket %s is private; sign the request or make the bucket public-read.", req.bucket)
	}
	return nil
}

// signed reports whether the request carried a valid signature.
func (req *request) signed() bool { return req.auth != nil && !req.auth.Anonymous }

// declaredSize is the payload size the client announced: the decoded
// length of an aws-chunked body, or Content-Length; -1 when unknown.
func (req *request) declaredSize() int64 {
	if req.auth != nil {
		return req.auth.DecodedLength
	}
	return req.r.ContentLength
}
