package s3api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/objstore"
)

// errHeader returns a response header field of a failed SDK call.
func errHeader(err error, name string) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

func errStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func sdkBody(t *testing.T, out *s3.GetObjectOutput, err error) string {
	t.Helper()
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

type sdkVersion struct {
	Key, ID        string
	Marker, Latest bool
}

func sdkVersions(t *testing.T, c *s3.Client, bucket string) []sdkVersion {
	t.Helper()
	out, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListObjectVersions: %v", err)
	}
	// The SDK splits the interleaved listing in two; put it back in
	// listing order (by key, then newest first: version IDs sort so).
	var all []sdkVersion
	for _, v := range out.Versions {
		all = append(all, sdkVersion{aws.ToString(v.Key), aws.ToString(v.VersionId), false, aws.ToBool(v.IsLatest)})
	}
	for _, m := range out.DeleteMarkers {
		all = append(all, sdkVersion{aws.ToString(m.Key), aws.ToString(m.VersionId), true, aws.ToBool(m.IsLatest)})
	}
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && (all[j].Key < all[j-1].Key || all[j].Key == all[j-1].Key && all[j].ID < all[j-1].ID); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	return all
}

func TestSDKVersioning_C27(t *testing.T) {
	e := newEnv(t)
	e.bucket("ver")
	c := e.sdk()
	ctx := context.Background()
	b := aws.String("ver")

	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatalf("PutBucketVersioning: %v", err)
	}
	gv, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	if err != nil || gv.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("GetBucketVersioning = %q, %v; want Enabled", gv.Status, err)
	}
	p1, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: strings.NewReader("one")})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: strings.NewReader("two")})
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := aws.ToString(p1.VersionId), aws.ToString(p2.VersionId)
	if v1 == "" || v2 == "" || v1 == v2 {
		t.Fatalf("PutObject version IDs %q, %q: want two distinct IDs", v1, v2)
	}
	want := []sdkVersion{{"k", v2, false, true}, {"k", v1, false, false}}
	if diff := cmp.Diff(want, sdkVersions(t, c, "ver")); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String(v1)})
	if got := sdkBody(t, g, err); got != "one" || aws.ToString(g.VersionId) != v1 {
		t.Errorf("GetObject(v1) = %q, version %q; want one, %s", got, aws.ToString(g.VersionId), v1)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("k")})
	if err != nil || aws.ToString(h.VersionId) != v2 {
		t.Errorf("HeadObject = %v, %v; want version %s", h, err, v2)
	}

	d, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k")})
	if err != nil || !aws.ToBool(d.DeleteMarker) || aws.ToString(d.VersionId) == "" {
		t.Fatalf("DeleteObject = %+v, %v; want a delete marker", d, err)
	}
	marker := aws.ToString(d.VersionId)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) || errHeader(err, "x-amz-delete-marker") != "true" || errHeader(err, "x-amz-version-id") != marker {
		t.Errorf("GetObject after delete = %v (marker header %q, version %q); want NoSuchKey with x-amz-delete-marker: true and version %s",
			err, errHeader(err, "x-amz-delete-marker"), errHeader(err, "x-amz-version-id"), marker)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("k")})
	if errStatus(err) != http.StatusNotFound || errHeader(err, "x-amz-delete-marker") != "true" {
		t.Errorf("HeadObject after delete = %v; want 404 with x-amz-delete-marker", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String(marker)})
	if apiCode(err) != "MethodNotAllowed" || errStatus(err) != http.StatusMethodNotAllowed || errHeader(err, "x-amz-delete-marker") != "true" {
		t.Errorf("GetObject(marker version) = %v; want 405 MethodNotAllowed with x-amz-delete-marker", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String("00000000000000000000000000000000")})
	if apiCode(err) != "NoSuchVersion" {
		t.Errorf("GetObject(unknown version) = %v; want NoSuchVersion", err)
	}
	lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
	if err != nil || len(lo.Contents) != 0 {
		t.Errorf("ListObjectsV2 after delete = %d objects, %v; want none", len(lo.Contents), err)
	}
	want = []sdkVersion{{"k", marker, true, true}, {"k", v2, false, false}, {"k", v1, false, false}}
	if diff := cmp.Diff(want, sdkVersions(t, c, "ver")); diff != "" {
		t.Errorf("versions after delete (-want +got):\n%s", diff)
	}

	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String("ver/k?versionId=" + v1)})
	if err != nil || aws.ToString(cp.CopySourceVersionId) != v1 || aws.ToString(cp.VersionId) == "" {
		t.Fatalf("CopyObject(v1) = %+v, %v", cp, err)
	}
	g, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("copy")})
	if got := sdkBody(t, g, err); got != "one" {
		t.Errorf("copy of v1 = %q, want one", got)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy2"), CopySource: aws.String("ver/k?versionId=" + marker)})
	if apiCode(err) != "InvalidRequest" {
		t.Errorf("CopyObject from a delete marker = %v; want InvalidRequest", err)
	}
	// Copying an old version over its own key restores it.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("restored"), CopySource: aws.String("ver/copy")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("restored"), Body: strings.NewReader("newer")})
	if err != nil {
		t.Fatal(err)
	}
	vs := filterKey(sdkVersions(t, c, "ver"), "restored")
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("restored"), CopySource: aws.String("ver/restored?versionId=" + vs[1].ID)}); err != nil {
		t.Errorf("CopyObject of an old version onto its key: %v", err)
	}
	g, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("restored")})
	if got := sdkBody(t, g, err); got != "one" {
		t.Errorf("restored object = %q, want one", got)
	}

	// Removing the marker by version ID brings v2 back.
	d, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String(marker)})
	if err != nil || !aws.ToBool(d.DeleteMarker) || aws.ToString(d.VersionId) != marker {
		t.Fatalf("DeleteObject(marker) = %+v, %v", d, err)
	}
	g, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")})
	if got := sdkBody(t, g, err); got != "two" {
		t.Errorf("GetObject after removing the marker = %q, want two", got)
	}

	// DeleteObjects by version: v1 goes for good; a plain key gets a marker.
	do, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("k"), VersionId: aws.String(v1)}, {Key: aws.String("copy")}}}})
	if err != nil || len(do.Deleted) != 2 {
		t.Fatalf("DeleteObjects = %+v, %v", do, err)
	}
	if aws.ToString(do.Deleted[0].VersionId) != v1 || !aws.ToBool(do.Deleted[1].DeleteMarker) || aws.ToString(do.Deleted[1].DeleteMarkerVersionId) == "" {
		t.Errorf("DeleteObjects results = %+v / %+v", do.Deleted[0], do.Deleted[1])
	}

	// Multipart completion makes a version.
	mu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("mp"), UploadId: mu.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part"))})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: mu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}})
	if err != nil || aws.ToString(cm.VersionId) == "" {
		t.Errorf("CompleteMultipartUpload = %+v, %v; want a version ID", cm, err)
	}

	// Suspended: writes get version "null", replacing the previous null.
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"null-1", "null-2"} {
		p, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("s"), Body: strings.NewReader(body)})
		if err != nil || aws.ToString(p.VersionId) != "null" {
			t.Errorf("suspended PutObject = %v, %v; want version null", p, err)
		}
	}
	if got := sdkVersions(t, c, "ver"); !cmp.Equal(filterKey(got, "s"), []sdkVersion{{"s", "null", false, true}}) {
		t.Errorf("versions of s = %+v, want one null version", filterKey(got, "s"))
	}
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: "Off"}})
	if apiCode(err) != "MalformedXML" {
		t.Errorf("PutBucketVersioning(Off) = %v, want MalformedXML", err)
	}
}

