package sigv4

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// testPayload is deterministic, not a multiple of 64 KiB, and big enough
// for several chunks whatever chunk size a client picks.
func testPayload(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func crc32Base64(tab *crc32.Table, b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(b, tab))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func newSDKClient(srv *httptest.Server, opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, testSecret, ""),
		BaseEndpoint:     aws.String(srv.URL),
		UsePathStyle:     true,
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
		// What config.LoadDefaultConfig sets; a bare s3.Options leaves it
		// unset, which sends no checksum at all.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	}, opts...)
}

// onlyReader hides a reader's Seek, so the SDK cannot hash it ahead.
type onlyReader struct{ io.Reader }

// aws-sdk-go-v2's S3 client, in each payload form it can be made to
// send, against the verifying server: the server must read exactly the
// bytes sent and, for aws-chunked, the checksum trailer.
func TestSDKPutObjectPayloadForms(t *testing.T) {
	clearAWSEnv(t)
	payload := testPayload(1<<20 + 17)
	tests := []struct {
		name        string
		tls         bool
		opts        []func(*s3.Options)
		input       func(*s3.PutObjectInput)
		wantHash    string // "" means a hex SHA-256
		wantTrailer string // trailer name, if any
		wantValue   string
	}{
		{name: "http default", wantHash: ""},
		{name: "http unsigned payload", wantHash: UnsignedPayload,
			opts: []func(*s3.Options){
				s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware),
				// A checksum computed ahead would bring the SHA-256 back.
				func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired },
			}},
		{name: "http checksum when required", wantHash: "",
			opts: []func(*s3.Options){func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired }}},
		{name: "https default", tls: true, wantHash: StreamingUnsignedTrailer,
			wantTrailer: "x-amz-checksum-crc32", wantValue: crc32Base64(crc32.IEEETable, payload)},
		{name: "https crc32c", tls: true, wantHash: StreamingUnsignedTrailer,
			input:       func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c },
			wantTrailer: "x-amz-checksum-crc32c", wantValue: crc32Base64(crc32.MakeTable(crc32.Castagnoli), payload)},
		{name: "https unseekable body", tls: true, wantHash: StreamingUnsignedTrailer,
			input: func(in *s3.PutObjectInput) {
				in.Body = onlyReader{bytes.NewReader(payload)}
				in.ContentLength = aws.Int64(int64(len(payload)))
			},
			wantTrailer: "x-amz-checksum-crc32", wantValue: crc32Base64(crc32.IEEETable, payload)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, seen := verifyServer(t, testVerifier(), tc.tls)
			client := newSDKClient(srv, tc.opts...)
			in := &s3.PutObjectInput{
				Bucket: aws.String("bucket"),
				Key:    aws.String("dir/key with space+plus"),
				Body:   bytes.NewReader(payload),
			}
			if tc.input != nil {
				tc.input(in)
			}
			_, err := client.PutObject(context.Background(), in)
			ob := next(t, seen)
			if err != nil || ob.err != nil {
				t.Fatalf("PutObject: %v; server: %v", err, ob.err)
			}
			checkObservation(t, ob, payload, tc.wantHash, tc.wantTrailer, tc.wantValue)
		})
	}
}

func checkObservation(t *testing.T, ob observation, payload []byte, wantHash, wantTrailer, wantValue string) {
	t.Helper()
	if wantHash == "" {
		if _, err := payloadMode(ob.payloadHash); err != nil || len(ob.payloadHash) != 64 {
			t.Errorf("x-amz-content-sha256 = %q, want a hex SHA-256", ob.payloadHash)
		}
	} else if ob.payloadHash != wantHash {
		t.Errorf("x-amz-content-sha256 = %q, want %q", ob.payloadHash, wantHash)
	}
	if !bytes.Equal(ob.body, payload) {
		t.Errorf("server read %d bytes, want the %d sent (equal prefix %v)", len(ob.body), len(payload),
			bytes.HasPrefix(payload, ob.body))
	}
	if wantTrailer != "" {
		if got := ob.res.Trailer.Get(wantTrailer); got != wantValue {
			t.Errorf("trailer %s = %q, want %q (all: %v)", wantTrailer, got, wantValue, ob.res.Trailer)
		}
	}
	if strings.HasPrefix(ob.payloadHash, "STREAMING-") && ob.res.DecodedLength != int64(len(payload)) {
		t.Errorf("DecodedLength = %d, want %d", ob.res.DecodedLength, len(payload))
	}
}

// The SDK's own requests for tricky keys and listing prefixes verify.
func TestSDKClientTrickyKeys(t *testing.T) {
	clearAWSEnv(t)
	srv, seen := verifyServer(t, testVerifier(), false)
	client := newSDKClient(srv)
	ctx := context.Background()
	for _, key := range trickyKeys {
		_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
		if ob := next(t, seen); err != nil || ob.err != nil {
			t.Errorf("HeadObject(%q): %v; server: %v", key, err, ob.err)
		}
		_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key), VersionId: aws.String("v+1/2=")})
		if ob := next(t, seen); err != nil || ob.err != nil {
			t.Errorf("DeleteObject(%q): %v; server: %v", key, err, ob.err)
		}
		_, err = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket"), Prefix: aws.String(key),
			Delimiter: aws.String("/"), StartAfter: aws.String(key + "~")})
		if ob := next(t, seen); err != nil || ob.err != nil {
			t.Errorf("ListObjectsV2(prefix %q): %v; server: %v", key, err, ob.err)
		}
	}
}

