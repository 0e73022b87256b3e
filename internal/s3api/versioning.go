package s3api

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/strata-cdn/strata/internal/objstore"
)

// versioningConfiguration is the body of PutBucketVersioning and
// GetBucketVersioning. Status is absent for a bucket that was never
// versioned.
type versioningConfiguration struct {
	XMLName   xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
	Status    string   `xml:",omitempty"`
	MfaDelete string   `xml:",omitempty"`
}

// versioningRequest is a PutBucketVersioning body (namespace optional).
type versioningRequest struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Status    string
	MfaDelete string
}

func (req *request) getBucketVersioning() error {
	b, err := req.h.Store.GetBucket(req.ctx, req.bucket)
	if err != nil {
		return err
	}
	req.writeXML(http.StatusOK, versioningConfiguration{Status: string(b.Versioning)})
	return nil
}

func (req *request) putBucketVersioning() error {
	var in versioningRequest
	if err := req.readXML(&in); err != nil {
		return err
	}
	if in.MfaDelete == "Enabled" {
		return newError(http.StatusNotImplemented, "NotImplemented",
			"MFA delete is not supported by Strata; send MfaDelete Disabled or leave it out.")
	}
	state := objstore.VersioningState(in.Status)
	if state != objstore.VersioningEnabled && state != objstore.VersioningSuspended {
		return newError(http.StatusBadRequest, "MalformedXML",
			"The versioning Status %q is not valid: it must be Enabled or Suspended.", in.Status)
	}
	if err := req.h.Store.SetBucketVersioning(req.ctx, req.bucket, state); err != nil {
		return err
	}
	req.w.Header().Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// versionID returns the versionId query parameter: "" when absent. A
// versionId given empty is InvalidArgument, as in S3.
func (req *request) versionID() (string, error) {
	q := req.r.URL.Query()
	v, ok := q["versionId"]
	if !ok {
		return "", nil
	}
	if len(v) == 0 || v[0] == "" {
		return "", errInvalidArgument("Version id cannot be the empty string.").with("ArgumentName", "versionId")
	}
	return v[0], nil
}

// setVersionHeader sets x-amz-version-id for a version of a versioned
// bucket; unversioned buckets show none (VersionID is empty there).
func setVersionHeader(hdr http.Header, versionID string) {
	if versionID != "" {
		hdr.Set("x-amz-version-id", versionID)
	}
}

// versionError maps the engine's versioning errors, which carry header
// fields as well as a code.
func versionError(err error) *apiError {
	var dm *objstore.DeleteMarkerError
	switch {
	case errors.As(err, &dm):
		var e *apiError
		if dm.ByID {
			e = newError(http.StatusMethodNotAllowed, "MethodNotAllowed",
				"The specified method is not allowed against this resource: version %s of %q is a delete marker.", dm.VersionID, dm.Key).
				with("Method", "GET").with("ResourceType", "DeleteMarker")
			e.Header = http.Header{"Allow": {"DELETE"}}
		} else {
			e = newError(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.").with("Key", dm.Key)
			e.Header = http.Header{}
		}
		e.Header.Set("x-amz-delete-marker", "true")
		if dm.VersionID != "" {
			e.Header.Set("x-amz-version-id", dm.VersionID)
		}
		return e
	case errors.Is(err, objstore.ErrNoSuchVersion):
		return newError(http.StatusNotFound, "NoSuchVersion",
			"The specified version does not exist (%v).", err)
	case errors.Is(err, objstore.ErrInvalidVersioning):
		return newError(http.StatusBadRequest, "MalformedXML", "%v", err)
	case errors.Is(err, objstore.ErrInvalidLifecycle):
		var le *objstore.LifecycleError
		e := newError(http.StatusBadRequest, "InvalidArgument", "%v", err)
		if errors.As(err, &le) && le.Field != "" {
			e.with("ArgumentName", le.Field)
			if le.RuleID != "" {
				e.with("ArgumentValue", fmt.Sprintf("rule %s", le.RuleID))
			}
		}
		return e
	}
	return nil
}

// setVersionHeaders sets the version and tag-count fields of a GET or
// HEAD response.
func setVersionHeaders(hdr http.Header, info objstore.ObjectInfo) {
	setVersionHeader(hdr, info.VersionID)
	if n := len(info.Meta.Tags); n > 0 {
		hdr.Set("x-amz-tagging-count", strconv.Itoa(n))
	}
}

// setDeleteHeaders sets the fields of a DeleteObject response: the
// version removed or the delete marker added.
func setDeleteHeaders(hdr http.Header, res objstore.DeleteResult) {
	setVersionHeader(hdr, res.VersionID)
	if res.DeleteMarker {
		hdr.Set("x-amz-delete-marker", "true")
	}
}

// deletedEntry is one <Deleted> element of a DeleteObjects response.
func deletedEntry(key, versionID string, res objstore.DeleteResult) deletedXML {
	d := deletedXML{Key: key, VersionID: versionID}
	if res.DeleteMarker {
		d.DeleteMarker = true
		d.DeleteMarkerVersionID = res.VersionID
	}
	return d
}

// copySourceVersion returns the versionId of x-amz-copy-source, or "".
func copySourceVersion(r *http.Request) (string, error) {
	v := r.Header.Get("x-amz-copy-source")
	i := strings.Index(v, "?")
	if i < 0 {
		return "", nil
	}
	q, err := url.ParseQuery(v[i+1:])
	if err != nil {
		return "", errInvalidArgument("The query of x-amz-copy-source %q is not valid: %v.", v, err)
	}
	ids, ok := q["versionId"]
	if !ok {
		return "", nil
	}
	if len(ids) == 0 || ids[0] == "" {
		return "", errInvalidArgument("Version id cannot be the empty string (x-amz-copy-source %q).", v).with("ArgumentName", "x-amz-copy-source")
	}
	return ids[0], nil
}

// copySourceError maps a copy source that is a delete marker named by
// version ID to S3's 400.
func copySourceError(err error) error {
	var dm *objstore.DeleteMarkerError
	if errors.As(err, &dm) && dm.ByID {
		return newError(http.StatusBadRequest, "InvalidRequest",
			"The source of a copy request may not specifically refer to a delete marker by version id (%s).", dm.VersionID).withCause(err)
	}
	return err
}
