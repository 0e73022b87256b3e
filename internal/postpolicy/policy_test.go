package postpolicy

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The worked example "Browser-Based Upload using HTTP POST (Using AWS
// Signature Version 4)" of the S3 API reference: its policy (exact base64),
// credentials and published signature.
const (
	awsAccessKey = "AKIAIOSFODNN7EXAMPLE"
	awsSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	awsSignature = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
	awsPolicyB64 = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
)

// awsFields is the example's form, as a handler hands it over: names lower
// case, the file left out.
func awsFields() map[string]string {
	return map[string]string{
		"key":                          "user/user1/${filename}",
		"acl":                          "public-read",
		"success_action_redirect":      "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
		"content-type":                 "image/jpeg",
		"x-amz-meta-uuid":              "14365123651274",
		"x-amz-server-side-encryption": "AES256",
		"x-amz-meta-tag":               "",
		"x-amz-credential":             awsAccessKey + "/20151229/us-east-1/s3/aws4_request",
		"x-amz-algorithm":              "AWS4-HMAC-SHA256",
		"x-amz-date":                   "20151229T000000Z",
		"policy":                       awsPolicyB64,
		"x-amz-signature":              awsSignature,
	}
}

var awsNow = time.Date(2015, 12, 29, 12, 0, 0, 0, time.UTC)

func TestAWSExampleSignature(t *testing.T) {
	cred, err := ParseCredential(awsFields()["x-amz-credential"])
	if err != nil {
		t.Fatalf("ParseCredential: %v", err)
	}
	if got := Signature(awsSecret, cred, awsPolicyB64); got != awsSignature {
		t.Errorf("Signature = %s, want the published %s", got, awsSignature)
	}
	if !SignatureEqual(strings.ToUpper(awsSignature), awsSignature) {
		t.Errorf("SignatureEqual ignores hex case: got false")
	}
}

func TestAWSExamplePolicy(t *testing.T) {
	p, err := Decode(awsPolicyB64)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if want := time.Date(2015, 12, 30, 12, 0, 0, 0, time.UTC); !p.Expiration.Equal(want) {
		t.Errorf("Expiration = %v, want %v", p.Expiration, want)
	}
	var got []string
	for _, c := range p.Conditions {
		got = append(got, c.String())
	}
	want := []string{
		`{"bucket":"sigv4examplebucket"}`,
		`["starts-with", "$key", "user/user1/"]`,
		`{"acl":"public-read"}`,
		`{"success_action_redirect":"http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"}`,
		`["starts-with", "$Content-Type", "image/"]`,
		`{"x-amz-meta-uuid":"14365123651274"}`,
		`{"x-amz-server-side-encryption":"AES256"}`,
		`["starts-with", "$x-amz-meta-tag", ""]`,
		`{"x-amz-credential":"AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"}`,
		`{"x-amz-algorithm":"AWS4-HMAC-SHA256"}`,
		`{"x-amz-date":"20151229T000000Z"}`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("conditions (-want +got):\n%s", d)
	}
	form := Form{Bucket: "sigv4examplebucket", Fields: awsFields(), Filename: "MyPhoto.jpg"}
	if err := p.Check(form, awsNow); err != nil {
		t.Errorf("Check of the example form: %v", err)
	}
	if got, want := form.Key(), "user/user1/MyPhoto.jpg"; got != want {
		t.Errorf("Key() = %q, want %q", got, want)
	}
}

