package s3api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/objstore"
	"github.com/strata-cdn/strata/internal/postpolicy"
)

func sha256Base64(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func objstoreListAll() objstore.ListOptions { return objstore.ListOptions{MaxKeys: 1000} }

// formField is one field of a multipart form, in order.
type formField struct{ name, value string }

// sortedFields orders a presigned form's fields (maps have no order); the
// file goes after them.
func sortedFields(m map[string]string) []formField {
	var out []formField
	for k, v := range m {
		out = append(out, formField{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// multipartForm builds a form body: the fields, then the file in the
// field fileField (if not empty), then the trailing fields.
func multipartForm(t *testing.T, fields []formField, fileField, filename string, content []byte, after ...formField) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f.name, f.value); err != nil {
			t.Fatalf("WriteField: %v", err)
		}
	}
	if fileField != "" {
		fw, err := mw.CreateFormFile(fileField, filename)
		if err != nil {
			t.Fatalf("CreateFormFile: %v", err)
		}
		fw.Write(content)
	}
	for _, f := range after {
		mw.WriteField(f.name, f.value)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// postForm posts a form to the bucket URL without following redirects.
func (e *testEnv) postForm(bucketURL string, body []byte, contentType string) (*http.Response, []byte) {
	e.t.Helper()
	r, err := http.NewRequest(http.MethodPost, bucketURL, bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	r.Header.Set("Content-Type", contentType)
	c := *e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(r)
	if err != nil {
		e.t.Fatalf("POST %s: %v", bucketURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// presign returns the fields of a form signed with the test credentials.
func (e *testEnv) presign(bucket, key string, fields map[string]string, maxSize int64) map[string]string {
	return postpolicy.Presign{
		Bucket: bucket, Key: key, Fields: fields, MaxSize: maxSize,
		Expires: time.Hour, Now: time.Now(),
		AccessKey: testAccessKey, Secret: testSecret, Region: testRegion,
	}.Form()
}

func TestPostObjectMinioPresigned_C26(t *testing.T) {
	e := newEnv(t)
	e.bucket("forms")
	mc := e.minio()
	ctx := context.Background()

	p := minio.NewPostPolicy()
	p.SetBucket("forms")
	p.SetKey("uploads/report.txt")
	p.SetExpires(time.Now().UTC().Add(10 * time.Minute))
	p.SetContentType("text/plain")
	p.SetContentLengthRange(1, 1<<20)
	p.SetUserMetadata("owner", "ann")
	p.SetSuccessStatusAction("201")
	u, fields, err := mc.PresignedPostPolicy(ctx, p)
	if err != nil {
		t.Fatalf("PresignedPostPolicy: %v", err)
	}
	content := payload(200 << 10)
	body, ct := multipartForm(t, sortedFields(fields), "file", "report.txt", content)
	resp, respBody := e.postForm(u.String(), body, ct)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body:\n%s", resp.StatusCode, respBody)
	}
	var pr struct {
		Location, Bucket, Key, ETag string
	}
	if err := xml.Unmarshal(respBody, &pr); err != nil {
		t.Fatalf("PostResponse: %v\n%s", err, respBody)
	}
	if pr.Bucket != "forms" || pr.Key != "uploads/report.txt" || pr.ETag != resp.Header.Get("ETag") || !strings.HasSuffix(pr.Location, "/forms/uploads/report.txt") {
		t.Errorf("PostResponse = %+v, ETag header %q", pr, resp.Header.Get("ETag"))
	}

	obj, err := mc.GetObject(ctx, "forms", "uploads/report.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read object: %v", err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("stored %d bytes, want the %d posted", len(got), len(content))
	}
	st, _ := obj.Stat()
	if st.ContentType != "text/plain" || st.UserMetadata["Owner"] != "ann" {
		t.Errorf("stored Content-Type %q, metadata %v; want text/plain and owner=ann", st.ContentType, st.UserMetadata)
	}
}

func TestPostObjectFilenameAndRedirect(t *testing.T) {
	e := newEnv(t)
	e.bucket("forms")
	fields := e.presign("forms", "in/${filename}", map[string]string{
		"success_action_redirect": "https://app.example/done?x=1",
		"Content-Type":            "image/png",
	}, 0)
	body, ct := multipartForm(t, sortedFields(fields), "file", "cat.png", []byte("png!"))
	resp, respBody := e.postForm(e.srv.URL+"/forms", body, ct)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303; body:\n%s", resp.StatusCode, respBody)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("Location: %v", err)
	}
	q := loc.Query()
	if loc.Host != "app.example" || q.Get("x") != "1" || q.Get("bucket") != "forms" || q.Get("key") != "in/cat.png" || q.Get("etag") != resp.Header.Get("ETag") {
		t.Errorf("Location = %s, want https://app.example/done?x=1&bucket=forms&key=in/cat.png&etag=<etag>", loc)
	}
	info, err := e.store.StatObject(context.Background(), "forms", "in/cat.png")
	if err != nil {
		t.Fatalf("StatObject: %v", err)
	}
	if info.Size != 4 || info.Meta.ContentType != "image/png" {
		t.Errorf("stored size %d type %q, want 4 image/png", info.Size, info.Meta.ContentType)
	}
}

func TestPostObjectDefaultStatus(t *testing.T) {
	e := newEnv(t)
	e.bucket("forms")
	fields := e.presign("forms", "a.txt", nil, 0)
	body, ct := multipartForm(t, sortedFields(fields), "file", "a.txt", []byte("hello"))
	resp, respBody := e.postForm(e.srv.URL+"/forms", body, ct)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status = %d, want 204; body:\n%s", resp.StatusCode, respBody)
	}
	if got := resp.Header.Get("Location"); !strings.HasSuffix(got, "/forms/a.txt") {
		t.Errorf("Location = %q, want the object's URL", got)
	}
	// Virtual-host style: the same form posted to bucket.<domain>.
	fields = e.presign("forms", "b.txt", nil, 0)
	body, ct = multipartForm(t, sortedFields(fields), "file", "b.txt", []byte("vhost"))
	r, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", bytes.NewReader(body))
	r.Host = "forms.s3.strata.test"
	r.Header.Set("Content-Type", ct)
	resp, respBody = e.do(r)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("virtual-host POST: status = %d, want 204; body:\n%s", resp.StatusCode, respBody)
	}
	if _, err := e.store.StatObject(context.Background(), "forms", "b.txt"); err != nil {
		t.Errorf("virtual-host POST did not store b.txt: %v", err)
	}
}

// TestPostObjectFormErrors covers what a form author gets wrong, each
// with a message that names the field and the fix (case C26: the file
// sent as "files").
func TestPostObjectFormErrors_C26(t *testing.T) {
	e := newEnv(t)
	e.bucket("forms")
	big := bytes.Repeat([]byte("x"), 300<<10)
	tests := []struct {
		name      string
		key       string
		extra     map[string]string
		maxSize   int64
		change    func(map[string]string)
		fileField string
		filename  string
		content   []byte
		after     []formField
		status    int
		code      string
		msg       string
	}{
		{
			name: "file sent as files", fileField: "files", filename: "photo.png", content: big,
			status: 400, code: "InvalidArgument",
			msg: `unknown form field "files"; the file must be sent in the field "file", last in the form`,
		},
		{
			name: "file sent as files without a filename", fileField: "files", content: big,
			status: 400, code: "InvalidArgument",
			msg: `unknown form field "files"; the file must be sent in the field "file", last in the form`,
		},
		{
			name: "no file field", status: 400, code: "InvalidArgument",
			msg: `the form has no "file" field; the file must be sent in the field "file", last in the form`,
		},
		{
			name: "field after file", fileField: "file", filename: "a.txt", content: []byte("x"),
			after:  []formField{{"acl", "private"}},
			status: 400, code: "InvalidArgument",
			msg: `form field "acl" comes after "file"; the file must be sent in the field "file", last in the form`,
		},
		{
			name:   "oversized policy field",
			change: func(f map[string]string) { f["policy"] = strings.Repeat("A", 70000) },
			status: 400, code: "MaxPostPreDataLengthExceededError",
			msg: `form field "policy" is 70000 bytes, over the 20 KiB limit for a form field`,
		},
		{
			name: "key outside the policy's prefix",
			key:  "uploads/${filename}", filename: "x.txt",
			change: func(f map[string]string) { f["key"] = "x.txt" },
			status: 403, code: "AccessDenied",
			msg: `condition ["starts-with", "$key", "uploads/"] failed: key is "x.txt"`,
		},
		{
			name:   "extra field not in the policy",
			change: func(f map[string]string) { f["x-amz-meta-sneaky"] = "1" },
			status: 403, code: "AccessDenied",
			msg: `form field "x-amz-meta-sneaky" is not named by any policy condition`,
		},
		{
			name:    "file over content-length-range",
			maxSize: 100, content: payload(101),
			status: 400, code: "EntityTooLarge",
			msg: "the file is more than 100 bytes, outside the policy's content-length-range [0, 100]",
		},
		{
			name:   "tampered signature",
			change: func(f map[string]string) { f["x-amz-signature"] = strings.Repeat("0", 64) },
			status: 403, code: "SignatureDoesNotMatch",
		},
		{
			name: "unknown access key",
			change: func(f map[string]string) {
				f["x-amz-credential"] = strings.Replace(f["x-amz-credential"], testAccessKey, "NOSUCHKEY", 1)
			},
			status: 403, code: "InvalidAccessKeyId",
		},
		{
			name:   "no policy at all",
			change: func(f map[string]string) { delete(f, "policy"); delete(f, "x-amz-signature") },
			status: 403, code: "AccessDenied",
			msg: `the form has no "policy" field`,
		},
		{
			name: "wrong region",
			change: func(f map[string]string) {
				f["x-amz-credential"] = strings.Replace(f["x-amz-credential"], testRegion, "eu-west-9", 1)
			},
			status: 400, code: "InvalidArgument",
			msg: `x-amz-credential is scoped to region "eu-west-9", but this node serves region "us-east-1"`,
		},
		{
			name:   "bad redirect",
			extra:  map[string]string{"success_action_redirect": "/relative"},
			status: 400, code: "InvalidArgument",
			msg: `success_action_redirect "/relative" is not an absolute http or https URL`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key
			if key == "" {
				key = "f.txt"
			}
			fields := e.presign("forms", key, tt.extra, tt.maxSize)
			if tt.change != nil {
				tt.change(fields)
			}
			content := tt.content
			if content == nil {
				content = []byte("data")
			}
			fileField := tt.fileField
			if fileField == "" && tt.name != "no file field" {
				fileField = "file"
			}
			filename := tt.filename
			if filename == "" && fileField == "file" {
				filename = "f.txt"
			}
			body, ct := multipartForm(t, sortedFields(fields), fileField, filename, content, tt.after...)
			resp, respBody := e.postForm(e.srv.URL+"/forms", body, ct)
			d := wantError(t, resp, respBody, tt.status, tt.code)
			if !strings.Contains(d.Message, tt.msg) {
				t.Errorf("Message = %q\nwant it to contain %q", d.Message, tt.msg)
			}
		})
	}
	// Nothing of the failed uploads was stored.
	res, err := e.store.ListObjects(context.Background(), "forms", objstoreListAll())
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	for _, o := range res.Objects {
		t.Errorf("a failed form upload stored %s", o.Key)
	}
}

func TestPostObjectExpiredPolicy(t *testing.T) {
	e := newEnv(t)
	e.bucket("forms")
	now := time.Now()
	fields := postpolicy.Presign{
		Bucket: "forms", Key: "a.txt", Expires: time.Minute, Now: now,
		AccessKey: testAccessKey, Secret: testSecret, Region: testRegion,
	}.Form()
	e.h.Now = func() time.Time { return now.Add(2 * time.Minute) }
	body, ct := multipartForm(t, sortedFields(fields), "file", "a.txt", []byte("late"))
	resp, respBody := e.postForm(e.srv.URL+"/forms", body, ct)
	d := wantError(t, resp, respBody, 403, "AccessDenied")
	if !strings.Contains(d.Message, "the policy expired at ") || !strings.Contains(d.Message, "1m0s before this request") {
		t.Errorf("Message = %q, want it to say when the policy expired", d.Message)
	}
}

func TestPostObjectNotMultipart(t *testing.T) {
	e := newEnv(t)
	e.bucket("forms")
	resp, body := e.postForm(e.srv.URL+"/forms", []byte("key=a"), "application/x-www-form-urlencoded")
	d := wantError(t, resp, body, http.StatusPreconditionFailed, "PreconditionFailed")
	if !strings.Contains(d.Message, "multipart/form-data") {
		t.Errorf("Message = %q, want it to name multipart/form-data", d.Message)
	}
}

func TestPostObjectChecksum(t *testing.T) {
	e := newEnv(t)
	e.bucket("forms")
	data := []byte("checksummed")
	good := map[string]string{"x-amz-checksum-sha256": sha256Base64(data)}
	fields := e.presign("forms", "c.txt", good, 0)
	body, ct := multipartForm(t, sortedFields(fields), "file", "c.txt", data)
	resp, respBody := e.postForm(e.srv.URL+"/forms", body, ct)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("x-amz-checksum-sha256") != good["x-amz-checksum-sha256"] {
		t.Fatalf("status %d, x-amz-checksum-sha256 %q; want 204 and the echoed checksum\n%s", resp.StatusCode, resp.Header.Get("x-amz-checksum-sha256"), respBody)
	}
	fields = e.presign("forms", "d.txt", good, 0)
	body, ct = multipartForm(t, sortedFields(fields), "file", "d.txt", []byte("other data"))
	resp, respBody = e.postForm(e.srv.URL+"/forms", body, ct)
	wantError(t, resp, respBody, 400, "BadDigest")
	if _, err := e.store.StatObject(context.Background(), "forms", "d.txt"); err == nil {
		t.Errorf("an upload with a wrong checksum was stored")
	}
}
