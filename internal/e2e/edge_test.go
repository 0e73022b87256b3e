package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// With no domains configured, the edge fronts the node's own store: a
// public-read object is served through the cache, a miss then a hit, each
// response naming the node in Via.
func TestEdgeFrontsOwnStoreByDefault_C07(t *testing.T) {
	n := startNode(t, nodeConfig{s3extra: "  buckets: [{name: site, public_read: true}]\n"})
	ctx := context.Background()
	if _, err := awsClient(n).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("site"), Key: aws.String("index.html"), Body: strings.NewReader("<h1>hello</h1>"),
		ContentType: aws.String("text/html"), CacheControl: aws.String("max-age=300"),
	}); err != nil {
		t.Fatal(err)
	}
	// The fill commits to the cache just after the first client got its
	// last byte, so a follow-up request may still join that fill
	// ("collapsed"); within a generous bound, one must be a HIT.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		resp, body := httpGet(t, n.Edge+"/site/index.html")
		if resp.StatusCode != 200 || body != "<h1>hello</h1>" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
		xc := resp.Header.Get("X-Cache")
		if i == 0 && !strings.HasPrefix(xc, "MISS") {
			t.Errorf("first request: X-Cache %q, want MISS", xc)
		}
		if via := resp.Header.Get("Via"); !strings.Contains(via, "e2e-node") {
			t.Errorf("request %d: Via %q does not name the node", i, via)
		}
		if resp.Header.Get("Content-MD5") == "" {
			t.Errorf("request %d: full response through the edge lacks the store's Content-MD5 (C07)", i)
		}
		if strings.HasPrefix(xc, "HIT") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HIT after %d requests; last X-Cache %q", i+1, xc)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
