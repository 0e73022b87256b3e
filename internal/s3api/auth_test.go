package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/objstore"
	"github.com/strata-cdn/strata/internal/sigv4"
)

func TestAnonymousAccess(t *testing.T) {
	e := newEnv(t)
	e.bucket("pub")
	e.bucket("priv")
	if err := e.store.SetBucketPublicRead(context.Background(), "pub", true); err != nil {
		t.Fatal(err)
	}
	e.put("pub", "o", []byte("public data"), objstore.Meta{})
	e.put("priv", "o", []byte("private data"), objstore.Meta{})

	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/pub/o", 200},
		{"HEAD", "/pub/o", 200},
		{"GET", "/pub/missing", 404},
		{"GET", "/priv/o", 403},
		{"HEAD", "/priv/o", 403},
		{"GET", "/nobucket/o", 403},
		{"PUT", "/pub/o", 403},
		{"DELETE", "/pub/o", 403},
		{"GET", "/pub", 403},
		{"GET", "/pub/o?acl", 403},
		{"GET", "/", 403},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var body []byte
			if tc.method == "PUT" {
				body = []byte("overwrite")
			}
			resp, rb := e.do(e.request(tc.method, tc.path, body))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tc.status, rb)
			}
			if tc.status == 403 && tc.method != "HEAD" {
				wantError(t, resp, rb, 403, "AccessDenied")
			}
			if tc.status == 200 && tc.method == "GET" && string(rb) != "public data" {
				t.Errorf("body %q", rb)
			}
		})
	}
	info, err := e.store.StatObject(context.Background(), "pub", "o")
	if err != nil || info.Size != int64(len("public data")) {
		t.Errorf("anonymous PUT changed the object: %+v, %v", info, err)
	}
}

func TestCannedACLOnCreateBucket(t *testing.T) {
	e := newEnv(t)
	resp, body := e.signedDo("PUT", "/site", nil, http.Header{"X-Amz-Acl": {"public-read"}})
	if resp.StatusCode != 200 {
		t.Fatalf("CreateBucket public-read: %d\n%s", resp.StatusCode, body)
	}
	b, err := e.store.GetBucket(context.Background(), "site")
	if err != nil || !b.PublicRead {
		t.Fatalf("bucket public-read = %v, %v; want true", b.PublicRead, err)
	}
	resp, body = e.signedDo("PUT", "/site?acl", nil, http.Header{"X-Amz-Acl": {"private"}})
	if resp.StatusCode != 200 {
		t.Fatalf("PutBucketAcl private: %d\n%s", resp.StatusCode, body)
	}
	if b, _ := e.store.GetBucket(context.Background(), "site"); b.PublicRead {
		t.Errorf("bucket still public after x-amz-acl: private")
	}
}

