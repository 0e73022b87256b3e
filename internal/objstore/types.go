package objstore

import "time"

// Bucket describes one bucket.
type Bucket struct {
	Name       string
	Created    time.Time
	PublicRead bool // anonymous GET/HEAD of objects is allowed
	// Versioning is the bucket's versioning state; Unversioned until it
	// is first enabled, and never Unversioned again after that (as in S3).
	Versioning VersioningState
}

// VersioningState is a bucket's versioning state, named as S3's
// VersioningConfiguration Status names it.
type VersioningState string

// The versioning states. In an Unversioned bucket a write replaces the
// object and a delete removes it. With versioning Enabled every write
// adds a version with a new ID and a delete adds a delete marker; when
// Suspended, writes and deletes replace the "null" version and keep the
// others.
const (
	Unversioned         VersioningState = ""
	VersioningEnabled   VersioningState = "Enabled"
	VersioningSuspended VersioningState = "Suspended"
)

// NullVersionID is the ID of the version written while a bucket was
// unversioned or had versioning suspended.
const NullVersionID = "null"

// Meta is the user-settable metadata stored with an object and served back.
type Meta struct {
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	Expires            string // stored verbatim, as the client sent it
	// User holds x-amz-meta-* values, keyed by the lower-case name without
	// the "x-amz-meta-" prefix.
	User map[string]string
	// Tags is the object's tag set (S3 object tagging), which lifecycle
	// rules can filter on.
	Tags map[string]string `json:",omitempty"`
}

// ObjectInfo is the metadata of a stored object.
type ObjectInfo struct {
	Bucket  string
	Key     string
	Size    int64
	ModTime time.Time
	// ETag is the unquoted entity tag: the hex MD5 of the data for a
	// single-part object, "<hex md5 of part md5s>-<N>" for a multipart one.
	ETag string
	// MD5 is the MD5 of the whole data for single-part objects; nil for
	// multipart objects.
	MD5 []byte
	// CRC64NVME and CRC64ECMA are whole-object checksums computed at write
	// time (S3's x-amz-checksum-crc64nvme and OSS's x-oss-hash-crc64ecma).
	CRC64NVME uint64
	CRC64ECMA uint64
	// PartsCount is the number of parts of a multipart object, 0 otherwise.
	PartsCount int
	Meta       Meta
	// VersionID identifies this version of the object: an opaque ID that
	// sorts newest first, or NullVersionID. It is empty when the bucket has
	// never had versioning enabled, so that unversioned buckets show no
	// version IDs.
	VersionID string
	// DeleteMarker marks a delete marker (version listings, and reads of a
	// specific version).
	DeleteMarker bool
	// IsLatest reports, in version listings and reads by version ID, that this is the key's
	// current version.
	IsLatest bool
}

// PutOptions qualify a PutObject or UploadPart call.
type PutOptions struct {
	Meta Meta // ignored by UploadPart
	// Size is the number of bytes the reader will produce, or -1 if unknown.
	// A reader that ends early or produces more fails with ErrIncompleteBody.
	Size int64
	// ContentMD5, when not nil, is the expected MD5 of the data; a mismatch
	// fails with ErrBadDigest and nothing is stored.
	ContentMD5 []byte
}

// CopyOptions qualify a CopyObject call.
type CopyOptions struct {
	// SourceVersionID, if not empty, copies that version of the source
	// instead of its current version.
	SourceVersionID string
	// ReplaceMeta selects the REPLACE metadata directive: Meta replaces the
	// source's metadata. When false, the source's metadata is copied.
	ReplaceMeta bool
	Meta        Meta
}

// ListOptions select objects for ListObjects.
type ListOptions struct {
	Prefix    string
	Delimiter string
	// Marker: only keys (and common prefixes) strictly after it are listed.
	Marker  string
	MaxKeys int // 0 means 1000
}

// ListResult is one page of a listing, in UTF-8 binary key order. Objects and
// CommonPrefixes together hold at most MaxKeys entries.
type ListResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	// NextMarker is the last key or common prefix of this page; pass it as
	// Marker to get the next page. Empty when not truncated.
	NextMarker string
}

// PartInfo describes an uploaded part.
type PartInfo struct {
	PartNumber int
	ETag       string // unquoted hex MD5 of the part
	Size       int64
	ModTime    time.Time
}

// CompletePart names a part in a CompleteMultipartUpload request.
type CompletePart struct {
	PartNumber int
	ETag       string // quoted or unquoted
}

// Upload describes an in-progress multipart upload.
type Upload struct {
	Bucket    string
	Key       string
	UploadID  string
	Initiated time.Time
	Meta      Meta
}

// ListPartsResult is one page of ListParts.
type ListPartsResult struct {
	Upload               Upload
	Parts                []PartInfo
	IsTruncated          bool
	NextPartNumberMarker int
}

// ListUploadsOptions select uploads for ListMultipartUploads.
type ListUploadsOptions struct {
	Prefix         string
	Delimiter      string
	KeyMarker      string
	UploadIDMarker string
	MaxUploads     int // 0 means 1000
}

// ListUploadsResult is one page of ListMultipartUploads.
type ListUploadsResult struct {
	Uploads            []Upload
	CommonPrefixes     []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}
