package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
)

// The real binary with aws-sdk-go-v2: a write, a checksum-validated read, a
// range read, listing, and the errors a user meets first.
func TestBinaryWithAWSSDK_A1_C07(t *testing.T) {
	n := startNode(t, nodeConfig{s3extra: "  buckets: [{name: pub, public_read: true}]\n"})
	ctx := context.Background()
	c := awsClient(n)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("docs")}); err != nil {
		t.Fatal(err)
	}
	body := content("docs/readme", 300<<10, 300<<10)
	sum := md5.Sum(body)
	put, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("docs"), Key: aws.String("dir/read me.txt"), Body: bytes.NewReader(body),
		ContentType: aws.String("text/plain"), CacheControl: aws.String("max-age=60"),
		Metadata: map[string]string{"owner": "ops"},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantETag := `"` + hex.EncodeToString(sum[:]) + `"`
	if aws.ToString(put.ETag) != wantETag {
		t.Errorf("PUT ETag = %s, want %s (quoted MD5, A1)", aws.ToString(put.ETag), wantETag)
	}

	// A full GET with checksum validation: the SDK checks the CRC64 itself.
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("dir/read me.txt"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil || !bytes.Equal(data, body) {
		t.Fatalf("GET body differs (err %v)", err)
	}
	if aws.ToString(get.ChecksumCRC64NVME) == "" {
		t.Error("full GET carries no x-amz-checksum-crc64nvme")
	}
	if get.Metadata["owner"] != "ops" || aws.ToString(get.CacheControl) != "max-age=60" || aws.ToString(get.ContentType) != "text/plain" {
		t.Errorf("metadata not served back: %v %q %q", get.Metadata, aws.ToString(get.CacheControl), aws.ToString(get.ContentType))
	}

	// A range GET must not carry the whole-object checksum, or the SDK
	// would fail validating it against the partial body (C07).
	rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("dir/read me.txt"), Range: aws.String("bytes=100-199"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("range GET with checksum mode: %v", err)
	}
	part, _ := io.ReadAll(rg.Body)
	rg.Body.Close()
	if !bytes.Equal(part, body[100:200]) || aws.ToString(rg.ContentRange) != "bytes 100-199/307200" {
		t.Errorf("range GET: %d bytes, Content-Range %q", len(part), aws.ToString(rg.ContentRange))
	}

	// Anonymous reads: allowed in the public bucket, refused in a private one.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pub"), Key: aws.String("a.txt"), Body: strings.NewReader("public")}); err != nil {
		t.Fatal(err)
	}
	if resp, b := httpGet(t, n.S3+"/pub/a.txt"); resp.StatusCode != 200 || b != "public" {
		t.Errorf("anonymous GET in public bucket = %d %q", resp.StatusCode, b)
	}
	if resp, b := httpGet(t, n.S3+"/docs/dir/read%20me.txt"); resp.StatusCode != 403 || !strings.Contains(b, "<Code>AccessDenied</Code>") {
		t.Errorf("anonymous GET in private bucket = %d %q, want 403 AccessDenied", resp.StatusCode, b)
	}

	// A wrong Content-MD5 is refused and stores nothing.
	bad := md5.Sum([]byte("something else"))
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String("bad"), Body: strings.NewReader("data"), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(bad[:]))})
	wantAPIError(t, err, "BadDigest")
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("docs"), Key: aws.String("bad")})
	wantAPIError(t, err, "NotFound")

	// A wrong secret key: 403 SignatureDoesNotMatch.
	wrong := awsClient(n, func(o *s3.Options) {
		o.Credentials = aws.NewCredentialsCache(staticCreds{testAccessKey, "not-the-secret"})
	})
	_, err = wrong.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch")
}

// The real binary with minio-go: put, stat, list, remove.
func TestBinaryWithMinioGo(t *testing.T) {
	n := startNode(t, nodeConfig{})
	ctx := context.Background()
	c := minioClient(t, n)
	if err := c.MakeBucket(ctx, "mcb", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	body := content("mc/x", 1<<20, 1<<20)
	info, err := c.PutObject(ctx, "mcb", "x/y.bin", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{ContentType: "application/x-test"})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	if info.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("ETag %q, want MD5 %x", info.ETag, sum)
	}
	obj, err := c.GetObject(ctx, "mcb", "x/y.bin", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET differs: %d bytes, err %v", len(got), err)
	}
	var keys []string
	for o := range c.ListObjects(ctx, "mcb", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) != 1 || keys[0] != "x/y.bin" {
		t.Errorf("listed %v, want [x/y.bin]", keys)
	}
	if err := c.RemoveObject(ctx, "mcb", "x/y.bin", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, "mcb"); err != nil {
		t.Fatal(err)
	}
}

type staticCreds struct{ ak, sk string }

func (s staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: s.ak, SecretAccessKey: s.sk}, nil
}

func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("err = %v, want API error %s", err, code)
	}
}
