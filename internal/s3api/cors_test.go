package s3api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/objstore"
)

func objstoreMetaType(ct string) objstore.Meta { return objstore.Meta{ContentType: ct} }

func TestBucketCORSConfigSDK(t *testing.T) {
	e := newEnv(t)
	e.bucket("web")
	c := e.sdk()
	ctx := context.Background()

	if _, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("web")}); apiCode(err) != "NoSuchCORSConfiguration" {
		t.Fatalf("GetBucketCors before any: %v, want NoSuchCORSConfiguration", err)
	}
	rules := []types.CORSRule{
		{
			ID:             aws.String("app"),
			AllowedOrigins: []string{"https://app.example", "https://*.app.example"},
			AllowedMethods: []string{"GET", "PUT"},
			AllowedHeaders: []string{"content-type", "x-amz-*"},
			ExposeHeaders:  []string{"ETag", "x-amz-request-id"},
			MaxAgeSeconds:  aws.Int32(600),
		},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket: aws.String("web"), CORSConfiguration: &types.CORSConfiguration{CORSRules: rules},
	}); err != nil {
		t.Fatalf("PutBucketCors: %v", err)
	}
	out, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("web")})
	if err != nil {
		t.Fatalf("GetBucketCors: %v", err)
	}
	if d := cmp.Diff(rules, out.CORSRules, cmp.AllowUnexported(types.CORSRule{})); d != "" {
		t.Errorf("GetBucketCors rules (-put +got):\n%s", d)
	}

	bad := []types.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}}
	_, err = c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("web"), CORSConfiguration: &types.CORSConfiguration{CORSRules: bad}})
	if apiCode(err) != "InvalidArgument" || !strings.Contains(err.Error(), "Unsupported method is PATCH") {
		t.Errorf("PutBucketCors with PATCH: %v, want InvalidArgument naming PATCH", err)
	}

	if _, err := c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("web")}); err != nil {
		t.Fatalf("DeleteBucketCors: %v", err)
	}
	if _, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("web")}); apiCode(err) != "NoSuchCORSConfiguration" {
		t.Errorf("GetBucketCors after delete: %v, want NoSuchCORSConfiguration", err)
	}
}

const corsXML = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
 <CORSRule>
  <AllowedOrigin>https://app.example</AllowedOrigin>
  <AllowedOrigin>https://*.app.example</AllowedOrigin>
  <AllowedMethod>GET</AllowedMethod>
  <AllowedMethod>PUT</AllowedMethod>
  <AllowedHeader>Content-Type</AllowedHeader>
  <AllowedHeader>x-amz-*</AllowedHeader>
  <ExposeHeader>ETag</ExposeHeader>
  <MaxAgeSeconds>600</MaxAgeSeconds>
 </CORSRule>
 <CORSRule>
  <AllowedOrigin>*</AllowedOrigin>
  <AllowedMethod>GET</AllowedMethod>
 </CORSRule>