func TestPresignedURLs(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	ctx := context.Background()
	ps := s3.NewPresignClient(e.sdk())
	data := []byte("presigned upload")

	put, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/p k")})
	if err != nil {
		t.Fatalf("PresignPutObject: %v", err)
	}
	r, _ := http.NewRequest(put.Method, put.URL, bytes.NewReader(data))
	for k, v := range put.SignedHeader {
		r.Header[k] = v
	}
	resp, body := e.do(r)
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d\n%s", resp.StatusCode, body)
	}
	get, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/p k")})
	if err != nil {
		t.Fatalf("PresignGetObject: %v", err)
	}
	r, _ = http.NewRequest(http.MethodGet, get.URL, nil)
	resp, body = e.do(r)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}

	mc := e.minio()
	mput, err := mc.PresignedPutObject(ctx, "bkt", "m/obj", time.Hour)
	if err != nil {
		t.Fatalf("minio PresignedPutObject: %v", err)
	}
	r, _ = http.NewRequest(http.MethodPut, mput.String(), strings.NewReader("from minio"))
	if resp, body := e.do(r); resp.StatusCode != 200 {
		t.Fatalf("minio presigned PUT: %d\n%s", resp.StatusCode, body)
	}
	mget, err := mc.PresignedGetObject(ctx, "bkt", "m/obj", time.Hour, nil)
	if err != nil {
		t.Fatalf("minio PresignedGetObject: %v", err)
	}
	if resp, body := e.do(mustRequest(t, "GET", mget.String())); resp.StatusCode != 200 || string(body) != "from minio" {
		t.Fatalf("minio presigned GET: %d %q", resp.StatusCode, body)
	}

	// Tampered and expired URLs.
	if resp, body := e.do(mustRequest(t, "GET", strings.Replace(get.URL, "dir/p", "dir/q", 1))); resp.StatusCode != 403 {
		t.Errorf("tampered URL: %d\n%s", resp.StatusCode, body)
	} else {
		wantError(t, resp, body, 403, "SignatureDoesNotMatch")
	}
	old := e.request("GET", "/bkt/m/obj", nil)
	u := sigv4.Presign(old, testAccessKey, testSecret, testRegion, time.Now().Add(-2*time.Hour), time.Hour)
	resp, body = e.do(mustRequest(t, "GET", u.String()))
	d := wantError(t, resp, body, 403, "AccessDenied")
	if d.Message != "Request has expired" {
		t.Errorf("expired presign message %q, want %q", d.Message, "Request has expired")
	}
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSignatureErrorDetails(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	r := e.request("GET", "/bkt?list-type=2", nil)
	e.sign(r, nil)
	r.URL.RawQuery = "list-type=2&prefix=x" // not what was signed
	resp, body := e.do(r)
	wantError(t, resp, body, 403, "SignatureDoesNotMatch")
	if !bytes.Contains(body, []byte("<StringToSign>AWS4-HMAC-SHA256")) || !bytes.Contains(body, []byte("<CanonicalRequest>GET")) {
		t.Errorf("SignatureDoesNotMatch lacks StringToSign/CanonicalRequest:\n%s", body)
	}
}

func TestVirtualHostStyle(t *testing.T) {
	e := newEnv(t)
	e.bucket("vhost")
	e.put("vhost", "dir/obj", []byte("vh"), objstore.Meta{})
	for _, host := range []string{"vhost.s3.strata.test", "vhost.s3.strata.test:8080", "VHOST.S3.Strata.Test"} {
		t.Run(host, func(t *testing.T) {
			r := e.request("GET", "/dir/obj", nil)
			r.Host = host
			resp, body := e.do(e.sign(r, nil))
			if resp.StatusCode != 200 || string(body) != "vh" {
				t.Fatalf("GET via Host %s: %d %q", host, resp.StatusCode, body)
			}
		})
	}
	r := e.request("GET", "/?list-type=2", nil)
	r.Host = "vhost.s3.strata.test"
	resp, body := e.do(e.sign(r, nil))
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<Key>dir/obj</Key>")) {
		t.Fatalf("ListObjectsV2 via virtual host: %d\n%s", resp.StatusCode, body)
	}
}

func TestMalformedXML(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	id, err := e.store.CreateMultipartUpload(context.Background(), "bkt", "mp", objstore.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	md5hdr := func(b []byte) http.Header {
		return http.Header{"Content-Md5": {md5Base64(b)}}
	}
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		hdr                http.Header
	}{
		{"complete garbage", "POST", "/bkt/mp?uploadId=" + id, []byte("<Complete"), nil},
		{"complete empty", "POST", "/bkt/mp?uploadId=" + id, []byte(""), nil},
		{"complete no parts", "POST", "/bkt/mp?uploadId=" + id, []byte("<CompleteMultipartUpload></CompleteMultipartUpload>"), nil},
		{"delete garbage", "POST", "/bkt?delete", []byte("<Delete><Object>"), md5hdr([]byte("<Delete><Object>"))},
		{"delete no objects", "POST", "/bkt?delete", []byte("<Delete></Delete>"), md5hdr([]byte("<Delete></Delete>"))},
		{"create bucket config", "PUT", "/newbkt", []byte("<CreateBucketConfiguration><Loc"), nil},
		{"too large", "POST", "/bkt/mp?uploadId=" + id, bytes.Repeat([]byte("<a/>"), 300<<10), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.signedDo(tc.method, tc.path, tc.body, tc.hdr)
			d := wantError(t, resp, body, 400, "MalformedXML")
			if tc.name == "too large" && !strings.Contains(d.Message, "1048576 bytes") {
				t.Errorf("message %q does not name the limit", d.Message)
			}
		})
	}
	resp, body := e.signedDo("POST", "/bkt?delete", []byte("<Delete><Object><Key>a</Key></Object></Delete>"), nil)
	wantError(t, resp, body, 400, "InvalidRequest")
}

