// Package sigv4 verifies AWS Signature Version 4 requests as S3 receives
// them: the Authorization header, presigned URLs (query parameters), and the
// streaming payload forms S3 clients send (aws-chunked with signed chunks
// and an optional signed trailer, and unsigned chunks with a trailing
// checksum).
//
// Verifier.Verify checks the request's signature and returns a Result whose
// Body yields the decoded payload, verifying chunk signatures or the
// payload's SHA-256 as it is read. Errors wrap the sentinels in errors.go;
// a signature that does not match is a *SignatureError carrying the
// canonical request and string to sign that S3 shows the client.
//
// SignRequest, Presign and SignChunked sign requests the way aws-sdk-go-v2
// and minio-go do, for tests and tools.
//
// It is pure: no sockets, goroutines, logging or clock reads; the current
// time is passed in.
package sigv4
