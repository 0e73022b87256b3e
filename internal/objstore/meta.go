package objstore

import (
	"context"
	"time"
)

// Catalog is the metadata engine under a Store: buckets, object rows,
// uploads and parts, and the journal of data files to delete. The SQLite
// engine ([OpenSQLiteCatalog]) is the embedded default; a PostgreSQL engine
// implements the same interface for stores that span several nodes.
//
// Every method is safe for concurrent use. Methods that change state are
// atomic: on error nothing changed. Keys compare in UTF-8 byte order.
//
// Data files are named by opaque IDs (see [Segment]). A method that drops
// references to files (an overwrite, a delete, an abort) records their IDs
// as garbage in the same transaction and returns them; the Store unlinks
// them and then calls ForgetGarbage.
type Catalog interface {
	// CreateBucket fails with ErrBucketExists if the name is taken.
	CreateBucket(ctx context.Context, b Bucket) error
	// DeleteBucket fails with ErrNoSuchBucket, or with ErrBucketNotEmpty
	// when the bucket holds objects or in-progress uploads.
	DeleteBucket(ctx context.Context, name string) error
	// GetBucket fails with ErrNoSuchBucket.
	GetBucket(ctx context.Context, name string) (Bucket, error)
	// ListBuckets returns all buckets ordered by name.
	ListBuckets(ctx context.Context) ([]Bucket, error)
	// SetBucketPublicRead fails with ErrNoSuchBucket.
	SetBucketPublicRead(ctx context.Context, name string, public bool) error
	// SetBucketVersioning sets a bucket's versioning state (Enabled or
	// Suspended). It fails with ErrNoSuchBucket.
	SetBucketVersioning(ctx context.Context, name string, state VersioningState) error
	// PutBucketConfig stores a bucket configuration document under a name
	// ("lifecycle", "cors", "policy"), replacing any previous one; it is
	// deleted with the bucket. It fails with ErrNoSuchBucket.
	PutBucketConfig(ctx context.Context, bucket, name string, doc []byte) error
	// GetBucketConfig fails with ErrNoSuchBucket or ErrNoSuchBucketConfig.
	GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error)
	// DeleteBucketConfig removes a document if present. It fails with
	// ErrNoSuchBucket.
	DeleteBucketConfig(ctx context.Context, bucket, name string) error

	// GetObject returns a key's current version. It fails with
	// ErrNoSuchBucket, ErrNoSuchKey, or a *DeleteMarkerError when the
	// current version is a delete marker.
	GetObject(ctx context.Context, bucket, key string) (ObjectRecord, error)
	// GetObjectVersion returns one version by ID, delete markers included
	// (DeleteMarker set). It fails with ErrNoSuchBucket or ErrNoSuchVersion.
	GetObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectRecord, error)
	// PutObject makes rec the key's current version, as the bucket's
	// versioning state says (see VersioningState): rec.VersionKey is the
	// new version's key, and its ID unless the write makes the null
	// version. Files no version references any more are returned as
	// garbage. It fails with ErrNoSuchBucket.
	PutObject(ctx context.Context, rec ObjectRecord) (Change, error)
	// DeleteObject deletes a key as a DELETE without a version ID does:
	// removes the object in an unversioned bucket, else adds a delete
	// marker (d.MarkerKey, d.Time). It fails with ErrNoSuchBucket.
	DeleteObject(ctx context.Context, d DeleteRequest) (Change, error)
	// DeleteVersion removes version d.VersionID for good, if it exists and
	// d.Cond holds (else Change.Skipped); when it was the current version,
	// the next newest becomes current. It fails with ErrNoSuchBucket.
	DeleteVersion(ctx context.Context, d DeleteRequest) (Change, error)
	// SetObjectTags replaces the tag set of a version (versionID "" for
	// the current one) and returns the version's ID. It fails with
	// ErrNoSuchBucket, ErrNoSuchKey, ErrNoSuchVersion or a
	// *DeleteMarkerError.
	SetObjectTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (string, error)
	// ScanObjects calls fn for the bucket's current objects (the live
	// index: no delete markers, no noncurrent versions) in r, in key
	// order, until fn returns false or r.Limit rows were passed. Rows are
	// read lazily: stopping early costs nothing further. fn must not call
	// the Catalog.
	ScanObjects(ctx context.Context, bucket string, r KeyRange, fn func(ObjectRecord) bool) error
	// ScanVersions is ScanObjects over every version and delete marker,
	// ordered by key, then newest first (by VersionKey; r.FromID is a
	// VersionKey), with IsLatest and NoncurrentSince set.
	ScanVersions(ctx context.Context, bucket string, r KeyRange, fn func(ObjectRecord) bool) error

	// CreateUpload records a new upload. It fails with ErrNoSuchBucket.
	CreateUpload(ctx context.Context, u Upload) error
	// GetUpload fails with ErrNoSuchUpload unless the upload exists for
	// that bucket and key.
	GetUpload(ctx context.Context, bucket, key, uploadID string) (Upload, error)
	// PutPart inserts or replaces a part and returns the replaced part's
	// file. It fails with ErrNoSuchUpload.
	PutPart(ctx context.Context, bucket, key, uploadID string, p PartRecord) (garbage []string, err error)
	// ListParts returns up to limit parts numbered above after, ascending;
	// limit <= 0 means all.
	ListParts(ctx context.Context, bucket, key, uploadID string, after, limit int) ([]PartRecord, error)
	// CompleteUpload atomically writes rec as PutObject does, whose
	// segments must be files of current parts of the upload, and removes
	// the upload. Parts not used by rec and the replaced object's files are
	// returned as garbage. It fails with ErrNoSuchUpload, or ErrInvalidPart
	// if a segment is no longer a current part (replaced concurrently).
	CompleteUpload(ctx context.Context, uploadID string, rec ObjectRecord) (Change, error)
	// AbortUpload removes an upload and returns its parts' files.
	AbortUpload(ctx context.Context, bucket, key, uploadID string) (garbage []string, err error)
	// ScanUploads is ScanObjects for in-progress uploads, ordered by key
	// then upload ID.
	ScanUploads(ctx context.Context, bucket string, r KeyRange, fn func(Upload) bool) error

	// PendingGarbage lists the files recorded as garbage.
	PendingGarbage(ctx context.Context) ([]string, error)
	// ForgetGarbage removes IDs from the garbage journal once their files
	// are unlinked. It may apply lazily (with a later write); forgetting an
	// ID twice or an unknown ID is harmless.
	ForgetGarbage(ctx context.Context, ids []string) error
	// ReferencedFiles calls fn for every file ID a version or part names.
	ReferencedFiles(ctx context.Context, fn func(id string)) error

	// Close releases the engine.
	Close() error
}