func filterKey(vs []sdkVersion, key string) []sdkVersion {
	var out []sdkVersion
	for _, v := range vs {
		if v.Key == key {
			out = append(out, v)
		}
	}
	return out
}

// TestSDKUnversionedHasNoVersionIDs_C27: a bucket that never had
// versioning answers exactly as before.
func TestSDKUnversionedHasNoVersionIDs_C27(t *testing.T) {
	e := newEnv(t)
	e.bucket("plain")
	resp, _ := e.signedDo(http.MethodPut, "/plain/k", []byte("x"), nil)
	if resp.StatusCode != 200 || resp.Header.Get("x-amz-version-id") != "" {
		t.Errorf("PUT = %d, x-amz-version-id %q; want 200 and none", resp.StatusCode, resp.Header.Get("x-amz-version-id"))
	}
	resp, _ = e.signedDo(http.MethodGet, "/plain/k", nil, nil)
	if resp.Header.Get("x-amz-version-id") != "" {
		t.Errorf("GET x-amz-version-id = %q, want none", resp.Header.Get("x-amz-version-id"))
	}
	resp, _ = e.signedDo(http.MethodDelete, "/plain/k", nil, nil)
	if resp.StatusCode != 204 || resp.Header.Get("x-amz-version-id") != "" || resp.Header.Get("x-amz-delete-marker") != "" {
		t.Errorf("DELETE = %d %v; want 204 without version headers", resp.StatusCode, resp.Header)
	}
	e.put("plain", "k2", []byte("y"), objstore.Meta{})
	got := sdkVersions(t, e.sdk(), "plain")
	if diff := cmp.Diff([]sdkVersion{{"k2", "null", false, true}}, got); diff != "" {
		t.Errorf("ListObjectVersions on an unversioned bucket (-want +got):\n%s", diff)
	}
}

