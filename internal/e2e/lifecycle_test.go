package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Lifecycle rules run in the background of the real binary with a short
// "day", remove dangling delete markers (C27), and report what they did on
// the admin API and in metrics.
func TestLifecycleRunsInBackground_C27(t *testing.T) {
	n := startNode(t, nodeConfig{s3extra: "  lifecycle_day: 1s\n"})
	ctx := context.Background()
	c := awsClient(n)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")}))
	must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("logs"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("logs"), Key: aws.String("tmp/a.log"), Body: strings.NewReader("a")}))
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("logs"), Key: aws.String("keep/b.log"), Body: strings.NewReader("b")}))
	must(c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String("logs"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{
			{ID: aws.String("expire-tmp"), Status: types.ExpirationStatusEnabled,
				Filter:     &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}},
			{ID: aws.String("markers"), Status: types.ExpirationStatusEnabled,
				Filter:                      &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
				Expiration:                  &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)},
				NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}},
		}},
	}))

	// The expired object becomes a delete marker, its old version is
	// removed a day later, and the dangling marker after that: wait until
	// no version of tmp/a.log is left.
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("logs"), Prefix: aws.String("tmp/")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Versions) == 0 && len(out.DeleteMarkers) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s of 1 s lifecycle days, tmp/ still holds %d versions and %d delete markers", len(out.Versions), len(out.DeleteMarkers))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("logs"), Key: aws.String("keep/b.log")}); err != nil {
		t.Errorf("keep/b.log, outside the rules' prefix, is gone: %v", err)
	}

	resp, body := httpGet(t, n.Admin+"/store/lifecycle")
	if resp.StatusCode != 200 {
		t.Fatalf("/store/lifecycle: %d %s", resp.StatusCode, body)
	}
	var st struct {
		Passes int64
		Rules  []struct {
			Bucket, RuleID                                                        string
			ObjectsExpired, VersionsRemoved, DeleteMarkersRemoved, UploadsAborted int64
		}
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/store/lifecycle is not JSON: %v\n%s", err, body)
	}
	got := map[string][3]int64{}
	for _, r := range st.Rules {
		got[r.RuleID] = [3]int64{r.ObjectsExpired, r.VersionsRemoved, r.DeleteMarkersRemoved}
	}
	if got["expire-tmp"][0] != 1 || got["markers"][1] != 1 || got["markers"][2] != 1 || st.Passes == 0 {
		t.Errorf("lifecycle stats = %+v, want expire-tmp to expire 1 object and markers to remove 1 version and 1 marker", st)
	}
	_, metrics := httpGet(t, n.Admin+"/metrics")
	if !strings.Contains(metrics, `strata_lifecycle_actions_total{action="remove_delete_marker",bucket="logs",rule="markers"} 1`) {
		t.Errorf("metrics lack the removed delete marker:\n%s", grepLines(metrics, "strata_lifecycle"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
