package s3api

import (
	"context"
	"encoding/xml"
	"net/url"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/objstore"
)

// oddKeys need URL encoding in listings (encoding-type=url).
var oddKeys = []string{"a b", "a+b", "caf\u00e9/x", "p%20q", "tilde~", "x&y<z>", "dir/sub/leaf", "dir/top"}

func TestListPaginationSDK(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	var want []string
	for i := range 23 {
		k := "k" + string(rune('a'+i))
		want = append(want, k)
		e.put("bkt", k, []byte(k), objstore.Meta{})
	}
	c := e.sdk()
	ctx := context.Background()

	var got []string
	pages := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2 page %d: %v", pages, err)
		}
		pages++
		if aws.ToInt32(out.KeyCount) != int32(len(out.Contents)) {
			t.Errorf("KeyCount %d, %d entries", aws.ToInt32(out.KeyCount), len(out.Contents))
		}
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" || pages != 5 {
		t.Errorf("V2 pages = %d (want 5), keys (-want +got):\n%s", pages, diff)
	}

	got, pages = nil, 0
	marker := ""
	for {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(7), Marker: aws.String(marker)})
		if err != nil {
			t.Fatalf("ListObjects: %v", err)
		}
		pages++
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = aws.ToString(out.NextMarker)
	}
	if diff := cmp.Diff(want, got); diff != "" || pages != 4 {
		t.Errorf("V1 pages = %d (want 4), keys (-want +got):\n%s", pages, diff)
	}

	// start-after, and a bad continuation token.
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), StartAfter: aws.String("kt")})
	if err != nil || len(out.Contents) != 3 {
		t.Errorf("StartAfter kt: %d keys, %v; want 3", len(out.Contents), err)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), ContinuationToken: aws.String("!!!")})
	if got := apiCode(err); got != "InvalidArgument" {
		t.Errorf("bad continuation token: code %q, want InvalidArgument", got)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(-1)})
	if got := apiCode(err); got != "InvalidArgument" {
		t.Errorf("max-keys -1: code %q, want InvalidArgument", got)
	}
	out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(0)})
	if err != nil || len(out.Contents) != 0 || aws.ToBool(out.IsTruncated) {
		t.Errorf("max-keys 0: %d keys, truncated %v, %v; want an empty page", len(out.Contents), aws.ToBool(out.IsTruncated), err)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nobucket")})
	if got := apiCode(err); got != "NoSuchBucket" {
		t.Errorf("missing bucket: code %q, want NoSuchBucket", got)
	}
}

func TestListDelimiterAndEncoding(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	for _, k := range oddKeys {
		e.put("bkt", k, []byte(k), objstore.Meta{})
	}
	c := e.sdk()
	ctx := context.Background()

	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Delimiter: aws.String("/"), EncodingType: "url", FetchOwner: aws.Bool(true)})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys, prefixes []string
	for _, o := range out.Contents {
		k, err := url.QueryUnescape(aws.ToString(o.Key))
		if err != nil {
			t.Errorf("key %q does not URL-decode: %v", aws.ToString(o.Key), err)
		}
		keys = append(keys, k)
		if o.Owner == nil {
			t.Errorf("fetch-owner: no Owner on %q", k)
		}
	}
	for _, p := range out.CommonPrefixes {
		d, _ := url.QueryUnescape(aws.ToString(p.Prefix))
		prefixes = append(prefixes, d)
	}
	wantKeys := []string{"a b", "a+b", "p%20q", "tilde~", "x&y<z>"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("decoded keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"caf\u00e9/", "dir/"}, prefixes); diff != "" {
		t.Errorf("decoded prefixes (-want +got):\n%s", diff)
	}

	// The raw XML carries the S3 encoding: space as +, + as %2B.
	resp, body := e.signedDo("GET", "/bkt?list-type=2&encoding-type=url&prefix=a", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	var raw struct {
		Contents []struct{ Key string }
		Prefix   string
	}
	if err := xml.Unmarshal(body, &raw); err != nil {
		t.Fatalf("xml: %v", err)
	}
	var rawKeys []string
	for _, c := range raw.Contents {
		rawKeys = append(rawKeys, c.Key)
	}
	if diff := cmp.Diff([]string{"a+b", "a%2Bb"}, rawKeys); diff != "" {
		t.Errorf("encoded keys (-want +got):\n%s", diff)
	}

	// minio-go decodes encoding-type=url listings itself.
	mc := e.minio()
	var mkeys []string
	for o := range mc.ListObjects(ctx, "bkt", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("minio ListObjects: %v", o.Err)
		}
		mkeys = append(mkeys, o.Key)
	}
	want := append([]string{}, oddKeys...)
	sort.Strings(want)
	if diff := cmp.Diff(want, mkeys); diff != "" {
		t.Errorf("minio keys (-want +got):\n%s", diff)
	}
	var v1keys []string
	for o := range mc.ListObjects(ctx, "bkt", minio.ListObjectsOptions{Recursive: true, UseV1: true, MaxKeys: 3}) {
		if o.Err != nil {
			t.Fatalf("minio ListObjects V1: %v", o.Err)
		}
		v1keys = append(v1keys, o.Key)
	}
	if diff := cmp.Diff(want, v1keys); diff != "" {
		t.Errorf("minio V1 keys (-want +got):\n%s", diff)
	}
}
