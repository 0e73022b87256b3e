package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
)

const maxDeleteKeys = 1000

// deleteObjects serves POST /bucket?delete. The body must carry an
// integrity check: Content-MD5 or an x-amz-checksum-* value (header or
// trailer), as S3 requires.
func (req *request) deleteObjects() error {
	md5sum, err := parseContentMD5(req.r)
	if err != nil {
		return err
	}
	pr, err := newPayloadReader(req, req.declaredSize())
	if err != nil {
		return err
	}
	if md5sum == nil && !pr.hasExpected() {
		return newError(http.StatusBadRequest, "InvalidRequest",
			"Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header).")
	}
	req.body = io.NopCloser(pr)
	data, err := req.readSmallBody()
	if err != nil {
		return pr.cause(err)
	}
	if md5sum != nil {
		if got := md5.Sum(data); !bytes.Equal(got[:], md5sum) {
			return newError(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	var in deleteRequest
	if len(bytes.TrimSpace(data)) == 0 {
		return errMalformedXML(errors.New("empty body"))
	}
	if err := xml.Unmarshal(data, &in); err != nil {
		return errMalformedXML(err)
	}
	if len(in.Objects) == 0 || len(in.Objects) > maxDeleteKeys {
		return newError(http.StatusBadRequest, "MalformedXML",
			"The Delete request must name between 1 and %d objects; it named %d.", maxDeleteKeys, len(in.Objects))
	}
	out := deleteResult{}
	for _, o := range in.Objects {
		res, err := req.h.Store.DeleteObjectVersion(req.ctx, req.bucket, o.Key, o.VersionID)
		if err != nil {
			ae := req.toAPIError(err)
			if ae.Status >= 500 || ae.Code == "NoSuchBucket" {
				return err
			}
			out.Errors = append(out.Errors, deleteErrorXML{Key: o.Key, Code: ae.Code, Message: ae.Message})
			continue
		}
		if !in.Quiet {
			out.Deleted = append(out.Deleted, deletedEntry(o.Key, o.VersionID, res))
		}
	}
	req.writeXML(http.StatusOK, out)
	return nil
}
