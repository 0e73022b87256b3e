package objstore

import (
	"context"
	"time"
)

// CreateBucket creates a bucket. It fails with ErrInvalidBucketName or
// ErrBucketExists.
func (s *Store) CreateBucket(ctx context.Context, name string) error {
	if err := CheckBucketName(name); err != nil {
		return err
	}
	return s.cat.CreateBucket(ctx, Bucket{Name: name, Created: now()})
}

// DeleteBucket deletes an empty bucket. A bucket with in-progress multipart
// uploads is not empty: unlike S3, which drops such uploads silently, the
// caller must abort them first (ErrBucketNotEmpty says so), so no upload's
// parts are lost without a request that names them.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	return s.cat.DeleteBucket(ctx, name)
}

// GetBucket returns a bucket's description, or ErrNoSuchBucket.
func (s *Store) GetBucket(ctx context.Context, name string) (Bucket, error) {
	return s.cat.GetBucket(ctx, name)
}

// ListBuckets lists all buckets by name.
func (s *Store) ListBuckets(ctx context.Context) ([]Bucket, error) {
	return s.cat.ListBuckets(ctx)
}

// SetBucketPublicRead sets whether anonymous clients may GET/HEAD objects.
func (s *Store) SetBucketPublicRead(ctx context.Context, name string, public bool) error {
	return s.cat.SetBucketPublicRead(ctx, name, public)
}

// now is the store's clock: UTC, millisecond precision, the precision S3
// listings show and that survives a round trip through the catalog.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
