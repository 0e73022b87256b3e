package record

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// TestBucketPutAndCheck_C35: a Bucket writes objects and checks writes
// with its own probe object, leaving none behind, and names the bucket
// and the cause when the store refuses.
func TestBucketPutAndCheck_C35(t *testing.T) {
	ep := store(t)
	ctx := context.Background()
	tg := target(ep)
	tg.Prefix = "shots/{stream}/"
	b, err := OpenBucket(tg, ".probe-here")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx); err != nil {
		t.Fatalf("Check = %v, want nil", err)
	}
	if err := b.Put(ctx, "shots/cam/latest.jpg", []byte{0xff, 0xd8, 0xff, 0xd9}, "image/jpeg"); err != nil {
		t.Fatalf("Put = %v", err)
	}
	c, err := newClient(tg)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for o := range c.ListObjects(ctx, "rec", minio.ListObjectsOptions{Recursive: true}) {
		keys = append(keys, o.Key)
	}
	if len(keys) != 1 || keys[0] != "shots/cam/latest.jpg" {
		t.Errorf("objects = %q, want only shots/cam/latest.jpg (the probe removed)", keys)
	}
	obj, err := c.GetObject(ctx, "rec", "shots/cam/latest.jpg", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(obj)
	if st, _ := obj.Stat(); err != nil || !bytes.Equal(body, []byte{0xff, 0xd8, 0xff, 0xd9}) || st.ContentType != "image/jpeg" {
		t.Errorf("object: %v, % x, %q; want the JPEG bytes as image/jpeg", err, body, st.ContentType)
	}
	if b.String() != tg.String() || b.Target() != tg {
		t.Errorf("String = %q, Target = %+v; want the target's", b.String(), b.Target())
	}

	tg.SecretKey = "wrong"
	bad, err := OpenBucket(tg, "")
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Check": bad.Check(ctx),
		"Put":   bad.Put(ctx, "shots/cam/x.jpg", []byte{1}, "image/jpeg"),
	} {
		if !errors.Is(err, ErrAccessDenied) || !strings.HasPrefix(err.Error(), "access denied on bucket rec (SignatureDoesNotMatch") {
			t.Errorf("%s with a wrong secret = %v, want access denied on bucket rec (SignatureDoesNotMatch...", name, err)
		}
	}
	if _, err := OpenBucket(Target{Endpoint: "ftp://x", Bucket: "rec"}, ""); err == nil {
		t.Error("OpenBucket accepted an ftp endpoint")
	}
}