func TestCheck(t *testing.T) {
	p, err := Decode(awsPolicyB64)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	tests := []struct {
		name     string
		bucket   string
		change   func(map[string]string)
		filename string
		now      time.Time
		sentinel error
		msg      string
	}{
		{
			name:     "key outside the prefix",
			change:   func(f map[string]string) { f["key"] = "x.txt" },
			sentinel: ErrConditionFailed,
			msg:      `condition ["starts-with", "$key", "user/user1/"] failed: key is "x.txt"`,
		},
		{
			name:     "filename cannot escape the prefix",
			change:   func(f map[string]string) { f["key"] = "${filename}" },
			filename: "user/user1/../../etc",
			sentinel: nil,
		},
		{
			name:     "filename replaced before the check",
			change:   func(f map[string]string) { f["key"] = "${filename}" },
			filename: "other/x",
			sentinel: ErrConditionFailed,
			msg:      `condition ["starts-with", "$key", "user/user1/"] failed: key is "other/x" (from "${filename}" with ${filename} replaced)`,
		},
		{
			name:     "wrong bucket",
			bucket:   "other",
			sentinel: ErrConditionFailed,
			msg:      `condition {"bucket":"sigv4examplebucket"} failed: bucket is "other"`,
		},
		{
			name:     "eq fails",
			change:   func(f map[string]string) { f["acl"] = "private" },
			sentinel: ErrConditionFailed,
			msg:      `condition {"acl":"public-read"} failed: acl is "private"`,
		},
		{
			name:     "missing field",
			change:   func(f map[string]string) { delete(f, "acl") },
			sentinel: ErrConditionFailed,
			msg:      `condition {"acl":"public-read"} failed: the form has no "acl" field`,
		},
		{
			name:   "starts-with empty allows absence",
			change: func(f map[string]string) { delete(f, "x-amz-meta-tag") },
		},
		{
			name:     "content type prefix",
			change:   func(f map[string]string) { f["content-type"] = "text/html" },
			sentinel: ErrConditionFailed,
			msg:      `condition ["starts-with", "$Content-Type", "image/"] failed: content-type is "text/html"`,
		},
		{
			name:   "several content types all match",
			change: func(f map[string]string) { f["content-type"] = "image/png, image/jpeg" },
		},
		{
			name:     "one of several content types does not match",
			change:   func(f map[string]string) { f["content-type"] = "image/png,text/plain" },
			sentinel: ErrConditionFailed,
		},
		{
			name:     "extra field",
			change:   func(f map[string]string) { f["x-amz-meta-extra"] = "v"; f["cache-control"] = "no-cache" },
			sentinel: ErrExtraField,
			msg:      `form field "cache-control", "x-amz-meta-extra" is not named by any policy condition`,
		},
		{
			name:   "x-ignore fields are exempt",
			change: func(f map[string]string) { f["x-ignore-submit"] = "Upload" },
		},
		{
			name:     "expired",
			now:      time.Date(2015, 12, 30, 12, 5, 0, 0, time.UTC),
			sentinel: ErrExpired,
			msg:      "the policy expired at 2015-12-30T12:00:00Z, 5m0s before this request (2015-12-30T12:05:00Z)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := awsFields()
			if tt.change != nil {
				tt.change(fields)
			}
			bucket := tt.bucket
			if bucket == "" {
				bucket = "sigv4examplebucket"
			}
			filename := tt.filename
			if filename == "" {
				filename = "a.jpg"
			}
			now := tt.now
			if now.IsZero() {
				now = awsNow
			}
			err := p.Check(Form{Bucket: bucket, Fields: fields, Filename: filename}, now)
			if tt.sentinel == nil {
				if err != nil {
					t.Fatalf("Check: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("Check: %v, want %v", err, tt.sentinel)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Check error\n got %q\nwant it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestKeyTemplateCondition(t *testing.T) {
	p, err := Parse([]byte(`{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$key","up/${filename}"]]}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	f := Form{Bucket: "b", Fields: map[string]string{"key": "up/${filename}"}, Filename: "a.txt"}
	if err := p.Check(f, awsNow); err != nil {
		t.Errorf("eq on the template itself: %v", err)
	}
}

func TestLengthRange(t *testing.T) {
	p, err := Parse([]byte(`{"expiration":"2030-01-01T00:00:00Z","conditions":[
		["content-length-range", 10, 1000], ["content-length-range", "5", "500"]]}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	lo, hi, ok := p.LengthRange()
	if lo != 10 || hi != 500 || !ok {
		t.Errorf("LengthRange() = %d, %d, %v; want the intersection 10, 500, true", lo, hi, ok)
	}
	tests := []struct {
		size int64
		msg  string
	}{
		{9, "the file is 9 bytes, outside the policy's content-length-range [10, 500]"},
		{10, ""},
		{500, ""},
		{501, "the file is 501 bytes, outside the policy's content-length-range [10, 500]"},
	}
	for _, tt := range tests {
		err := p.CheckLength(tt.size)
		got := ""
		if err != nil {
			got = err.Error()
			if !errors.Is(err, ErrLengthRange) {
				t.Errorf("CheckLength(%d) = %v, not ErrLengthRange", tt.size, err)
			}
		}
		if got != tt.msg {
			t.Errorf("CheckLength(%d) = %q, want %q", tt.size, got, tt.msg)
		}
	}
	cut := &LengthError{Size: 501, AtLeast: true, Min: 10, Max: 500}
	if got, want := cut.Error(), "the file is more than 500 bytes, outside the policy's content-length-range [10, 500]"; got != want {
		t.Errorf("cut-off LengthError = %q, want %q", got, want)
	}
	if _, _, ok := (&Policy{}).LengthRange(); ok {
		t.Errorf("LengthRange of a policy without one: ok = true")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		doc string
		msg string
	}{
		{`[]`, "not a JSON object"},
		{`{"conditions":[]}`, `no "expiration"`},
		{`{"expiration":"2030-01-01T00:00:00Z"}`, `no "conditions"`},
		{`{"expiration":"tomorrow","conditions":[]}`, `"expiration" "tomorrow" is not an ISO 8601`},
		{`{"expiration":5,"conditions":[]}`, `"expiration" must be a string`},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":{}}`, `"conditions" must be a JSON array`},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[],"x":1}`, `unknown policy element "x"`},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[]} {}`, "data after its JSON object"},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","key","v"]]}`, `conditions[0] ["eq","key","v"]: the field "key" must start with "$"`},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[["regex","$key","v"]]}`, `unknown operator "regex"`},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$key"]]}`, "has 2 elements"},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",10,1]]}`, "is empty or negative"},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range","a",1]]}`, "two non-negative integers"},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[{"acl":1}]}`, `the value of "acl" must be a string`},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[{}]}`, "empty object"},
		{`{"expiration":"2030-01-01T00:00:00Z","conditions":[7]}`, "must be an object"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.doc))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%s) = %v; want ErrMalformed containing %q", tt.doc, err, tt.msg)
		}
	}
	if _, err := Decode("not base64!"); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "not base64") {
		t.Errorf("Decode(not base64) = %v", err)
	}
	big := base64.StdEncoding.EncodeToString(make([]byte, MaxDocumentSize+1))
	if _, err := Decode(big); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "over") {
		t.Errorf("Decode(oversized) = %v", err)
	}
}