// Presigned GET and PUT URLs from the SDK's presign client verify.
func TestSDKPresignedURLs(t *testing.T) {
	clearAWSEnv(t)
	srv, seen := verifyServer(t, testVerifier(), false)
	pc := s3.NewPresignClient(newSDKClient(srv), s3.WithPresignExpires(time.Hour))
	ctx := context.Background()
	payload := testPayload(1000)
	for _, key := range trickyKeys {
		get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key),
			ResponseContentDisposition: aws.String(`attachment; filename="a b.txt"`)})
		if err != nil {
			t.Fatal(err)
		}
		sendPresigned(t, srv, "GET", get.URL, get.SignedHeader, nil)
		if ob := next(t, seen); ob.err != nil || !ob.res.Presigned || ob.res.AccessKey != testAccessKey {
			t.Errorf("presigned GET %q: %v (presigned %v)", key, ob.err, ob.res != nil && ob.res.Presigned)
		}

		put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		sendPresigned(t, srv, "PUT", put.URL, put.SignedHeader, payload)
		ob := next(t, seen)
		if ob.err != nil || !bytes.Equal(ob.body, payload) {
			t.Errorf("presigned PUT %q: %v, read %d bytes", key, ob.err, len(ob.body))
		}
	}
}

func sendPresigned(t *testing.T, srv *httptest.Server, method, u string, h http.Header, body []byte) {
	t.Helper()
	r, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		if !strings.EqualFold(k, "Host") {
			r.Header[k] = v
		}
	}
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func newMinioClient(t *testing.T, srv *httptest.Server, secure, trailing bool) *minio.Client {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	c, err := minio.New(u.Host, &minio.Options{
		Creds:           miniocreds.NewStaticV4(testAccessKey, testSecret, ""),
		Secure:          secure,
		Region:          testRegion,
		Transport:       srv.Client().Transport,
		TrailingHeaders: trailing,
		MaxRetries:      1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// minio-go in each payload form: signed chunks over plain HTTP, signed
// chunks with a signed checksum trailer, unsigned chunks with a trailer,
// and the plain forms.
func TestMinioPutObjectPayloadForms(t *testing.T) {
	payload := testPayload(300<<10 + 5)
	crc32c := crc32.MakeTable(crc32.Castagnoli)
	tests := []struct {
		name               string
		tls, trailing      bool
		opts               minio.PutObjectOptions
		payload            []byte
		wantHash           string
		wantTrailer, value string
	}{
		{name: "http streaming signature", wantHash: StreamingPayload},
		{name: "http streaming empty object", payload: []byte{}, wantHash: StreamingPayload},
		{name: "http signed trailer", trailing: true, opts: minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C},
			wantHash: StreamingPayloadTrailer, wantTrailer: "x-amz-checksum-crc32c", value: crc32Base64(crc32c, payload)},
		// minio-go sends a trailer only for an explicit Checksum: its
		// automatic CRC on a single PUT turns itself off.
		{name: "http unsigned trailer", trailing: true, opts: minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C, DisableContentSha256: true},
			wantHash: StreamingUnsignedTrailer, wantTrailer: "x-amz-checksum-crc32c", value: crc32Base64(crc32c, payload)},
		{name: "http unsigned payload", opts: minio.PutObjectOptions{DisableContentSha256: true}, wantHash: UnsignedPayload},
		{name: "https default", tls: true, wantHash: UnsignedPayload},
		{name: "https trailing", tls: true, trailing: true, opts: minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C}, wantHash: StreamingUnsignedTrailer,
			wantTrailer: "x-amz-checksum-crc32c", value: crc32Base64(crc32c, payload)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, seen := verifyServer(t, testVerifier(), tc.tls)
			c := newMinioClient(t, srv, tc.tls, tc.trailing)
			p := payload
			if tc.payload != nil {
				p = tc.payload
			}
			_, err := c.PutObject(context.Background(), "bucket", "dir/key with space+plus=€", bytes.NewReader(p), int64(len(p)), tc.opts)
			obs := drain(seen)
			if err != nil || len(obs) != 1 || obs[0].err != nil {
				for _, ob := range obs {
					t.Logf("server saw %s %s: %v", ob.method, ob.path, ob.err)
				}
				t.Fatalf("PutObject: %v", err)
			}
			checkObservation(t, obs[0], p, tc.wantHash, tc.wantTrailer, tc.value)
		})
	}
}

// minio-go's requests for tricky keys, and its presigned URLs, verify.
func TestMinioTrickyKeysAndPresign(t *testing.T) {
	srv, seen := verifyServer(t, testVerifier(), false)
	c := newMinioClient(t, srv, false, false)
	ctx := context.Background()
	for _, key := range trickyKeys {
		if err := c.RemoveObject(ctx, "bucket", key, minio.RemoveObjectOptions{VersionID: "v+1/2="}); err != nil {
			t.Errorf("RemoveObject(%q): %v", key, err)
		}
		if ob := next(t, seen); ob.err != nil || ob.path != "/bucket/"+key {
			t.Errorf("RemoveObject(%q): server saw %q: %v", key, ob.path, ob.err)
		}
		u, err := c.PresignedGetObject(ctx, "bucket", key, time.Hour, url.Values{"response-content-type": {"text/plain; charset=utf-8"}})
		if err != nil {
			t.Fatal(err)
		}
		sendPresigned(t, srv, "GET", u.String(), nil, nil)
		if ob := next(t, seen); ob.err != nil || !ob.res.Presigned {
			t.Errorf("presigned GET %q: %v", key, ob.err)
		}
	}
}
