package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Requests through the real edge land in its access log (one JSON line
// each, written by default to <data_dir>/logs/edge-access.log), and
// "strata logs analyze --json" reads that log back.
func TestEdgeAccessLogAnalyzed(t *testing.T) {
	n := startNode(t, nodeConfig{s3extra: "  buckets: [{name: site, public_read: true}]\n"})
	body := strings.Repeat("strata access log ", 4096)
	if _, err := awsClient(n).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("site"), Key: aws.String("a.txt"), Body: strings.NewReader(body),
		CacheControl: aws.String("max-age=300"),
	}); err != nil {
		t.Fatal(err)
	}
	const gets = 6
	var ids []string
	for i := 0; i < gets; i++ {
		resp, got := httpGet(t, n.Edge+"/site/a.txt")
		if resp.StatusCode != 200 || got != body {
			t.Fatalf("GET %d: %d, %d bytes", i, resp.StatusCode, len(got))
		}
		ids = append(ids, resp.Header.Get("X-Request-Id"))
	}
	req, _ := http.NewRequest("GET", n.Edge+"/site/a.txt", nil)
	req.Header.Set("Range", "bytes=0-99")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("range GET: %d", resp.StatusCode)
	}
	// Stopping the node flushes the log.
	if err := n.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	path := filepath.Join(n.dataDir, "logs", "edge-access.log")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("access log: %v", err)
	}
	seen := map[string]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("access log line %q: %v", sc.Text(), err)
		}
		if id, _ := m["request_id"].(string); m["kind"] == "request" {
			seen[id] = m
		}
	}
	for i, id := range ids {
		m := seen[id]
		if m == nil {
			t.Errorf("GET %d (request %s) is not in the access log:\n%s", i, id, data)
			continue
		}
		if m["node"] != "e2e-node" || m["uri"] != "/site/a.txt" || m["status"] != float64(200) || m["bytes_sent"] != float64(len(body)) {
			t.Errorf("record of GET %d: %v", i, m)
		}
	}

	out, err := exec.Command(strataBin, "logs", "analyze", "--json", path).Output()
	if err != nil {
		t.Fatalf("strata logs analyze: %v", err)
	}
	var rep struct {
		Records, Malformed int64
		Totals             struct {
			Requests    int64 `json:"requests"`
			Hits        int64 `json:"hits"`
			BytesSent   int64 `json:"bytes_sent"`
			BytesOrigin int64 `json:"bytes_origin"`
		}
		Status []struct{ Status, Count int64 }
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("analyze output: %v\n%s", err, out)
	}
	if rep.Malformed != 0 || rep.Totals.Requests != gets+1 || rep.Totals.Hits < 1 || rep.Totals.BytesOrigin < int64(len(body)) ||
		rep.Totals.BytesSent != int64(gets*len(body)+100) {
		t.Errorf("analyze: %d malformed, totals %+v; want %d requests, a hit, %d bytes sent, the object read from the store once or more",
			rep.Malformed, rep.Totals, gets+1, gets*len(body)+100)
	}
}
