package objstore

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on. s3api maps each to an S3 error code.
// Errors returned by the Store wrap them with detail (which rule a name
// broke, which part was missing), so compare with errors.Is.
var (
	ErrNoSuchBucket      = errors.New("bucket does not exist")
	ErrBucketExists      = errors.New("bucket already exists")
	ErrBucketNotEmpty    = errors.New("bucket is not empty")
	ErrInvalidBucketName = errors.New("invalid bucket name")
	ErrNoSuchKey         = errors.New("object does not exist")
	ErrInvalidKey        = errors.New("invalid object key")
	ErrBadDigest         = errors.New("Content-MD5 does not match the data received")
	ErrIncompleteBody    = errors.New("body length does not match Content-Length")
	ErrNoSuchUpload      = errors.New("multipart upload does not exist")
	ErrInvalidPart       = errors.New("part not found or its ETag does not match")
	ErrInvalidPartOrder  = errors.New("parts are not in ascending order")
	ErrEntityTooSmall    = errors.New("part is smaller than the minimum part size")
	// ErrInvalidPartNumber reports a part number outside 1..10000
	// (S3's InvalidArgument).
	ErrInvalidPartNumber = errors.New("part number must be an integer between 1 and 10000")
	// ErrStoreLocked reports that another process has the store directory
	// open.
	ErrStoreLocked = errors.New("store directory is in use by another process")
)

// TooLargeError reports data over a configured size limit. It matches
// ErrEntityTooLarge with errors.Is.
type TooLargeError struct {
	What  string // "object" or "part"
	Limit int64
}

// ErrEntityTooLarge matches every *TooLargeError.
var ErrEntityTooLarge = errors.New("entity too large")

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than the limit of %d bytes", e.What, e.Limit)
}

// Is reports whether target is ErrEntityTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrEntityTooLarge }
