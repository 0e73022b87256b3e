package s3api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/objstore"
)

// shortDay makes a lifecycle day last one second.
func shortDay(c *envConfig) { c.store.LifecycleDay = time.Second }

func TestSDKLifecycleConfiguration(t *testing.T) {
	e := newEnv(t)
	e.bucket("lcb")
	c := e.sdk()
	ctx := context.Background()
	b := aws.String("lcb")

	_, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
	if apiCode(err) != "NoSuchLifecycleConfiguration" {
		t.Errorf("GetBucketLifecycleConfiguration before put = %v, want NoSuchLifecycleConfiguration", err)
	}
	rules := []types.LifecycleRule{
		{ID: aws.String("tmp"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}},
		{ID: aws.String("tagged"), Status: types.ExpirationStatusEnabled,
			Filter:     &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{Prefix: aws.String("t/"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(3)}},
		{ID: aws.String("old"), Status: types.ExpirationStatusDisabled, Filter: &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}},
			NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(2), NewerNoncurrentVersions: aws.Int32(3)}},
		{ID: aws.String("markers"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration:                     &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)}},
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules}}); err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
	got, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
	if err != nil {
		t.Fatalf("GetBucketLifecycleConfiguration: %v", err)
	}
	if diff := cmp.Diff(ruleStrings(rules), ruleStrings(got.Rules)); diff != "" {
		t.Errorf("lifecycle round trip (-put +got):\n%s", diff)
	}

	bad := []struct {
		name string
		rule types.LifecycleRule
		code string
		msg  string
	}{
		{"zero days", types.LifecycleRule{ID: aws.String("z"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(0)}}, "InvalidArgument", `"z": Expiration.Days`},
		{"date not midnight", types.LifecycleRule{ID: aws.String("d"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &types.LifecycleExpiration{Date: aws.Time(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))}}, "InvalidArgument", "Expiration.Date"},
		{"no action", types.LifecycleRule{ID: aws.String("n"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")}},
			"InvalidArgument", "at least one action"},
		{"bad status", types.LifecycleRule{ID: aws.String("s"), Status: "On", Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}}, "MalformedXML", "Status"},
		{"transition", types.LifecycleRule{ID: aws.String("t"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Transitions: []types.Transition{{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassGlacier}}}, "NotImplemented", "transitions"},
	}
	for _, tt := range bad {
		_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{tt.rule}}})
		if apiCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: PutBucketLifecycleConfiguration = %v; want %s mentioning %q", tt.name, err, tt.code, tt.msg)
		}
	}
	if _, err := c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: b}); err != nil {
		t.Fatalf("DeleteBucketLifecycle: %v", err)
	}
	_, err = c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
	if apiCode(err) != "NoSuchLifecycleConfiguration" {
		t.Errorf("GetBucketLifecycleConfiguration after delete = %v, want NoSuchLifecycleConfiguration", err)
	}
}

// ruleStrings renders SDK rules for comparison (their types hold
// unexported fields go-cmp cannot look into).
func ruleStrings(rules []types.LifecycleRule) []string {
	var out []string
	for _, r := range rules {
		s := fmt.Sprintf("id=%s status=%s", aws.ToString(r.ID), r.Status)
		if f := r.Filter; f != nil {
			s += fmt.Sprintf(" prefix=%q", aws.ToString(f.Prefix))
			if f.Tag != nil {
				s += fmt.Sprintf(" tag=%s:%s", aws.ToString(f.Tag.Key), aws.ToString(f.Tag.Value))
			}
			if f.And != nil {
				s += fmt.Sprintf(" and.prefix=%q", aws.ToString(f.And.Prefix))
				for _, tg := range f.And.Tags {
					s += fmt.Sprintf(" and.tag=%s:%s", aws.ToString(tg.Key), aws.ToString(tg.Value))
				}
			}
		}
		if e := r.Expiration; e != nil {
			s += fmt.Sprintf(" exp.days=%d exp.date=%v exp.eodm=%v", aws.ToInt32(e.Days), aws.ToTime(e.Date), aws.ToBool(e.ExpiredObjectDeleteMarker))
		}
		if n := r.NoncurrentVersionExpiration; n != nil {
			s += fmt.Sprintf(" nc.days=%d nc.newer=%d", aws.ToInt32(n.NoncurrentDays), aws.ToInt32(n.NewerNoncurrentVersions))
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			s += fmt.Sprintf(" abort=%d", aws.ToInt32(a.DaysAfterInitiation))
		}
		out = append(out, s)
	}
	return out
}

