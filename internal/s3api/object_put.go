package s3api

import (
	"net/http"

	"github.com/strata-cdn/strata/internal/checksum"
	"github.com/strata-cdn/strata/internal/objstore"
)

// errMissingContentLength: S3 needs the size before the data (411).
var errMissingContentLength = newError(http.StatusLengthRequired, "MissingContentLength",
	"You must provide the Content-Length HTTP header (or x-amz-decoded-content-length with aws-chunked).")

// putObject stores the payload as the object, streaming it to the store:
// the body is never held in memory.
func (req *request) putObject() error {
	meta, err := metaFromRequest(req.r)
	if err != nil {
		return err
	}
	cb, err := req.callbackFromHeader() // callback.go; checked before storing
	if err != nil {
		return err
	}
	pr, opts, err := req.upload()
	if err != nil {
		return err
	}
	opts.Meta = meta
	info, err := req.h.Store.PutObject(req.ctx, req.bucket, req.key, pr, opts)
	if err != nil {
		return pr.cause(err)
	}
	hdr := req.w.Header()
	hdr.Set("ETag", quoteETag(info.ETag))
	setVersionHeader(hdr, info.VersionID)
	pr.setChecksumHeaders(hdr)
	if _, ok := hdr["X-Amz-Checksum-Crc64nvme"]; ok {
		hdr.Set("x-amz-checksum-crc64nvme", checksum.NVMEBase64(info.CRC64NVME))
		hdr.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	if cb != nil {
		return req.runCallback(cb, info)
	}
	hdr.Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// upload prepares the payload of a PutObject or UploadPart: the verified,
// checksummed body reader and the store options for its size and
// Content-MD5. A body of unknown size is refused (411), as S3 does.
func (req *request) upload() (*payloadReader, objstore.PutOptions, error) {
	md5, err := parseContentMD5(req.r)
	if err != nil {
		return nil, objstore.PutOptions{}, err
	}
	size := req.declaredSize()
	if size < 0 {
		return nil, objstore.PutOptions{}, errMissingContentLength
	}
	pr, err := newPayloadReader(req, size)
	if err != nil {
		return nil, objstore.PutOptions{}, err
	}
	return pr, objstore.PutOptions{Size: size, ContentMD5: md5}, nil
}

// deleteObject removes one object, or adds a delete marker, or with
// ?versionId removes one version; a missing key is not an error (204).
func (req *request) deleteObject() error {
	versionID, err := req.versionID()
	if err != nil {
		return err
	}
	res, err := req.h.Store.DeleteObjectVersion(req.ctx, req.bucket, req.key, versionID)
	if err != nil {
		return err
	}
	setDeleteHeaders(req.w.Header(), res)
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}