func md5Base64(b []byte) string {
	h := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(h[:])
}

// A trailing checksum that does not match the data fails the upload with
// BadDigest and stores nothing.
func TestTrailingChecksumMismatch(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	data := payload(100 << 10)
	for _, tc := range []struct {
		name   string
		crc    uint32
		status int
	}{
		{"match", crc32.ChecksumIEEE(data), 200},
		{"mismatch", crc32.ChecksumIEEE(data) + 1, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sum [4]byte
			binary.BigEndian.PutUint32(sum[:], tc.crc)
			var body bytes.Buffer
			fmt.Fprintf(&body, "%x\r\n", len(data))
			body.Write(data)
			fmt.Fprintf(&body, "\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n", base64.StdEncoding.EncodeToString(sum[:]))
			r := e.request("PUT", "/bkt/"+tc.name, body.Bytes())
			r.Header.Set("Content-Encoding", "aws-chunked")
			r.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
			r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
			sigv4.SignRequest(r, testAccessKey, testSecret, testRegion, time.Now(), "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
			resp, rb := e.do(r)
			if tc.status == 200 {
				if resp.StatusCode != 200 {
					t.Fatalf("status %d\n%s", resp.StatusCode, rb)
				}
				if got := resp.Header.Get("x-amz-checksum-crc32"); got != base64.StdEncoding.EncodeToString(sum[:]) {
					t.Errorf("echoed x-amz-checksum-crc32 = %q", got)
				}
				info, err := e.store.StatObject(context.Background(), "bkt", tc.name)
				if err != nil || info.Size != int64(len(data)) || info.Meta.ContentEncoding != "" {
					t.Errorf("stored %+v, %v; want %d bytes and no aws-chunked content encoding", info, err, len(data))
				}
				return
			}
			d := wantError(t, resp, rb, 400, "BadDigest")
			if !strings.Contains(d.Message, "x-amz-checksum-crc32") {
				t.Errorf("message %q does not name x-amz-checksum-crc32", d.Message)
			}
			if _, err := e.store.StatObject(context.Background(), "bkt", tc.name); err == nil {
				t.Errorf("object stored despite the checksum mismatch")
			}
		})
	}
}

func TestPutLimits_C25(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.store.MaxObjectSize = 1000 })
	e.bucket("bkt")

	resp, body := e.signedDo("PUT", "/bkt/big", payload(1001), nil)
	d := wantError(t, resp, body, 400, "EntityTooLarge")
	want := "Your proposed upload of 1001 bytes exceeds the maximum allowed object size of 1000 bytes on node " + testNode
	if !strings.Contains(d.Message, want) {
		t.Errorf("message %q, want it to contain %q", d.Message, want)
	}

	// No Content-Length and not aws-chunked: 411.
	r := e.request("PUT", "/bkt/nolen", nil)
	r.Body = io.NopCloser(strings.NewReader("abc"))
	r.ContentLength = -1
	sigv4.SignRequest(r, testAccessKey, testSecret, testRegion, time.Now(), "UNSIGNED-PAYLOAD")
	resp, body = e.do(r)
	wantError(t, resp, body, 411, "MissingContentLength")

	resp, body = e.signedDo("GET", "/bkt?replication", nil, nil)
	d = wantError(t, resp, body, 501, "NotImplemented")
	if !strings.Contains(d.Message, "replication") {
		t.Errorf("NotImplemented message %q does not name the subresource", d.Message)
	}
}

