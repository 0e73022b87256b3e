package s3api

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/strata-cdn/strata/internal/objstore"
)

const allUsersURI = "http://acs.amazonaws.com/groups/global/AllUsers"

func (req *request) listBuckets() error {
	buckets, err := req.h.Store.ListBuckets(req.ctx)
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{Owner: theOwner, Buckets: []bucketXML{}}
	for _, b := range buckets {
		res.Buckets = append(res.Buckets, bucketXML{Name: b.Name, CreationDate: xmlTime(b.Created)})
	}
	req.writeXML(http.StatusOK, res)
	return nil
}

// createBucket creates a bucket, checking the optional
// CreateBucketConfiguration against this node's region and applying a
// canned x-amz-acl.
func (req *request) createBucket() error {
	public, err := cannedACL(req.r.Header.Get("x-amz-acl"))
	if err != nil {
		return err
	}
	data, err := req.readSmallBody()
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		var cfg createBucketConfiguration
		if err := xml.Unmarshal(data, &cfg); err != nil {
			return errMalformedXML(err)
		}
		if lc := cfg.LocationConstraint; lc != "" && lc != req.h.region() {
			return newError(http.StatusBadRequest, "InvalidLocationConstraint",
				"The specified location-constraint %q is not valid: this node serves region %q.", lc, req.h.region())
		}
	}
	if err := req.h.Store.CreateBucket(req.ctx, req.bucket); err != nil {
		return err
	}
	if public {
		if err := req.h.Store.SetBucketPublicRead(req.ctx, req.bucket, true); err != nil {
			return err
		}
	}
	req.w.Header().Set("Location", "/"+req.bucket)
	req.w.Header().Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// cannedACL maps x-amz-acl to public-read or private; other canned ACLs
// are not supported.
func cannedACL(v string) (public bool, err error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "private", "bucket-owner-full-control":
		return false, nil
	case "public-read":
		return true, nil
	}
	return false, newError(http.StatusNotImplemented, "NotImplemented",
		"The canned ACL %q is not supported by Strata; use private or public-read.", v)
}

func (req *request) deleteBucket() error {
	if err := req.h.Store.DeleteBucket(req.ctx, req.bucket); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (req *request) headBucket() error {
	if _, err := req.h.Store.GetBucket(req.ctx, req.bucket); err != nil {
		return err
	}
	req.w.Header().Set("x-amz-bucket-region", req.h.region())
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (req *request) getBucketLocation() error {
	if _, err := req.h.Store.GetBucket(req.ctx, req.bucket); err != nil {
		return err
	}
	// S3 writes us-east-1 as an empty constraint.
	lc := req.h.region()
	if lc == defaultRegion {
		lc = ""
	}
	req.writeXML(http.StatusOK, locationConstraint{Value: lc})
	return nil
}

func (req *request) getBucketACL() error {
	b, err := req.h.Store.GetBucket(req.ctx, req.bucket)
	if err != nil {
		return err
	}
	req.writeXML(http.StatusOK, bucketPolicy(b))
	return nil
}

// bucketPolicy is the AccessControlPolicy equivalent of a bucket's
// public-read flag.
func bucketPolicy(b objstore.Bucket) accessControlPolicy {
	const xsi = "http://www.w3.org/2001/XMLSchema-instance"
	p := accessControlPolicy{
		Owner: theOwner,
		Grants: []grant{{
			Grantee:    grantee{XMLNSXSI: xsi, Type: "CanonicalUser", ID: theOwner.ID, DisplayName: theOwner.DisplayName},
			Permission: "FULL_CONTROL",
		}},
	}
	if b.PublicRead {
		p.Grants = append(p.Grants, grant{
			Grantee:    grantee{XMLNSXSI: xsi, Type: "Group", URI: allUsersURI},
			Permission: "READ",
		})
	}
	return p
}

// putBucketACL sets the bucket's public-read flag from a canned x-amz-acl
// or from an AccessControlPolicy body (public when AllUsers has READ).
func (req *request) putBucketACL() error {
	if _, err := req.h.Store.GetBucket(req.ctx, req.bucket); err != nil {
		return err
	}
	var public bool
	if v := req.r.Header.Get("x-amz-acl"); v != "" {
		p, err := cannedACL(v)
		if err != nil {
			return err
		}
		public = p
	} else {
		var acl aclRequest
		if err := req.readXML(&acl); err != nil {
			return err
		}
		for _, g := range acl.Grants {
			if g.Grantee.URI == allUsersURI && (g.Permission == "READ" || g.Permission == "FULL_CONTROL") {
				public = true
			}
		}
	}
	if err := req.h.Store.SetBucketPublicRead(req.ctx, req.bucket, public); err != nil {
		return err
	}
	req.w.Header().Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}
