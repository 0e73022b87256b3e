package s3api

import (
	"net"
	"net/http"
	"sort"
	"strings"
)

// operation is one S3 API operation selected by method, path and query.
type operation struct {
	name string
	run  func(*request) error
	// publicRead marks object reads an anonymous client may make on a
	// public-read bucket.
	publicRead bool
	// selfAuth marks operations that authenticate the request themselves
	// (a POST form's policy signature) or need none (CORS preflight).
	selfAuth bool
}

// bucketKey splits a request into bucket and key. A Host of
// "bucket.<domain>" for one of h.Domains selects virtual-host style, where
// the whole path is the key; otherwise the first path segment is the bucket
// (path style).
func (h *Handler) bucketKey(r *http.Request) (bucket, key string) {
	path := r.URL.Path
	if host := hostWithoutPort(r.Host); host != "" {
		for _, d := range h.Domains {
			d = strings.ToLower(strings.TrimSuffix(d, "."))
			if d == "" || len(host) <= len(d)+1 {
				continue
			}
			if strings.HasSuffix(host, "."+d) {
				return host[:len(host)-len(d)-1], strings.TrimPrefix(path, "/")
			}
		}
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

func hostWithoutPort(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// subresources are the S3 query parameters that select an operation other
// than the plain bucket or object one. Those not handled below answer 501
// NotImplemented naming the subresource.
var subresources = []string{
	"accelerate", "acl", "analytics", "attributes", "cors", "delete",
	"encryption", "intelligent-tiering", "inventory", "legal-hold",
	"lifecycle", "location", "logging", "metadataTable", "metrics",
	"notification", "object-lock", "ownershipControls", "policy",
	"policyStatus", "publicAccessBlock", "replication", "requestPayment",
	"restore", "retention", "select", "session", "tagging", "torrent",
	"uploadId", "uploads", "versioning", "versions", "website",
}

func subresourceOf(r *http.Request) string {
	q := r.URL.Query()
	var found []string
	for _, s := range subresources {
		if _, ok := q[s]; ok {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		return ""
	}
	// "uploadId" together with "partNumber" and friends is handled below;
	// for an unknown combination the first name in order is reported.
	sort.Strings(found)
	return found[0]
}

func op(name string, run func(*request) error) operation {
	return operation{name: name, run: run}
}

// route selects the operation for a request.
func route(r *http.Request, bucket, key string) (operation, error) {
	m := r.Method
	sub := subresourceOf(r)
	q := r.URL.Query()
	if m == http.MethodOptions && bucket != "" {
		return operation{name: "PreflightCORS", run: (*request).preflight, selfAuth: true}, nil
	}
	switch {
	case bucket == "":
		if m == http.MethodGet && sub == "" {
			return op("ListBuckets", (*request).listBuckets), nil
		}
		return operation{}, errMethodNotAllowed(m, "the service")

	case key == "":
		switch {
		case sub == "" && m == http.MethodGet:
			if q.Get("list-type") == "2" {
				return op("ListObjectsV2", (*request).listObjectsV2), nil
			}
			return op("ListObjects", (*request).listObjectsV1), nil
		case sub == "" && m == http.MethodHead:
			return op("HeadBucket", (*request).headBucket), nil
		case sub == "" && m == http.MethodPut:
			return op("CreateBucket", (*request).createBucket), nil
		case sub == "" && m == http.MethodDelete:
			return op("DeleteBucket", (*request).deleteBucket), nil
		case sub == "location" && m == http.MethodGet:
			return op("GetBucketLocation", (*request).getBucketLocation), nil
		case sub == "acl" && m == http.MethodGet:
			return op("GetBucketAcl", (*request).getBucketACL), nil
		case sub == "acl" && m == http.MethodPut:
			return op("PutBucketAcl", (*request).putBucketACL), nil
		case sub == "versioning" && m == http.MethodGet:
			return op("GetBucketVersioning", (*request).getBucketVersioning), nil
		case sub == "versioning" && m == http.MethodPut:
			return op("PutBucketVersioning", (*request).putBucketVersioning), nil
		case sub == "versions" && m == http.MethodGet:
			return op("ListObjectVersions", (*request).listObjectVersions), nil
		case sub == "lifecycle" && m == http.MethodGet:
			return op("GetBucketLifecycleConfiguration", (*request).getBucketLifecycle), nil
		case sub == "lifecycle" && m == http.MethodPut:
			return op("PutBucketLifecycleConfiguration", (*request).putBucketLifecycle), nil
		case sub == "lifecycle" && m == http.MethodDelete:
			return op("DeleteBucketLifecycle", (*request).deleteBucketLifecycle), nil
		case sub == "uploads" && m == http.MethodGet:
			return op("ListMultipartUploads", (*request).listMultipartUploads), nil
		case sub == "delete" && m == http.MethodPost:
			return op("DeleteObjects", (*request).deleteObjects), nil
		case sub == "" && m == http.MethodPost:
			return operation{name: "PostObject", run: (*request).postObject, selfAuth: true}, nil
		case sub == "cors" && m == http.MethodGet:
			return op("GetBucketCors", (*request).getBucketCORS), nil
		case sub == "cors" && m == http.MethodPut:
			return op("PutBucketCors", (*request).putBucketCORS), nil
		case sub == "cors" && m == http.MethodDelete:
			return op("DeleteBucketCors", (*request).deleteBucketCORS), nil
		case sub == "policy" && m == http.MethodGet:
			return op("GetBucketPolicy", (*request).getBucketPolicy), nil
		case sub == "policy" && m == http.MethodPut:
			return op("PutBucketPolicy", (*request).putBucketPolicy), nil
		case sub == "policy" && m == http.MethodDelete:
			return op("DeleteBucketPolicy", (*request).deleteBucketPolicy), nil
		case sub == "":
			return operation{}, errMethodNotAllowed(m, "a bucket")
		}
		return operation{}, errNotImplementedSub(sub, m)

	default:
		_, hasUploadID := q["uploadId"]
		switch {
		case hasUploadID && m == http.MethodPut:
			if r.Header.Get("x-amz-copy-source") != "" {
				return op("UploadPartCopy", (*request).uploadPartCopy), nil
			}
			return op("UploadPart", (*request).uploadPart), nil
		case hasUploadID && m == http.MethodPost:
			return op("CompleteMultipartUpload", (*request).completeMultipartUpload), nil
		case hasUploadID && m == http.MethodDelete:
			return op("AbortMultipartUpload", (*request).abortMultipartUpload), nil
		case hasUploadID && m == http.MethodGet:
			return op("ListParts", (*request).listParts), nil
		case sub == "uploads" && m == http.MethodPost:
			return op("CreateMultipartUpload", (*request).createMultipartUpload), nil
		case sub == "" && m == http.MethodGet:
			return operation{name: "GetObject", run: (*request).getObject, publicRead: true}, nil
		case sub == "" && m == http.MethodHead:
			return operation{name: "HeadObject", run: (*request).getObject, publicRead: true}, nil
		case sub == "" && m == http.MethodPut:
			if r.Header.Get("x-amz-copy-source") != "" {
				return op("CopyObject", (*request).copyObject), nil
			}
			return op("PutObject", (*request).putObject), nil
		case sub == "" && m == http.MethodDelete:
			return op("DeleteObject", (*request).deleteObject), nil
		case sub == "tagging" && m == http.MethodGet:
			return op("GetObjectTagging", (*request).getObjectTagging), nil
		case sub == "tagging" && m == http.MethodPut:
			return op("PutObjectTagging", (*request).putObjectTagging), nil
		case sub == "tagging" && m == http.MethodDelete:
			return op("DeleteObjectTagging", (*request).deleteObjectTagging), nil
		case sub == "":
			return operation{}, errMethodNotAllowed(m, "an object")
		}
		return operation{}, errNotImplementedSub(sub, m)
	}
}