// TestSDKLifecycleRuns_C27 sets rules over the S3 API on a store whose
// lifecycle day is one second, and runs passes at chosen times: objects
// expire into delete markers, old versions go, dangling markers are
// cleaned up, and stale uploads are aborted.
func TestSDKLifecycleRuns_C27(t *testing.T) {
	e := newEnv(t, shortDay)
	e.bucket("lcb")
	c := e.sdk()
	ctx := context.Background()
	b := aws.String("lcb")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tmp/a", "tmp/b", "keep/c"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("keep/tagged"), Body: strings.NewReader("x"), Tagging: aws.String("class=scratch")}); err != nil {
		t.Fatal(err)
	}
	mu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("up/big")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{
			{ID: aws.String("tmp"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}, NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}},
			{ID: aws.String("scratch"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("class"), Value: aws.String("scratch")}},
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(2)}},
			{ID: aws.String("cleanup"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
				Expiration:                     &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)},
				AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}},
		}}}); err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
	lc := &objstore.Lifecycle{Store: e.store}
	t0 := time.Now()
	pass := func(at time.Duration) {
		t.Helper()
		if _, err := lc.RunOnce(ctx, t0.Add(at)); err != nil {
			t.Fatalf("RunOnce(+%v): %v", at, err)
		}
	}
	keys := func() []string {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, o := range out.Contents {
			ks = append(ks, aws.ToString(o.Key))
		}
		return ks
	}

	pass(1500 * time.Millisecond) // 1.5 days: tmp/ expires, uploads are aborted
	if diff := cmp.Diff([]string{"keep/c", "keep/tagged"}, keys()); diff != "" {
		t.Errorf("after 1.5 days (-want +got):\n%s", diff)
	}
	tmp := filterPrefix(sdkVersions(t, c, "lcb"), "tmp/")
	if len(tmp) != 4 || !tmp[0].Marker || !tmp[0].Latest || tmp[1].Marker {
		t.Errorf("tmp/ versions after expiry = %+v, want a delete marker over each object", tmp)
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("uploads after 1.5 days = %d, %v; want the stale upload aborted", len(ups.Uploads), err)
	}
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: aws.String("up/big"), UploadId: mu.UploadId})
	if apiCode(err) != "NoSuchUpload" {
		t.Errorf("ListParts of the aborted upload = %v, want NoSuchUpload", err)
	}

	pass(3 * time.Second) // noncurrent tmp/ versions are a day old; keep/tagged is 2 days old
	pass(3 * time.Second) // the markers left dangling are removed
	if diff := cmp.Diff([]string{"keep/c"}, keys()); diff != "" {
		t.Errorf("after 3 days (-want +got):\n%s", diff)
	}
	if got := filterPrefix(sdkVersions(t, c, "lcb"), "tmp/"); len(got) != 0 {
		t.Errorf("tmp/ versions after cleanup = %+v, want none", got)
	}
	st := lc.Stats()
	byRule := map[string]objstore.LifecycleRuleStats{}
	for _, r := range st.Rules {
		byRule[r.RuleID] = r
	}
	want := map[string]objstore.LifecycleRuleStats{
		"tmp":     {Bucket: "lcb", RuleID: "tmp", ObjectsExpired: 2, VersionsRemoved: 2},
		"scratch": {Bucket: "lcb", RuleID: "scratch", ObjectsExpired: 1},
		"cleanup": {Bucket: "lcb", RuleID: "cleanup", DeleteMarkersRemoved: 2, UploadsAborted: 1},
	}
	if diff := cmp.Diff(want, byRule); diff != "" {
		t.Errorf("rule stats (-want +got):\n%s", diff)
	}
	if st.Passes != 3 || st.LastError != "" {
		t.Errorf("stats = %+v", st)
	}
}

func filterPrefix(vs []sdkVersion, prefix string) []sdkVersion {
	var out []sdkVersion
	for _, v := range vs {
		if strings.HasPrefix(v.Key, prefix) {
			out = append(out, v)
		}
	}
	return out
}

func TestSDKObjectTagging(t *testing.T) {
	e := newEnv(t)
	e.bucket("tags")
	c := e.sdk()
	ctx := context.Background()
	b, k := aws.String("tags"), aws.String("k")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("x"), Tagging: aws.String("a=1&b=two%20words")}); err != nil {
		t.Fatal(err)
	}
	tagMap := func() map[string]string {
		out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: k})
		if err != nil {
			t.Fatalf("GetObjectTagging: %v", err)
		}
		m := map[string]string{}
		for _, tg := range out.TagSet {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	if diff := cmp.Diff(map[string]string{"a": "1", "b": "two words"}, tagMap()); diff != "" {
		t.Errorf("tags from x-amz-tagging (-want +got):\n%s", diff)
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k})
	if err != nil || aws.ToInt32(g.TagCount) != 2 {
		t.Errorf("GetObject TagCount = %v, %v; want 2", g.TagCount, err)
	}
	if err == nil {
		g.Body.Close()
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: k,
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("env"), Value: aws.String("tmp")}}}}); err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"env": "tmp"}, tagMap()); diff != "" {
		t.Errorf("tags after PutObjectTagging (-want +got):\n%s", diff)
	}
	if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: b, Key: k}); err != nil {
		t.Fatalf("DeleteObjectTagging: %v", err)
	}
	if got := tagMap(); len(got) != 0 {
		t.Errorf("tags after delete = %v", got)
	}
	var many []types.Tag
	for i := 0; i < 11; i++ {
		many = append(many, types.Tag{Key: aws.String(strings.Repeat("k", i+1)), Value: aws.String("v")})
	}
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: k, Tagging: &types.Tagging{TagSet: many}})
	if apiCode(err) != "InvalidTag" {
		t.Errorf("PutObjectTagging(11 tags) = %v, want InvalidTag", err)
	}
	_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("missing")})
	if apiCode(err) != "NoSuchKey" {
		t.Errorf("GetObjectTagging(missing) = %v, want NoSuchKey", err)
	}
}
