package vod

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Store is an S3 endpoint: Strata's own S3 API or any other.
type Store struct {
	// Endpoint is http://host:port or https://host.
	Endpoint             string
	AccessKey, SecretKey string
	SessionToken         string
	// Region requests are signed for. If empty, "us-east-1".
	Region string
}

// Client returns an S3 client for the store, with path-style bucket
// addressing (what Strata's S3 API serves on any host name).
func (s Store) Client() (*minio.Client, error) {
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("s3 endpoint %q: want http://host:port or https://host", s.Endpoint)
	}
	region := s.Region
	if region == "" {
		region = "us-east-1"
	}
	return minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, s.SessionToken),
		Secure:       u.Scheme == "https",
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   3,
	})
}

// S3Object is a Source reading an object with ranged GETs (RFC 9110
// §14.2): the packager reads a few blocks at a time, never the whole
// object.
type S3Object struct {
	ctx    context.Context
	client *minio.Client
	bucket string
	key    string
	size   int64
	etag   string
}

// OpenS3Object stats bucket/key and returns it as a Source. Every ranged
// read is conditional on the ETag seen here, so an object replaced while
// it is being packaged fails the run instead of mixing two files.
func OpenS3Object(ctx context.Context, c *minio.Client, bucket, key string) (*S3Object, error) {
	st, err := c.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: s3://%s/%s: %w", ErrRead, bucket, key, err)
	}
	return &S3Object{ctx: ctx, client: c, bucket: bucket, key: key, size: st.Size, etag: st.ETag}, nil
}

// Size is the object's size.
func (o *S3Object) Size() int64 { return o.size }

// ReadAt reads len(p) bytes at off with one ranged GET.
func (o *S3Object) ReadAt(p []byte, off int64) (int, error) {
	if off >= o.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), o.size) - 1
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, end); err != nil {
		return 0, err
	}
	if o.etag != "" {
		if err := opts.SetMatchETag(o.etag); err != nil {
			return 0, err
		}
	}
	obj, err := o.client.GetObject(o.ctx, o.bucket, o.key, opts)
	if err != nil {
		return 0, fmt.Errorf("s3://%s/%s bytes %d-%d: %w", o.bucket, o.key, off, end, err)
	}
	defer obj.Close()
	n, err := io.ReadFull(obj, p[:end-off+1])
	if err != nil {
		return n, fmt.Errorf("s3://%s/%s bytes %d-%d: %w", o.bucket, o.key, off, end, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// S3Prefix is a Sink writing objects under a prefix of a bucket.
type S3Prefix struct {
	Client *minio.Client
	Bucket string
	// Prefix is put before every name; "vod/movie/" makes
	// vod/movie/index.m3u8.
	Prefix string
}

// Put writes one object. The key gets Cache-Control: no-store, so no
// cache keeps a copy of it.
func (s *S3Prefix) Put(ctx context.Context, name string, data []byte, contentType string) error {
	opts := minio.PutObjectOptions{ContentType: contentType}
	if contentType == ContentTypeKey {
		opts.CacheControl = "no-store"
	}
	key := s.Prefix + name
	if _, err := s.Client.PutObject(ctx, s.Bucket, key, bytes.NewReader(data), int64(len(data)), opts); err != nil {
		return fmt.Errorf("s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// Key returns the object key of an output name.
func (s *S3Prefix) Key(name string) string { return s.Prefix + name }

// CleanPrefix normalises an output prefix: no leading slash, one trailing
// slash unless empty.
func CleanPrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}