func TestMinioVersioning_C27(t *testing.T) {
	e := newEnv(t)
	mc := e.minio()
	ctx := context.Background()
	if err := mc.MakeBucket(ctx, "mver", minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	if err := mc.EnableVersioning(ctx, "mver"); err != nil {
		t.Fatalf("EnableVersioning: %v", err)
	}
	cfg, err := mc.GetBucketVersioning(ctx, "mver")
	if err != nil || !cfg.Enabled() {
		t.Fatalf("GetBucketVersioning = %+v, %v", cfg, err)
	}
	var ids []string
	for _, body := range []string{"one", "two"} {
		info, err := mc.PutObject(ctx, "mver", "k", strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
		if err != nil || info.VersionID == "" {
			t.Fatalf("PutObject = %+v, %v", info, err)
		}
		ids = append(ids, info.VersionID)
	}
	var listed []string
	for o := range mc.ListObjects(ctx, "mver", minio.ListObjectsOptions{WithVersions: true}) {
		if o.Err != nil {
			t.Fatalf("ListObjects(WithVersions): %v", o.Err)
		}
		listed = append(listed, o.VersionID)
	}
	if diff := cmp.Diff([]string{ids[1], ids[0]}, listed); diff != "" {
		t.Errorf("listed versions (-want +got):\n%s", diff)
	}
	obj, err := mc.GetObject(ctx, "mver", "k", minio.GetObjectOptions{VersionID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || string(b) != "one" {
		t.Errorf("GetObject(v1) = %q, %v; want one", b, err)
	}
	if err := mc.RemoveObject(ctx, "mver", "k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = mc.StatObject(ctx, "mver", "k", minio.StatObjectOptions{})
	er := minio.ToErrorResponse(err)
	if er.StatusCode != http.StatusNotFound {
		t.Errorf("StatObject after delete = %v; want 404", err)
	}
	var marker string
	for o := range mc.ListObjects(ctx, "mver", minio.ListObjectsOptions{WithVersions: true}) {
		if o.IsDeleteMarker && o.IsLatest {
			marker = o.VersionID
		}
	}
	if marker == "" {
		t.Fatal("no delete marker listed")
	}
	if err := mc.RemoveObject(ctx, "mver", "k", minio.RemoveObjectOptions{VersionID: marker}); err != nil {
		t.Fatalf("RemoveObject(marker): %v", err)
	}
	if st, err := mc.StatObject(ctx, "mver", "k", minio.StatObjectOptions{}); err != nil || st.VersionID != ids[1] {
		t.Errorf("StatObject after removing the marker = %+v, %v; want version %s", st.VersionID, err, ids[1])
	}
	if err := mc.SuspendVersioning(ctx, "mver"); err != nil {
		t.Fatal(err)
	}
	info, err := mc.PutObject(ctx, "mver", "k", strings.NewReader("n"), 1, minio.PutObjectOptions{})
	if err != nil || info.VersionID != "null" {
		t.Errorf("suspended PutObject = %q, %v; want version null", info.VersionID, err)
	}
}
