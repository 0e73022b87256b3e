package e2e

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// awsClient returns an aws-sdk-go-v2 S3 client for the node, path-style,
// with static credentials. It reads no shared config or CA bundle variables.
// Checksums are on as config.LoadDefaultConfig would set them: the SDK sends
// one with every upload and validates the ones a download carries.
func awsClient(n *node, opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		BaseEndpoint:               aws.String(n.S3),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}, opts...)
}

// minioClient returns a minio-go client for the node.
func minioClient(t *testing.T, n *node) *minio.Client {
	t.Helper()
	u, err := url.Parse(n.S3)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:  miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""),
		Secure: false,
		Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// content returns the deterministic body of a test object: its size and
// bytes follow from the key, so a reader can check any object it finds
// without knowing which writes succeeded.
func content(key string, minSize, maxSize int) []byte {
	h := sha256.Sum256([]byte(key))
	r := rand.New(rand.NewChaCha8(h))
	size := minSize + int(binary.BigEndian.Uint32(h[:4])%uint32(maxSize-minSize+1))
	b := make([]byte, size)
	for i := 0; i < size; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:], w[:])
	}
	return b
}