func TestParseCredential(t *testing.T) {
	tests := []struct {
		in  string
		msg string
	}{
		{"AK/20240101/us-east-1/s3/aws4_request", ""},
		{"AK/20240101/us-east-1/s3", "has 4 parts"},
		{"/20240101/us-east-1/s3/aws4_request", "empty access key"},
		{"AK/2024-01-01/us-east-1/s3/aws4_request", "is not yyyymmdd"},
		{"AK/20240101//s3/aws4_request", "empty region"},
		{"AK/20240101/us-east-1/ec2/aws4_request", `the service is "ec2"`},
		{"AK/20240101/us-east-1/s3/aws5_request", `must end in "/aws4_request"`},
	}
	for _, tt := range tests {
		c, err := ParseCredential(tt.in)
		if tt.msg == "" {
			if err != nil || c.String() != tt.in {
				t.Errorf("ParseCredential(%q) = %+v, %v; want it to round-trip", tt.in, c, err)
			}
			continue
		}
		if !errors.Is(err, ErrMalformedCredential) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseCredential(%q) = %v; want an error containing %q", tt.in, err, tt.msg)
		}
	}
}

func TestPresignRoundTrip(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	ps := Presign{
		Bucket: "photos", Key: "uploads/${filename}",
		Fields:  map[string]string{"Content-Type": "image/png", "x-amz-meta-owner": "ann"},
		MaxSize: 1 << 20, Expires: time.Hour, Now: now,
		AccessKey: "AK", Secret: "SK", Region: "eu-west-1",
	}
	form := ps.Form()
	cred, err := ParseCredential(form["x-amz-credential"])
	if err != nil {
		t.Fatalf("ParseCredential: %v", err)
	}
	if got := Signature("SK", cred, form["policy"]); got != form["x-amz-signature"] {
		t.Errorf("signature %s does not verify (want %s)", form["x-amz-signature"], got)
	}
	p, err := Decode(form["policy"])
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	fields := map[string]string{}
	for k, v := range form {
		fields[strings.ToLower(k)] = v
	}
	if err := p.Check(Form{Bucket: "photos", Fields: fields, Filename: "cat.png"}, now.Add(time.Minute)); err != nil {
		t.Errorf("Check of the presigned form: %v", err)
	}
	if err := p.Check(Form{Bucket: "photos", Fields: fields}, now.Add(2*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Errorf("Check after expiry = %v, want ErrExpired", err)
	}
	if err := p.CheckLength(1<<20 + 1); !errors.Is(err, ErrLengthRange) {
		t.Errorf("CheckLength over MaxSize = %v, want ErrLengthRange", err)
	}
}
