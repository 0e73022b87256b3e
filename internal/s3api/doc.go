// Package s3api serves the S3 REST API (path-style and virtual-host style)
// over an objstore.Store: SigV4 authentication, the bucket, object,
// multipart and listing operations, S3 XML errors, ranges and conditional
// requests.
package s3api