// KeyRange selects rows for a Catalog scan.
type KeyRange struct {
	// From is where the scan starts: keys >= From when Inclusive, else keys
	// > From. For uploads and versions, FromID refines an exclusive start:
	// rows after (From, FromID) in (key, upload ID) or (key, version key)
	// order.
	From      string
	FromID    string
	Inclusive bool
	// To is the exclusive end; empty means unbounded.
	To string
	// Limit caps the rows passed to fn; <= 0 means no cap.
	Limit int
}

// ObjectRecord is an object version's catalog row: its info and its data
// segments.
type ObjectRecord struct {
	ObjectInfo
	// Segments are the object's data files in order; their sizes add up to
	// Size. A single-part object has one segment; a multipart object one
	// per part. A delete marker has none.
	Segments []Segment
	// VersionKey orders the versions of a key, newest first, and is
	// unique among them (see newVersionKey). It is the version's ID unless
	// the version is the null version. Rows written before versioning
	// existed have none until they become noncurrent.
	VersionKey string
	// NoncurrentSince is when a newer version replaced this one; zero for
	// the current version.
	NoncurrentSince time.Time
}

// Change is what a Catalog write did.
type Change struct {
	// Garbage are the data files no version references any more, already
	// journaled.
	Garbage []string
	// VersionID is the version written or removed, or the delete marker
	// added; empty in a bucket that never had versioning enabled.
	VersionID string
	// DeleteMarker reports that the version added or removed is a delete
	// marker.
	DeleteMarker bool
	// Skipped reports that a conditional delete changed nothing.
	Skipped bool
}

// DeleteRequest is a Catalog.DeleteObject or DeleteVersion call.
type DeleteRequest struct {
	Bucket, Key string
	// VersionID is the version DeleteVersion removes.
	VersionID string
	// MarkerKey and Time are the version key and time of the delete marker
	// DeleteObject adds in a versioned bucket.
	MarkerKey string
	Time      time.Time
	// IfVersionKey, when IfCurrent is set, makes DeleteObject act only if
	// the key's current version is an object with that VersionKey (so a
	// lifecycle expiry never deletes an object written after its scan).
	IfCurrent    bool
	IfVersionKey string
	// Cond restricts DeleteVersion.
	Cond VersionCondition
}

// VersionCondition restricts which version DeleteVersion may remove.
type VersionCondition int

// The version conditions.
const (
	// AnyVersion removes the version whatever it is.
	AnyVersion VersionCondition = iota
	// OnlyNoncurrent removes it only while it is not the current version.
	OnlyNoncurrent
	// OnlyDanglingMarker removes it only if it is a delete marker and the
	// key's only version (an "expired object delete marker").
	OnlyDanglingMarker
)

// Segment is one data file of an object, or, with Inline set, the
// object's data kept in the catalog itself (see [InlineCatalog]).
type Segment struct {
	FileID string `json:"id"`
	Size   int64  `json:"size"`
	// Inline says the data is not a file: FileID names it in the
	// catalog, and the catalog drops it in the transaction that drops
	// the last reference (it is never returned as garbage).
	Inline bool `json:"inline,omitempty"`
}

// PartRecord is a part's catalog row.
type PartRecord struct {
	PartInfo
	MD5       []byte
	CRC64NVME uint64
	CRC64ECMA uint64
	FileID    string
}
