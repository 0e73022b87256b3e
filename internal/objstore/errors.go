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

// Sentinels of versioning, bucket configuration and lifecycle.
var (
	// ErrNoSuchVersion reports a version ID that names no version of the
	// key (S3's NoSuchVersion).
	ErrNoSuchVersion = errors.New("object version does not exist")
	// ErrVersionIsDeleteMarker reports a read of a delete marker by its
	// version ID, or a copy from one (S3 answers 405 MethodNotAllowed to a
	// GET, 400 InvalidRequest to a copy). It is matched by
	// *DeleteMarkerError.
	ErrVersionIsDeleteMarker = errors.New("the version is a delete marker")
	// ErrInvalidVersioning reports a versioning state other than Enabled
	// or Suspended.
	ErrInvalidVersioning = errors.New("versioning status must be Enabled or Suspended")
	// ErrNoSuchBucketConfig reports a bucket configuration document (such
	// as the lifecycle) that was never set or was deleted.
	ErrNoSuchBucketConfig = errors.New("bucket configuration does not exist")
	// ErrInvalidLifecycle is matched by every *LifecycleError.
	ErrInvalidLifecycle = errors.New("invalid lifecycle configuration")
)

// DeleteMarkerError reports a read that found a delete marker. When the
// key's current version is a delete marker (ByID false) it matches
// ErrNoSuchKey: to a reader the object does not exist. When the version
// was asked for by ID (ByID true) it matches ErrVersionIsDeleteMarker.
type DeleteMarkerError struct {
	Bucket, Key string
	VersionID   string // the marker's version ID
	ByID        bool
}

func (e *DeleteMarkerError) Error() string {
	if e.ByID {
		return fmt.Sprintf("version %s of %s/%s is a delete marker", e.VersionID, e.Bucket, e.Key)
	}
	return fmt.Sprintf("object does not exist: the current version of %s/%s is delete marker %s", e.Bucket, e.Key, e.VersionID)
}

// Is matches ErrNoSuchKey or ErrVersionIsDeleteMarker, as described on
// the type.
func (e *DeleteMarkerError) Is(target error) bool {
	if e.ByID {
		return target == ErrVersionIsDeleteMarker
	}
	return target == ErrNoSuchKey
}

// LifecycleError reports an invalid lifecycle rule: which rule, which
// field, and why. It matches ErrInvalidLifecycle.
type LifecycleError struct {
	RuleID string // empty when the problem is not in one rule
	Field  string // e.g. "Expiration.Days"
	Reason string
}

func (e *LifecycleError) Error() string {
	switch {
	case e.RuleID == "" && e.Field == "":
		return "lifecycle configuration: " + e.Reason
	case e.RuleID == "":
		return fmt.Sprintf("lifecycle configuration: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("lifecycle rule %q: %s: %s", e.RuleID, e.Field, e.Reason)
}

// Is reports whether target is ErrInvalidLifecycle.
func (e *LifecycleError) Is(target error) bool { return target == ErrInvalidLifecycle }
