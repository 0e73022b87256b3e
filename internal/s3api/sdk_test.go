package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/objstore"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSDKBucketOps(t *testing.T) {
	e := newEnv(t)
	c := e.sdk()
	ctx := context.Background()

	for _, b := range []string{"alpha", "beta"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("CreateBucket(%s): %v", b, err)
		}
	}
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
	if got := apiCode(err); got != "BucketAlreadyOwnedByYou" {
		t.Errorf("CreateBucket(existing) code = %q, want BucketAlreadyOwnedByYou (err %v)", got, err)
	}
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("gamma"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	if got := apiCode(err); got != "InvalidLocationConstraint" {
		t.Errorf("CreateBucket(eu-west-1) code = %q, want InvalidLocationConstraint (err %v)", got, err)
	}

	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, aws.ToString(b.Name))
		if b.CreationDate == nil || b.CreationDate.IsZero() {
			t.Errorf("bucket %s has no CreationDate", aws.ToString(b.Name))
		}
	}
	if diff := cmp.Diff([]string{"alpha", "beta"}, names); diff != "" {
		t.Errorf("ListBuckets names (-want +got):\n%s", diff)
	}

	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Errorf("HeadBucket(alpha): %v", err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket(nope) = %v, want NotFound", err)
	}

	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("alpha")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("GetBucketLocation = %q, %v; want \"\" (us-east-1)", loc.LocationConstraint, err)
	}
	ver, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("alpha")})
	if err != nil || ver.Status != "" {
		t.Errorf("GetBucketVersioning = %q, %v; want empty status", ver.Status, err)
	}

	// ACL: private by default, public-read after PutBucketAcl.
	acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("alpha")})
	if err != nil {
		t.Fatalf("GetBucketAcl: %v", err)
	}
	if len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl {
		t.Errorf("private bucket grants = %+v, want one FULL_CONTROL", acl.Grants)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("alpha"), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatalf("PutBucketAcl(public-read): %v", err)
	}
	acl, err = c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("alpha")})
	if err != nil {
		t.Fatalf("GetBucketAcl: %v", err)
	}
	public := false
	for _, g := range acl.Grants {
		if g.Grantee != nil && aws.ToString(g.Grantee.URI) == allUsersURI && g.Permission == types.PermissionRead {
			public = true
		}
	}
	if !public {
		t.Errorf("public-read bucket grants = %+v, want AllUsers READ", acl.Grants)
	}

	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("beta"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("beta")})
	if got := apiCode(err); got != "BucketNotEmpty" {
		t.Errorf("DeleteBucket(non-empty) code = %q, want BucketNotEmpty", got)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("beta"), Key: aws.String("k")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("beta")}); err != nil {
		t.Fatalf("DeleteBucket: %v", err)
	}
	_, err = c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String("alpha")})
	if got := apiCode(err); got != "NotImplemented" {
		t.Errorf("GetBucketWebsite code = %q, want NotImplemented", got)
	}
}

func TestSDKObjectRoundTrip_A1(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	c := e.sdk()
	ctx := context.Background()
	data := payload(300 << 10)
	sum := md5.Sum(data)
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

	put, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:             aws.String("bkt"),
		Key:                aws.String("dir/obj.bin"),
		Body:               bytes.NewReader(data),
		ContentType:        aws.String("application/x-test"),
		CacheControl:       aws.String("max-age=60"),
		ContentDisposition: aws.String(`attachment; filename="o.bin"`),
		ContentLanguage:    aws.String("en"),
		Expires:            aws.Time(expires),
		Metadata:           map[string]string{"Color": "blue", "x-y": "z"},
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	wantETag := `"` + hex.EncodeToString(sum[:]) + `"`
	if got := aws.ToString(put.ETag); got != wantETag {
		t.Errorf("PutObject ETag = %s, want %s (quoted, case A1)", got, wantETag)
	}

	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/obj.bin"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	body, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil {
		t.Fatalf("reading GetObject body (SDK checksum validation): %v", err)
	}
	if !bytes.Equal(body, data) {
		t.Fatalf("GetObject body differs from what was put")
	}
	if aws.ToString(get.ChecksumCRC64NVME) == "" {
		t.Errorf("GetObject has no x-amz-checksum-crc64nvme")
	}
	got := map[string]string{
		"ETag":               aws.ToString(get.ETag),
		"ContentType":        aws.ToString(get.ContentType),
		"CacheControl":       aws.ToString(get.CacheControl),
		"ContentDisposition": aws.ToString(get.ContentDisposition),
		"ContentLanguage":    aws.ToString(get.ContentLanguage),
		"Expires":            aws.ToTime(get.Expires).UTC().String(),
		"meta color":         get.Metadata["color"],
		"meta x-y":           get.Metadata["x-y"],
	}
	want := map[string]string{
		"ETag":               wantETag,
		"ContentType":        "application/x-test",
		"CacheControl":       "max-age=60",
		"ContentDisposition": `attachment; filename="o.bin"`,
		"ContentLanguage":    "en",
		"Expires":            expires.String(),
		"meta color":         "blue",
		"meta x-y":           "z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetObject headers (-want +got):\n%s", diff)
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/obj.bin")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(data)) || aws.ToString(head.ETag) != wantETag {
		t.Errorf("HeadObject = length %d etag %s; want %d %s", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), len(data), wantETag)
	}

	// A range GET with checksum mode on must not fail validation (C07).
	rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/obj.bin"),
		Range: aws.String("bytes=100-199"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("range GetObject: %v", err)
	}
	part, err := io.ReadAll(rg.Body)
	rg.Body.Close()
	if err != nil || !bytes.Equal(part, data[100:200]) {
		t.Fatalf("range GetObject body: err %v, equal %v", err, bytes.Equal(part, data[100:200]))
	}
	if aws.ToString(rg.ContentRange) != fmt.Sprintf("bytes 100-199/%d", len(data)) {
		t.Errorf("Content-Range = %q", aws.ToString(rg.ContentRange))
	}

	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/obj.bin")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/obj.bin")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("GetObject after delete = %v, want NoSuchKey", err)
	}
	// Deleting a missing key succeeds, as in S3.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/obj.bin")}); err != nil {
		t.Errorf("DeleteObject(missing): %v", err)
	}
}

