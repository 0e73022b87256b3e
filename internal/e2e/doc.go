// Package e2e starts the real strata binary on 127.0.0.1:0 and drives it
// with real clients (aws-sdk-go-v2, minio-go, curl). It has no non-test
// code besides this comment.
package e2e