func TestMinioClient(t *testing.T) {
	e := newEnv(t)
	mc := e.minio()
	ctx := context.Background()
	if err := mc.MakeBucket(ctx, "mbkt", minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}
	ok, err := mc.BucketExists(ctx, "mbkt")
	if err != nil || !ok {
		t.Fatalf("BucketExists = %v, %v", ok, err)
	}
	data := payload(2*(5<<20) + 123)
	if _, err := mc.PutObject(ctx, "mbkt", "small", bytes.NewReader(data[:1000]), 1000,
		minio.PutObjectOptions{ContentType: "text/x-m", UserMetadata: map[string]string{"a": "b"}}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	// An unseekable body: minio-go streams it as signed aws-chunked.
	if _, err := mc.PutObject(ctx, "mbkt", "stream", struct{ io.Reader }{bytes.NewReader(data[:300<<10])}, 300<<10,
		minio.PutObjectOptions{DisableMultipart: true}); err != nil {
		t.Fatalf("PutObject(stream): %v", err)
	}
	if st, err := mc.StatObject(ctx, "mbkt", "stream", minio.StatObjectOptions{}); err != nil || st.Size != 300<<10 {
		t.Fatalf("StatObject(stream) = %d bytes, %v", st.Size, err)
	}
	// A multipart upload through minio-go (part size at its minimum).
	if _, err := mc.PutObject(ctx, "mbkt", "big", bytes.NewReader(data), -1,
		minio.PutObjectOptions{PartSize: 5 << 20, DisableMultipart: false}); err != nil {
		t.Fatalf("PutObject(big): %v", err)
	}
	obj, err := mc.GetObject(ctx, "mbkt", "big", minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GetObject(big): err %v, equal %v", err, bytes.Equal(got, data))
	}
	st, err := mc.StatObject(ctx, "mbkt", "small", minio.StatObjectOptions{})
	if err != nil || st.ContentType != "text/x-m" || st.UserMetadata["A"] != "b" {
		t.Fatalf("StatObject = %+v, %v", st, err)
	}
	if _, err := mc.CopyObject(ctx, minio.CopyDestOptions{Bucket: "mbkt", Object: "copy"}, minio.CopySrcOptions{Bucket: "mbkt", Object: "small"}); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	for res := range mc.RemoveObjects(ctx, "mbkt", listAll(ctx, mc, "mbkt"), minio.RemoveObjectsOptions{}) {
		t.Errorf("RemoveObjects: %v", res.Err)
	}
	if err := mc.RemoveBucket(ctx, "mbkt"); err != nil {
		t.Fatalf("RemoveBucket: %v", err)
	}
}

func listAll(ctx context.Context, mc *minio.Client, bucket string) <-chan minio.ObjectInfo {
	ch := make(chan minio.ObjectInfo)
	go func() {
		defer close(ch)
		for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			ch <- o
		}
	}()
	return ch
}

func TestSigV4ErrorMapping(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	body := []byte("payload")
	for _, tc := range []struct {
		name   string
		build  func() *http.Request
		status int
		code   string
	}{
		{"content sha256 mismatch", func() *http.Request {
			r := e.request("PUT", "/bkt/k", body)
			sigv4.SignRequest(r, testAccessKey, testSecret, testRegion, time.Now(), strings.Repeat("ab", 32))
			return r
		}, 400, "XAmzContentSHA256Mismatch"},
		{"time skewed", func() *http.Request {
			r := e.request("GET", "/bkt/k", nil)
			sigv4.SignRequest(r, testAccessKey, testSecret, testRegion, time.Now().Add(-time.Hour), "")
			return r
		}, 403, "RequestTimeTooSkewed"},
		{"malformed authorization", func() *http.Request {
			r := e.request("GET", "/bkt/k", nil)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")
			return r
		}, 400, "AuthorizationHeaderMalformed"},
		{"wrong region", func() *http.Request {
			r := e.request("GET", "/bkt/k", nil)
			sigv4.SignRequest(r, testAccessKey, testSecret, "eu-west-1", time.Now(), "")
			return r
		}, 400, "AuthorizationHeaderMalformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, rb := e.do(tc.build())
			wantError(t, resp, rb, tc.status, tc.code)
		})
	}
	if _, err := e.store.StatObject(context.Background(), "bkt", "k"); err == nil {
		t.Errorf("an object was stored despite the payload hash mismatch")
	}
}