// The SDK's streaming upload forms: unsigned payload with a trailing CRC32
// (unseekable body) and a signed payload.
func TestSDKPutChecksums(t *testing.T) {
	plain := newEnv(t)
	plain.bucket("bkt")
	tls := newEnv(t, withTLS)
	tls.bucket("bkt")
	ctx := context.Background()
	data := payload(200 << 10)
	for _, tc := range []struct {
		name string
		e    *testEnv
		in   s3.PutObjectInput
	}{
		{"seekable-crc32", plain, s3.PutObjectInput{Body: bytes.NewReader(data)}},
		{"crc32c", plain, s3.PutObjectInput{Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}},
		{"sha256", plain, s3.PutObjectInput{Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmSha256}},
		{"crc64nvme", plain, s3.PutObjectInput{Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme}},
		{"tls-trailer-crc32", tls, s3.PutObjectInput{Body: bytes.NewReader(data)}},
		{"tls-unseekable-trailer", tls, s3.PutObjectInput{Body: struct{ io.Reader }{bytes.NewReader(data)}, ContentLength: aws.Int64(int64(len(data)))}},
		{"tls-trailer-crc64nvme", tls, s3.PutObjectInput{Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme}},
		{"tls-trailer-sha1", tls, s3.PutObjectInput{Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmSha1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.e.sdk()
			in := tc.in
			in.Bucket, in.Key = aws.String("bkt"), aws.String(tc.name)
			out, err := c.PutObject(ctx, &in)
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if strings.HasSuffix(tc.name, "crc64nvme") && aws.ToString(out.ChecksumCRC64NVME) == "" {
				t.Errorf("PutObject response has no x-amz-checksum-crc64nvme")
			}
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: in.Bucket, Key: in.Key, ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			got, err := io.ReadAll(get.Body)
			get.Body.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GetObject: err %v, equal %v", err, bytes.Equal(got, data))
			}
		})
	}
}

func TestSDKErrors(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	ctx := context.Background()

	bad := e.sdk(func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(testAccessKey, "wrong-secret", "")
	})
	_, err := bad.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if got := apiCode(err); got != "SignatureDoesNotMatch" {
		t.Errorf("bad secret: code %q, want SignatureDoesNotMatch (%v)", got, err)
	}
	unknown := e.sdk(func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIDNOBODY", testSecret, "")
	})
	_, err = unknown.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if got := apiCode(err); got != "InvalidAccessKeyId" {
		t.Errorf("unknown key: code %q, want InvalidAccessKeyId (%v)", got, err)
	}

	c := e.sdk()
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: strings.NewReader("hello"), ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")})
	if got := apiCode(err); got != "BadDigest" {
		t.Errorf("wrong Content-MD5: code %q, want BadDigest (%v)", got, err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: strings.NewReader("hello"), ContentMD5: aws.String("not-base64!")})
	if got := apiCode(err); got != "InvalidDigest" {
		t.Errorf("malformed Content-MD5: code %q, want InvalidDigest (%v)", got, err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: strings.NewReader("hello"), ChecksumCRC32: aws.String("AAAAAA==")})
	if got := apiCode(err); got != "BadDigest" {
		t.Errorf("wrong x-amz-checksum-crc32: code %q, want BadDigest (%v)", got, err)
	}
	if _, err := e.store.StatObject(ctx, "bkt", "k"); err == nil {
		t.Errorf("an object was stored despite the failed digests")
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if got := apiCode(err); got != "NoSuchBucket" {
		t.Errorf("PutObject to missing bucket: code %q, want NoSuchBucket", got)
	}
}

