package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	crashBucket = "crash"
	partSize    = 5 << 20
)

// bodyOf returns the expected content of a key written by the crash test:
// "mp/..." keys are multipart objects of three parts, others single PUTs.
func bodyOf(key string) []byte {
	if strings.HasPrefix(key, "mp/") {
		return content(key, 2*partSize+1, 2*partSize+300<<10)
	}
	return content(key, 1, 3<<20)
}

// kill -9 at any moment never leaves a visible partial or corrupt object, and
// every upload the node acknowledged survives. Three rounds: write with
// several clients, SIGKILL the node mid-flight, restart on the same data
// directory, check every object it lists.
func TestKill9DuringUploads(t *testing.T) {
	dataDir := t.TempDir()
	var mu sync.Mutex
	acked := map[string]bool{} // guarded by mu

	for round := range 3 {
		n := startNode(t, nodeConfig{dataDir: dataDir})
		c := awsClient(n)
		ctx := context.Background()
		if round == 0 {
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(crashBucket)}); err != nil {
				t.Fatal(err)
			}
		}
		verifyCrashBucket(t, c, acked)

		wctx, cancel := context.WithCancel(ctx)
		progress := make(chan string, 1000)
		var wg sync.WaitGroup
		writer := func(name string, put func(key string) error) {
			defer wg.Done()
			for i := 0; wctx.Err() == nil; i++ {
				key := fmt.Sprintf("%s/r%d/%04d", name, round, i)
				if err := put(key); err != nil {
					return // the node is gone
				}
				mu.Lock()
				acked[key] = true
				mu.Unlock()
				progress <- key
			}
		}
		for w := range 3 {
			wg.Add(1)
			go writer(fmt.Sprintf("sp%d", w), func(key string) error {
				_, err := c.PutObject(wctx, &s3.PutObjectInput{
					Bucket: aws.String(crashBucket), Key: aws.String(key), Body: bytes.NewReader(bodyOf(key)),
				})
				return err
			})
		}
		wg.Add(1)
		go writer("mp", func(key string) error { return multipartPut(wctx, c, key, bodyOf(key)) })

		// Kill after a number of acknowledged writes that differs per
		// round, so the kill lands at different points of the writes; from
		// the second round on, also after a multipart upload completed, so
		// the kill can land in the middle of another one.
		for count, sawMP := 0, false; count < 6+5*round || (round > 0 && !sawMP); count++ {
			select {
			case key := <-progress:
				sawMP = sawMP || strings.HasPrefix(key, "mp/")
			case <-time.After(2 * time.Minute):
				t.Fatalf("round %d: writers stalled; log:\n%s", round, n.logText())
			}
		}
		n.kill()
		cancel()
		wg.Wait()
	}
	n := startNode(t, nodeConfig{dataDir: dataDir})
	verifyCrashBucket(t, awsClient(n), acked)
}

func multipartPut(ctx context.Context, c *s3.Client, key string, body []byte) error {
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(crashBucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	for i, off := int32(1), 0; off < len(body); i, off = i+1, off+partSize {
		end := min(off+partSize, len(body))
		p, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(crashBucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(i), Body: bytes.NewReader(body[off:end]),
		})
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{ETag: p.ETag, PartNumber: aws.Int32(i)})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(crashBucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

// verifyCrashBucket checks that every listed object has exactly its expected
// content and ETag, and that every acknowledged key is listed.
func verifyCrashBucket(t *testing.T, c *s3.Client, acked map[string]bool) {
	t.Helper()
	ctx := context.Background()
	listed := map[string]bool{}
	pg := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(crashBucket)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatalf("list after restart: %v", err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			listed[key] = true
			want := bodyOf(key)
			if aws.ToInt64(o.Size) != int64(len(want)) {
				t.Errorf("%s: listed size %d, want %d", key, aws.ToInt64(o.Size), len(want))
				continue
			}
			got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(crashBucket), Key: aws.String(key)})
			if err != nil {
				t.Errorf("%s: listed but GET fails: %v", key, err)
				continue
			}
			data, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil || !bytes.Equal(data, want) {
				t.Errorf("%s: content differs from what was uploaded (read %d bytes, err %v)", key, len(data), err)
			}
			if !strings.HasPrefix(key, "mp/") {
				sum := md5.Sum(want)
				if etag := aws.ToString(got.ETag); etag != `"`+hex.EncodeToString(sum[:])+`"` {
					t.Errorf("%s: ETag %s, want the quoted MD5 of the data", key, etag)
				}
			}
		}
	}
	for key := range acked {
		if !listed[key] {
			t.Errorf("%s: upload was acknowledged before the kill but the object is gone", key)
		}
	}
}
