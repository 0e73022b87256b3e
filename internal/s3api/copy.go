package s3api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/strata-cdn/strata/internal/httphdr"
	"github.com/strata-cdn/strata/internal/objstore"
)

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=...]",
// URL-encoded. copySourceVersion returns the versionId.
func copySource(r *http.Request) (bucket, key string, err error) {
	v := r.Header.Get("x-amz-copy-source")
	if i := strings.Index(v, "?"); i >= 0 {
		v = v[:i]
	}
	dec, uerr := url.PathUnescape(v)
	if uerr != nil {
		dec = v
	}
	dec = strings.TrimPrefix(dec, "/")
	bucket, key, ok := strings.Cut(dec, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey (got %q).",
			r.Header.Get("x-amz-copy-source"))
	}
	return bucket, key, nil
}

// checkCopyConditions applies the x-amz-copy-source-if-* fields to the
// source; every failure is 412, as in S3.
func checkCopyConditions(r *http.Request, src objstore.ObjectInfo) error {
	h := http.Header{}
	for _, f := range []struct{ from, to string }{
		{"x-amz-copy-source-if-match", "If-Match"},
		{"x-amz-copy-source-if-none-match", "If-None-Match"},
		{"x-amz-copy-source-if-modified-since", "If-Modified-Since"},
		{"x-amz-copy-source-if-unmodified-since", "If-Unmodified-Since"},
	} {
		if v := r.Header.Get(f.from); v != "" {
			h.Set(f.to, v)
		}
	}
	if len(h) == 0 {
		return nil
	}
	if httphdr.Evaluate(http.MethodGet, h, validators(src)) != httphdr.Proceed {
		return errPreconditionFailed
	}
	return nil
}

// copyObject serves CopyObject (PUT with x-amz-copy-source).
func (req *request) copyObject() error {
	srcBucket, srcKey, err := copySource(req.r)
	if err != nil {
		return err
	}
	var replace bool
	switch d := strings.ToUpper(req.r.Header.Get("x-amz-metadata-directive")); d {
	case "", "COPY":
	case "REPLACE":
		replace = true
	default:
		return errInvalidArgument("Unknown metadata directive %q: use COPY or REPLACE.", d)
	}
	opts := objstore.CopyOptions{ReplaceMeta: replace}
	if opts.SourceVersionID, err = copySourceVersion(req.r); err != nil {
		return err
	}
	// Copying an older version over its key restores it, and is allowed.
	if srcBucket == req.bucket && srcKey == req.key && !replace && opts.SourceVersionID == "" {
		return newError(http.StatusBadRequest, "InvalidRequest",
			"This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if replace {
		if opts.Meta, err = metaFromRequest(req.r); err != nil {
			return err
		}
	}
	src, err := req.h.Store.StatObjectVersion(req.ctx, srcBucket, srcKey, opts.SourceVersionID)
	if err != nil {
		return copySourceError(err)
	}
	if err := checkCopyConditions(req.r, src); err != nil {
		return err
	}
	info, err := req.h.Store.CopyObject(req.ctx, srcBucket, srcKey, req.bucket, req.key, opts)
	if err != nil {
		return copySourceError(err)
	}
	setIf(req.w.Header(), "x-amz-copy-source-version-id", src.VersionID)
	setVersionHeader(req.w.Header(), info.VersionID)
	req.writeXML(http.StatusOK, copyObjectResult{LastModified: xmlTime(info.ModTime), ETag: quoteETag(info.ETag)})
	return nil
}