func TestSDKDeleteObjects(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	for _, k := range []string{"a", "b/c", "d e"} {
		e.put("bkt", k, []byte(k), objstore.Meta{})
	}
	c := e.sdk()
	ctx := context.Background()
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b/c")}, {Key: aws.String("missing")}},
	}})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, aws.ToString(d.Key))
	}
	sort.Strings(deleted)
	if diff := cmp.Diff([]string{"a", "b/c", "missing"}, deleted); diff != "" {
		t.Errorf("Deleted (-want +got):\n%s", diff)
	}
	quiet, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("d e")}}, Quiet: aws.Bool(true),
	}})
	if err != nil || len(quiet.Deleted) != 0 {
		t.Fatalf("quiet DeleteObjects: %v, deleted %d entries, want 0", err, len(quiet.Deleted))
	}
	lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if err != nil || len(lo.Contents) != 0 {
		t.Fatalf("after DeleteObjects: %d objects left (%v), want 0", len(lo.Contents), err)
	}
}

func TestSDKCopyObject(t *testing.T) {
	e := newEnv(t)
	e.bucket("src")
	e.bucket("dst")
	c := e.sdk()
	ctx := context.Background()
	data := payload(100 << 10)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/a b+c"), Body: bytes.NewReader(data),
		ContentType: aws.String("text/x-src"), Metadata: map[string]string{"k": "v"}}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	src := "src/" + url.PathEscape("dir/a b+c")

	// COPY keeps the metadata.
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy1"), CopySource: aws.String(src)})
	if err != nil {
		t.Fatalf("CopyObject(COPY): %v", err)
	}
	sum := md5.Sum(data)
	if got, want := aws.ToString(cp.CopyObjectResult.ETag), `"`+hex.EncodeToString(sum[:])+`"`; got != want {
		t.Errorf("CopyObject ETag = %s, want %s", got, want)
	}
	h1, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy1")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if aws.ToString(h1.ContentType) != "text/x-src" || h1.Metadata["k"] != "v" {
		t.Errorf("COPY: content type %q meta %v, want text/x-src and k=v", aws.ToString(h1.ContentType), h1.Metadata)
	}

	// REPLACE takes the request's metadata.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy2"), CopySource: aws.String(src),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/x-new"), Metadata: map[string]string{"n": "1"}}); err != nil {
		t.Fatalf("CopyObject(REPLACE): %v", err)
	}
	h2, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy2")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if aws.ToString(h2.ContentType) != "text/x-new" || h2.Metadata["n"] != "1" || h2.Metadata["k"] != "" {
		t.Errorf("REPLACE: content type %q meta %v, want text/x-new and only n=1", aws.ToString(h2.ContentType), h2.Metadata)
	}

	// Onto itself without REPLACE is illegal; with REPLACE it is fine.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/a b+c"), CopySource: aws.String(src)})
	if got := apiCode(err); got != "InvalidRequest" {
		t.Errorf("self copy: code %q, want InvalidRequest", got)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/a b+c"), CopySource: aws.String(src),
		MetadataDirective: types.MetadataDirectiveReplace}); err != nil {
		t.Errorf("self copy with REPLACE: %v", err)
	}

	// Conditions on the source.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy3"), CopySource: aws.String(src),
		CopySourceIfMatch: aws.String(`"0123"`)})
	if got := apiCode(err); got != "PreconditionFailed" {
		t.Errorf("copy-source-if-match mismatch: code %q, want PreconditionFailed", got)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy3"), CopySource: aws.String("src/missing")})
	if got := apiCode(err); got != "NoSuchKey" {
		t.Errorf("copy of missing source: code %q, want NoSuchKey", got)
	}
}

