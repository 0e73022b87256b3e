// Package s3api serves the S3 REST API (path-style and virtual-host style)
// over an objstore.Store: SigV4 authentication, the bucket, object,
// multipart and listing operations, S3 XML errors, ranges and conditional
// requests.
//
// Request payloads stream from the verified sigv4 body to the store with
// declared x-amz-checksum-* values checked on the way; only the small XML
// bodies (DeleteObjects, CompleteMultipartUpload, bucket configuration) are
// read into memory, up to a limit. Object bodies go to the client through a
// writer that enforces a send timeout and a minimum rate and says in the
// log which of the two cut a client off.
//
// Browser form uploads (PostObject) are authenticated by their signed
// policy (package postpolicy) and stream the file like a PUT. A PUT, POST
// or CompleteMultipartUpload may carry an OSS-style upload callback, whose
// failure is reported precisely (203 CallbackFailed) with the object kept.
// Bucket CORS rules answer preflights and decorate the store's responses;
// a bucket policy may make key patterns publicly readable.
//
// Every response names the node (Server: Strata/<node>) and carries a
// request id; every error body says what was wrong, on which node, and
// what to do about it.
package s3api
