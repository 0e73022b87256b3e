package objstore

import (
	"context"
	"fmt"
	"strings"
)

// SetBucketVersioning enables or suspends versioning on a bucket. Once
// enabled, a bucket never returns to Unversioned (as in S3). It fails with
// ErrNoSuchBucket or ErrInvalidVersioning.
func (s *Store) SetBucketVersioning(ctx context.Context, bucket string, state VersioningState) error {
	if state != VersioningEnabled && state != VersioningSuspended {
		return fmt.Errorf("%w: got %q", ErrInvalidVersioning, string(state))
	}
	return s.cat.SetBucketVersioning(ctx, bucket, state)
}

// ListVersionsOptions select versions for ListObjectVersions.
type ListVersionsOptions struct {
	Prefix    string
	Delimiter string
	// KeyMarker alone resumes after every version of that key; with
	// VersionIDMarker, after that version of it.
	KeyMarker       string
	VersionIDMarker string
	MaxKeys         int // 0 means 1000
}

// ListVersionsResult is one page of ListObjectVersions.
type ListVersionsResult struct {
	// Versions holds object versions and delete markers (DeleteMarker
	// set), by key and then newest first, with IsLatest set on each key's
	// current version. VersionID is empty in a bucket that never had
	// versioning enabled (S3 shows "null").
	Versions            []ObjectInfo
	CommonPrefixes      []string
	IsTruncated         bool
	NextKeyMarker       string
	NextVersionIDMarker string
}

// ListObjectVersions lists one page of a bucket's versions and delete
// markers, as S3's ListObjectVersions does. Delimiter and markers behave
// as in ListObjects. It fails with ErrNoSuchBucket, or ErrNoSuchVersion
// when VersionIDMarker names no version of KeyMarker.
func (s *Store) ListObjectVersions(ctx context.Context, bucket string, opts ListVersionsOptions) (ListVersionsResult, error) {
	if _, err := s.cat.GetBucket(ctx, bucket); err != nil {
		return ListVersionsResult{}, err
	}
	q := listQuery{prefix: opts.Prefix, delim: opts.Delimiter, marker: opts.KeyMarker, max: opts.MaxKeys}
	if opts.VersionIDMarker != "" && opts.KeyMarker != "" {
		rec, err := s.cat.GetObjectVersion(ctx, bucket, opts.KeyMarker, opts.VersionIDMarker)
		if err != nil {
			return ListVersionsResult{}, fmt.Errorf("version-id-marker: %w", err)
		}
		q.idMarker = rec.VersionKey
	}
	pg, err := listPage(q, func(r KeyRange, fn func(key, id string, item ObjectInfo) bool) error {
		return s.cat.ScanVersions(ctx, bucket, r, func(rec ObjectRecord) bool {
			return fn(rec.Key, rec.VersionKey, rec.ObjectInfo)
		})
	})
	if err != nil {
		return ListVersionsResult{}, err
	}
	res := ListVersionsResult{
		Versions:       pg.items,
		CommonPrefixes: pg.prefixes,
		IsTruncated:    pg.truncated,
		NextKeyMarker:  pg.nextKey,
	}
	if pg.truncated && len(pg.items) > 0 {
		last := pg.items[len(pg.items)-1]
		isPrefix := len(pg.prefixes) > 0 && pg.prefixes[len(pg.prefixes)-1] == pg.nextKey
		if last.Key == pg.nextKey && !isPrefix {
			res.NextVersionIDMarker = last.VersionID
			if res.NextVersionIDMarker == "" {
				res.NextVersionIDMarker = NullVersionID
			}
		}
	}
	return res, nil
}

// PutObjectTagging replaces the tag set of an object version (versionID
// "" for the current one) and returns the version's ID. It fails with
// ErrNoSuchBucket, ErrNoSuchKey, ErrNoSuchVersion or a *DeleteMarkerError.
func (s *Store) PutObjectTagging(ctx context.Context, bucket, key, versionID string, tags map[string]string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	if len(tags) == 0 {
		tags = nil
	}
	return s.cat.SetObjectTags(ctx, bucket, key, versionID, tags)
}

// PutBucketConfig stores a bucket configuration document under a name
// (for example "cors" or "policy"; "lifecycle" is used by
// PutBucketLifecycle). The store does not interpret it; it is deleted
// with the bucket. It fails with ErrNoSuchBucket.
func (s *Store) PutBucketConfig(ctx context.Context, bucket, name string, doc []byte) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("put bucket configuration: empty name")
	}
	return s.cat.PutBucketConfig(ctx, bucket, name, doc)
}

// GetBucketConfig returns a document stored by PutBucketConfig. It fails
// with ErrNoSuchBucket or ErrNoSuchBucketConfig.
func (s *Store) GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error) {
	return s.cat.GetBucketConfig(ctx, bucket, name)
}

// DeleteBucketConfig deletes a document if present. It fails with
// ErrNoSuchBucket.
func (s *Store) DeleteBucketConfig(ctx context.Context, bucket, name string) error {
	return s.cat.DeleteBucketConfig(ctx, bucket, name)
}