// Multipart with UploadPart and UploadPartCopy; the ETag is the MD5 of the
// part MD5s with the part count, quoted (case A1).
func TestSDKMultipart_A1(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	c := e.sdk()
	ctx := context.Background()
	src := payload(3 * testMinPart)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("src"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"),
		ContentType: aws.String("video/mp4"), Metadata: map[string]string{"m": "1"}})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	id := cr.UploadId
	part1 := payload(testMinPart + 1000)
	up1, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: id,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(part1)})
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	// Part 2 copies bytes [1000, 1000+minPart) of src.
	pc, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: id,
		PartNumber: aws.Int32(2), CopySource: aws.String("bkt/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=1000-%d", 1000+testMinPart-1))})
	if err != nil {
		t.Fatalf("UploadPartCopy: %v", err)
	}
	part3 := []byte("tail")
	up3, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: id,
		PartNumber: aws.Int32(3), Body: bytes.NewReader(part3)})
	if err != nil {
		t.Fatalf("UploadPart(3): %v", err)
	}

	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: id})
	if err != nil || len(lp.Parts) != 3 {
		t.Fatalf("ListParts: %d parts, %v; want 3", len(lp.Parts), err)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("bkt")})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) {
		t.Fatalf("ListMultipartUploads: %+v, %v; want the one upload", lu.Uploads, err)
	}

	comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: up1.ETag},
			{PartNumber: aws.Int32(2), ETag: pc.CopyPartResult.ETag},
			{PartNumber: aws.Int32(3), ETag: up3.ETag},
		}}})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	want := append(append(append([]byte{}, part1...), src[1000:1000+testMinPart]...), part3...)
	var md5s []byte
	for _, p := range [][]byte{part1, src[1000 : 1000+testMinPart], part3} {
		s := md5.Sum(p)
		md5s = append(md5s, s[:]...)
	}
	mm := md5.Sum(md5s)
	wantETag := `"` + hex.EncodeToString(mm[:]) + `-3"`
	if got := aws.ToString(comp.ETag); got != wantETag {
		t.Errorf("CompleteMultipartUpload ETag = %s, want %s", got, wantETag)
	}

	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("GetObject of multipart object: err %v, equal %v", err, bytes.Equal(got, want))
	}
	if aws.ToString(get.ETag) != wantETag || aws.ToString(get.ContentType) != "video/mp4" || get.Metadata["m"] != "1" {
		t.Errorf("GetObject: ETag %s type %s meta %v", aws.ToString(get.ETag), aws.ToString(get.ContentType), get.Metadata)
	}
	if aws.ToInt32(get.PartsCount) != 3 {
		t.Errorf("x-amz-mp-parts-count = %d, want 3", aws.ToInt32(get.PartsCount))
	}

	// Abort of another upload, then its ListParts is NoSuchUpload.
	cr2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp2")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp2"), UploadId: cr2.UploadId}); err != nil {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("bkt"), Key: aws.String("mp2"), UploadId: cr2.UploadId})
	if got := apiCode(err); got != "NoSuchUpload" {
		t.Errorf("ListParts after abort: code %q, want NoSuchUpload", got)
	}
}

func TestSDKOddKeys(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	c := e.sdk()
	ctx := context.Background()
	keys := append([]string{"empty", "q?x=1#frag", "dir//double", "trailing/"}, oddKeys...)
	for _, k := range keys {
		var body []byte
		if k != "empty" {
			body = []byte("data of " + k)
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(k), Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("PutObject(%q): %v", k, err)
		}
		get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(k), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("GetObject(%q): %v", k, err)
		}
		got, err := io.ReadAll(get.Body)
		get.Body.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("GetObject(%q) = %q, %v; want %q", k, got, err, body)
		}
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var listed []string
	for _, o := range out.Contents {
		listed = append(listed, aws.ToString(o.Key))
	}
	sort.Strings(keys)
	if diff := cmp.Diff(keys, listed); diff != "" {
		t.Errorf("listed keys (-want +got):\n%s", diff)
	}
}

// corruptChecksum replaces the x-amz-checksum-crc64nvme the handler sends.
type corruptChecksum struct{ http.ResponseWriter }

func (c corruptChecksum) WriteHeader(code int) {
	if c.Header().Get("x-amz-checksum-crc64nvme") != "" {
		c.Header().Set("x-amz-checksum-crc64nvme", "AAAAAAAAAAA=")
	}
	c.ResponseWriter.WriteHeader(code)
}

// The SDK really checks the crc64nvme header on GET (so the passing GETs
// above mean the header is right): a wrong value fails the read (C21).
func TestSDKValidatesGetChecksum_C21(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	e.put("bkt", "obj", payload(5000), objstore.Meta{})
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.h.ServeHTTP(corruptChecksum{w}, r)
	}))
	defer bad.Close()
	c := e.sdk(func(o *s3.Options) { o.BaseEndpoint = aws.String(bad.URL) })
	get, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("obj"), ChecksumMode: types.ChecksumModeEnabled})
	if err == nil {
		_, err = io.ReadAll(get.Body)
		get.Body.Close()
	}
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "checksum") {
		t.Fatalf("GetObject with a wrong crc64nvme: err = %v, want a checksum mismatch", err)
	}
}
