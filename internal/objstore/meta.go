package objstore

import "context"

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

	// GetObject fails with ErrNoSuchKey, or ErrNoSuchBucket when the bucket
	// does not exist.
	GetObject(ctx context.Context, bucket, key string) (ObjectRecord, error)
	// PutObject inserts or replaces rec's object and returns the data files
	// of the replaced one. It fails with ErrNoSuchBucket.
	PutObject(ctx context.Context, rec ObjectRecord) (garbage []string, err error)
	// DeleteObject removes an object if present and returns its files. It
	// fails with ErrNoSuchBucket.
	DeleteObject(ctx context.Context, bucket, key string) (garbage []string, err error)
	// ScanObjects calls fn for the bucket's objects in r, in key order,
	// until fn returns false or r.Limit rows were passed. Rows are read
	// lazily: stopping early costs nothing further. fn must not call the
	// Catalog.
	ScanObjects(ctx context.Context, bucket string, r KeyRange, fn func(ObjectRecord) bool) error

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
	// CompleteUpload atomically replaces rec's object with rec, whose
	// segments must be files of current parts of the upload, and removes
	// the upload. Parts not used by rec and the replaced object's files are
	// returned as garbage. It fails with ErrNoSuchUpload, or ErrInvalidPart
	// if a segment is no longer a current part (replaced concurrently).
	CompleteUpload(ctx context.Context, uploadID string, rec ObjectRecord) (garbage []string, err error)
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
	// ReferencedFiles calls fn for every file ID an object or part names.
	ReferencedFiles(ctx context.Context, fn func(id string)) error

	// Close releases the engine.
	Close() error
}

// KeyRange selects rows for a Catalog scan.
type KeyRange struct {
	// From is where the scan starts: keys >= From when Inclusive, else keys
	// > From. For uploads, FromID refines an exclusive start: rows after
	// (From, FromID) in (key, upload ID) order.
	From      string
	FromID    string
	Inclusive bool
	// To is the exclusive end; empty means unbounded.
	To string
	// Limit caps the rows passed to fn; <= 0 means no cap.
	Limit int
}

// ObjectRecord is an object's catalog row: its info and its data segments.
type ObjectRecord struct {
	ObjectInfo
	// Segments are the object's data files in order; their sizes add up to
	// Size. A single-part object has one segment; a multipart object one
	// per part.
	Segments []Segment
}

// Segment is one data file of an object.
type Segment struct {
	FileID string `json:"id"`
	Size   int64  `json:"size"`
}

// PartRecord is a part's catalog row.
type PartRecord struct {
	PartInfo
	MD5       []byte
	CRC64NVME uint64
	CRC64ECMA uint64
	FileID    string
}
