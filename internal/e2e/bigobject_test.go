package e2e

import (
	"bufio"
	"context"
	"crypto/md5"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/sigv4"
)

// pattern is an endless deterministic byte stream: each 8-byte word holds
// its own offset, so a misplaced or repeated block changes the MD5.
type pattern struct{ off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		word := (p.off + int64(i)) / 8
		b[i] = byte(word >> (8 * ((p.off + int64(i)) % 8)))
	}
	p.off += int64(len(b))
	return len(b), nil
}

// signedRequest builds a request signed with the test credentials and an
// unsigned payload.
func signedRequest(t *testing.T, method, url string, body io.Reader, size int64) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	sigv4.SignRequest(req, testAccessKey, testSecretKey, "us-east-1", time.Now(), sigv4.UnsignedPayload)
	return req
}

// vmHWM reads a process's peak resident set size in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// A large PUT and GET stream: the node's peak memory stays far below the
// object's size (uploads and downloads use bounded memory, C25).
func TestLargeObjectUsesBoundedMemory_C25(t *testing.T) {
	const size = 1 << 30 // 1 GiB: large against the bound, quick on loopback
	const bound = 160 << 20
	n := startNode(t, nodeConfig{})
	ctx := context.Background()
	client := &http.Client{}
	do := func(req *http.Request) *http.Response {
		t.Helper()
		resp, err := client.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		return resp
	}
	resp := do(signedRequest(t, "PUT", n.S3+"/big", nil, 0))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("create bucket: %s", resp.Status)
	}

	want := md5.New()
	resp = do(signedRequest(t, "PUT", n.S3+"/big/one-gib", io.TeeReader(io.LimitReader(&pattern{}, size), want), size))
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT 1 GiB: %s", resp.Status)
	}
	wantETag := fmt.Sprintf("%q", fmt.Sprintf("%x", want.Sum(nil)))
	if got := resp.Header.Get("ETag"); got != wantETag {
		t.Fatalf("PUT ETag %s, want %s", got, wantETag)
	}

	resp = do(signedRequest(t, "GET", n.S3+"/big/one-gib", nil, 0))
	var got hash.Hash = md5.New()
	nread, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	if err != nil || nread != size {
		t.Fatalf("GET read %d bytes, err %v", nread, err)
	}
	if fmt.Sprintf("%x", got.Sum(nil)) != fmt.Sprintf("%x", want.Sum(nil)) {
		t.Fatal("GET body differs from what was uploaded")
	}
	if peak := vmHWM(t, n.cmd.Process.Pid); peak > bound {
		t.Errorf("peak RSS %d MiB after a 1 GiB PUT and GET, want under %d MiB", peak>>20, bound>>20)
	} else {
		t.Logf("peak RSS %d MiB after a 1 GiB PUT and GET", peak>>20)
	}
}

// A size limit is explicit: the error names the limit and the node (C25).
func TestUploadLimitNamesLimitAndNode_C25(t *testing.T) {
	n := startNode(t, nodeConfig{s3extra: "  max_object_size: 1MiB\n"})
	resp, err := http.DefaultClient.Do(signedRequest(t, "PUT", n.S3+"/lim", nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.DefaultClient.Do(signedRequest(t, "PUT", n.S3+"/lim/too-big", io.LimitReader(&pattern{}, 2<<20), 2<<20))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>EntityTooLarge</Code>") {
		t.Fatalf("PUT over the limit = %s %s, want 400 EntityTooLarge", resp.Status, body)
	}
	for _, want := range []string{"1048576", "e2e-node"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("error body does not name %q: %s", want, body)
		}
	}
	if resp.Header.Get("Server") != "Strata/e2e-node" {
		t.Errorf("Server = %q, want Strata/e2e-node", resp.Header.Get("Server"))
	}
}
