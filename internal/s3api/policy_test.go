package s3api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const publicPrefixPolicy = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "PublicAssets",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": ["arn:aws:s3:::site/public/*", "arn:aws:s3:::site/robots.txt"]
  }]
}`

func TestBucketPolicyPublicPrefix(t *testing.T) {
	e := newEnv(t)
	e.bucket("site")
	for _, k := range []string{"public/a.css", "public/img/b.png", "private/c.txt", "robots.txt", "publicity.txt"} {
		e.put("site", k, []byte("data of "+k), objstoreMetaType("text/plain"))
	}
	c := e.sdk()
	ctx := context.Background()
	if _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("site")}); apiCode(err) != "NoSuchBucketPolicy" {
		t.Fatalf("GetBucketPolicy before any: %v, want NoSuchBucketPolicy", err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("site"), Policy: aws.String(publicPrefixPolicy)}); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
	out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("site")})
	if err != nil || aws.ToString(out.Policy) != publicPrefixPolicy {
		t.Fatalf("GetBucketPolicy = %q, %v; want the policy as put", aws.ToString(out.Policy), err)
	}

	tests := []struct {
		method, key string
		status      int
	}{
		{"GET", "public/a.css", 200},
		{"HEAD", "public/img/b.png", 200},
		{"GET", "robots.txt", 200},
		{"GET", "private/c.txt", 403},
		{"GET", "publicity.txt", 403},
		{"PUT", "public/new.css", 403},
		{"DELETE", "public/a.css", 403},
		{"GET", "public/missing.css", 404},
	}
	for _, tt := range tests {
		resp, body := e.do(e.request(tt.method, "/site/"+tt.key, nil))
		if resp.StatusCode != tt.status {
			t.Errorf("anonymous %s %s: status %d, want %d\n%s", tt.method, tt.key, resp.StatusCode, tt.status, body)
		}
	}
	// Listing stays private.
	if resp, _ := e.do(e.request("GET", "/site?list-type=2", nil)); resp.StatusCode != 403 {
		t.Errorf("anonymous list: status %d, want 403", resp.StatusCode)
	}

	if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("site")}); err != nil {
		t.Fatalf("DeleteBucketPolicy: %v", err)
	}
	if resp, _ := e.do(e.request("GET", "/site/public/a.css", nil)); resp.StatusCode != 403 {
		t.Errorf("anonymous GET after DeleteBucketPolicy: status %d, want 403", resp.StatusCode)
	}
}

func TestBucketPolicyRefusesUnsupported(t *testing.T) {
	e := newEnv(t)
	e.bucket("site")
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	tests := []struct {
		doc, status, code, msg string
	}{
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::site/*"}`), "501", "NotImplemented", `Statement[0] has Action "s3:PutObject"`},
		{stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}`), "501", "NotImplemented", "Statement[0] has Effect Deny"},
		{stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}`), "501", "NotImplemented", `Principal AWS "arn:aws:iam::1:root"`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), "501", "NotImplemented", "Statement[0] uses Condition"},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}`), "400", "MalformedPolicy", `names bucket "other", not this bucket "site"`},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site"}`), "400", "MalformedPolicy", "is the bucket"},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*","Extra":1}`), "400", "MalformedPolicy", `unknown element "Extra"`},
		{`{"Statement": [}`, "400", "MalformedPolicy", "valid JSON"},
		{`{"Version":"2012-10-17"}`, "400", "MalformedPolicy", "Missing required field Statement"},
	}
	for _, tt := range tests {
		resp, body := e.signedDo(http.MethodPut, "/site?policy", []byte(tt.doc), nil)
		d := wantError(t, resp, body, atoi(tt.status), tt.code)
		if !strings.Contains(d.Message, tt.msg) {
			t.Errorf("PutBucketPolicy(%s): Message = %q, want it to contain %q", tt.doc, d.Message, tt.msg)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"public/*", "public/a/b.css", true},
		{"public/*", "public", false},
		{"*.png", "img/x.png", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*", "", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}
