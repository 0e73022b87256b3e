package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// runStrata runs the binary with args and returns its exit code and output.
func runStrata(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, strataBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("strata %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// edgeUntilHit gets url through the edge until it is a HIT (the fill
// commits just after the first client's last byte) and returns the
// X-Cache of the first response.
func edgeUntilHit(t *testing.T, url string) string {
	t.Helper()
	first := ""
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		resp, _ := httpGet(t, url)
		xc := resp.Header.Get("X-Cache")
		if i == 0 {
			first = xc
		}
		if xc == "HIT" {
			return first
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no HIT after %d requests; last X-Cache %q", url, i+1, xc)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPurgeAndPrefetchCommands_C16: the strata binary purges a URL from a
// running node's edge through its admin API, and prefetches one into it;
// --wait reports completion.
func TestPurgeAndPrefetchCommands_C16(t *testing.T) {
	n := startNode(t, nodeConfig{s3extra: "  buckets: [{name: site, public_read: true}]\n"})
	ctx := context.Background()
	for _, key := range []string{"page.html", "later.css"} {
		if _, err := awsClient(n).PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("site"), Key: aws.String(key), Body: strings.NewReader("content of " + key),
			CacheControl: aws.String("max-age=300"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	page := n.Edge + "/site/page.html"
	if first := edgeUntilHit(t, page); !strings.HasPrefix(first, "MISS") {
		t.Errorf("first request: X-Cache %q, want MISS", first)
	}

	code, out, errs := runStrata(t, "purge", "--admin", n.Admin, "--wait", page)
	if code != 0 || !strings.Contains(out, "100% (1/1 done, 1 ok, 0 failed) finished") || !strings.Contains(out, "e2e-node") {
		t.Fatalf("strata purge --wait: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	resp, body := httpGet(t, page)
	if xc := resp.Header.Get("X-Cache"); !strings.HasPrefix(xc, "MISS") || body != "content of page.html" {
		t.Errorf("after purge: X-Cache %q body %q, want a MISS with the object", xc, body)
	}

	later := n.Edge + "/site/later.css"
	code, out, errs = runStrata(t, "prefetch", "--admin", n.Admin, "--wait", later, n.Edge+"/site/missing.css")
	if code != 1 || !strings.Contains(out, "FAILED "+n.Edge+"/site/missing.css: status 404") {
		t.Fatalf("strata prefetch --wait with a missing object: exit %d, want 1 naming it\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if resp, _ := httpGet(t, later); resp.Header.Get("X-Cache") != "HIT" {
		t.Errorf("after prefetch: X-Cache %q, want HIT", resp.Header.Get("X-Cache"))
	}
}
