package sigv4

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	cred := "AKID/20250630/us-east-1/s3/aws4_request"
	tests := []struct {
		name     string
		in       string
		want     authorization
		sentinel error
		msg      string
	}{
		{name: "sdk form", in: "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, Signature=" + sig,
			want: authorization{credential{"AKID", "20250630", "us-east-1", "s3"}, []string{"host", "x-amz-date"}, sig}},
		{name: "minio form", in: "AWS4-HMAC-SHA256 Credential=" + cred + ",SignedHeaders=host,Signature=" + sig,
			want: authorization{credential{"AKID", "20250630", "us-east-1", "s3"}, []string{"host"}, sig}},
		{name: "access key with slash", in: "AWS4-HMAC-SHA256 Credential=a/b/20250630/r/s3/aws4_request,SignedHeaders=host,Signature=" + sig,
			want: authorization{credential{"a/b", "20250630", "r", "s3"}, []string{"host"}, sig}},
		{name: "v2", in: "AWS AKID:abc", sentinel: ErrUnsupportedSigning, msg: "Signature Version 2"},
		{name: "bearer", in: "Bearer xyz", sentinel: ErrUnsupportedSigning, msg: `"Bearer"`},
		{name: "empty", in: "", sentinel: ErrUnsupportedSigning},
		{name: "no signature", in: "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host", sentinel: ErrMalformedAuth, msg: "has no Signature"},
		{name: "twice", in: "AWS4-HMAC-SHA256 Credential=" + cred + ", Credential=" + cred + ", SignedHeaders=host, Signature=" + sig,
			sentinel: ErrMalformedAuth, msg: "has Credential twice"},
		{name: "unknown field", in: "AWS4-HMAC-SHA256 Credential=" + cred + ", Foo=1", sentinel: ErrMalformedAuth, msg: `unknown field "Foo"`},
		{name: "not key=value", in: "AWS4-HMAC-SHA256 Credential", sentinel: ErrMalformedAuth, msg: "is not key=value"},
		{name: "short credential", in: "AWS4-HMAC-SHA256 Credential=AKID/20250630/s3/aws4_request, SignedHeaders=host, Signature=" + sig,
			sentinel: ErrMalformedAuth, msg: "is not access-key/date/region/service/aws4_request"},
		{name: "bad date", in: "AWS4-HMAC-SHA256 Credential=AKID/2025063/r/s3/aws4_request, SignedHeaders=host, Signature=" + sig,
			sentinel: ErrMalformedAuth, msg: `credential date "2025063" is not yyyymmdd`},
		{name: "bad terminator", in: "AWS4-HMAC-SHA256 Credential=AKID/20250630/r/s3/aws5_request, SignedHeaders=host, Signature=" + sig,
			sentinel: ErrMalformedAuth, msg: "does not end in aws4_request"},
		{name: "empty region", in: "AWS4-HMAC-SHA256 Credential=AKID/20250630//s3/aws4_request, SignedHeaders=host, Signature=" + sig,
			sentinel: ErrMalformedAuth, msg: "empty region"},
		{name: "upper-case header", in: "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=Host, Signature=" + sig,
			sentinel: ErrMalformedAuth, msg: `"Host" is not a lower-case header name`},
		{name: "repeated header", in: "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;host, Signature=" + sig,
			sentinel: ErrMalformedAuth, msg: `names "host" twice`},
		{name: "empty signed headers", in: "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=, Signature=" + sig,
			sentinel: ErrMalformedAuth, msg: "SignedHeaders is empty"},
		{name: "upper-case signature", in: "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + strings.ToUpper(sig),
			sentinel: ErrMalformedAuth, msg: "is not 64 lower-case hex digits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAuthorization(tc.in)
			if tc.sentinel != nil {
				if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("got %v; want %v containing %q", err, tc.sentinel, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(authorization{}, credential{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