</CORSConfiguration>`

func TestCORSPreflightAndActual_C10(t *testing.T) {
	e := newEnv(t)
	e.bucket("web")
	e.put("web", "page.js", []byte("js"), objstoreMetaType("text/javascript"))
	if resp, body := e.signedDo(http.MethodPut, "/web?cors", []byte(corsXML), nil); resp.StatusCode != 200 {
		t.Fatalf("PutBucketCors: %d %s", resp.StatusCode, body)
	}
	if err := e.store.SetBucketPublicRead(context.Background(), "web", true); err != nil {
		t.Fatal(err)
	}

	type want struct {
		status  int
		code    string
		headers map[string]string // "" means absent
	}
	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		want   want
	}{
		{
			name: "preflight allowed", method: "OPTIONS", path: "/web/page.js",
			hdr: map[string]string{"Origin": "https://x.app.example", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"},
			want: want{status: 200, headers: map[string]string{
				"Access-Control-Allow-Origin":      "https://x.app.example",
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods":     "GET, PUT",
				"Access-Control-Allow-Headers":     "content-type, x-amz-date",
				"Access-Control-Max-Age":           "600",
				"Access-Control-Expose-Headers":    "ETag",
				"Vary":                             corsVary,
			}},
		},
		{
			name: "preflight wildcard origin", method: "OPTIONS", path: "/web/page.js",
			hdr: map[string]string{"Origin": "https://other.example", "Access-Control-Request-Method": "GET"},
			want: want{status: 200, headers: map[string]string{
				"Access-Control-Allow-Origin":      "*",
				"Access-Control-Allow-Credentials": "",
			}},
		},
		{
			name: "preflight method not allowed", method: "OPTIONS", path: "/web/page.js",
			hdr:  map[string]string{"Origin": "https://other.example", "Access-Control-Request-Method": "PUT"},
			want: want{status: 403, code: "AccessForbidden", headers: map[string]string{"Access-Control-Allow-Origin": ""}},
		},
		{
			name: "preflight header not allowed", method: "OPTIONS", path: "/web/page.js",
			hdr:  map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-custom"},
			want: want{status: 403, code: "AccessForbidden"},
		},
		{
			name: "preflight without origin", method: "OPTIONS", path: "/web/page.js",
			hdr:  map[string]string{"Access-Control-Request-Method": "GET"},
			want: want{status: 400, code: "BadRequest"},
		},
		{
			name: "actual GET from a listed origin", method: "GET", path: "/web/page.js",
			hdr: map[string]string{"Origin": "https://app.example"},
			want: want{status: 200, headers: map[string]string{
				"Access-Control-Allow-Origin":   "https://app.example",
				"Access-Control-Expose-Headers": "ETag",
				"Vary":                          corsVary,
			}},
		},
		{
			name: "actual GET without origin still varies", method: "GET", path: "/web/page.js",
			want: want{status: 200, headers: map[string]string{"Access-Control-Allow-Origin": "", "Vary": corsVary}},
		},
		{
			name: "actual error response carries CORS headers", method: "GET", path: "/web/missing.js",
			hdr:  map[string]string{"Origin": "https://app.example"},
			want: want{status: 404, code: "NoSuchKey", headers: map[string]string{"Access-Control-Allow-Origin": "https://app.example"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.request(tt.method, tt.path, nil)
			for k, v := range tt.hdr {
				r.Header.Set(k, v)
			}
			resp, body := e.do(r)
			if tt.want.code != "" {
				d := wantError(t, resp, body, tt.want.status, tt.want.code)
				t.Logf("message: %s", d.Message)
			} else if resp.StatusCode != tt.want.status {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tt.want.status, body)
			}
			for k, v := range tt.want.headers {
				if got := strings.Join(resp.Header.Values(k), ", "); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}

	// Without a CORS configuration a preflight is refused and says why.
	e.bucket("plain")
	r := e.request("OPTIONS", "/plain/x", nil)
	r.Header.Set("Origin", "https://app.example")
	r.Header.Set("Access-Control-Request-Method", "GET")
	resp, body := e.do(r)
	d := wantError(t, resp, body, 403, "AccessForbidden")
	if !strings.Contains(d.Message, "This CORS request is not allowed") || !strings.Contains(d.Message, "bucket plain has no CORS configuration") {
		t.Errorf("Message = %q", d.Message)
	}
}

func TestCORSMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"https://app.example", "https://app.example", true},
		{"https://app.example", "https://APP.example", true},
		{"https://*.app.example", "https://a.b.app.example", true},
		{"https://*.app.example", "https://app.example", false},
		{"*", "null", true},
		{"http://*", "https://x", false},
		{"x-amz-*", "x-amz-date", true},
	}
	for _, tt := range tests {
		if got := matchOne(tt.pat, tt.s); got != tt.want {
			t.Errorf("matchOne(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}
