package s3api

import (
	"context"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/browsertest"
)

// browserDir holds the Node project (playwright-core) that drives Chromium.
const browserDir = "testdata/browser"

var uploadPage = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Upload</title></head>
<body>
<form action="{{.Action}}" method="post" enctype="multipart/form-data">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<input type="file" name="file">
<button type="submit">Upload</button>
</form>
</body></html>`))

// TestPostObjectChromium_C26 posts a real HTML form from headless
// Chromium: the page (served by an app server) holds the presigned fields
// and a file input; the store stores the file and redirects the browser
// back to the app with bucket, key and ETag.
func TestPostObjectChromium_C26(t *testing.T) {
	node := browsertest.Need(t, browserDir, "playwright-core")
	e := newEnv(t)
	e.bucket("forms")

	var mu sync.Mutex // guards done
	var done url.Values
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/upload":
			fields := e.presign("forms", "browser/${filename}", map[string]string{
				"Content-Type":            "text/plain; charset=utf-8",
				"Cache-Control":           "max-age=60",
				"x-amz-meta-uploaded-by":  "chromium",
				"success_action_redirect": "http://" + r.Host + "/done",
			}, 1<<20)
			type field struct{ Name, Value string }
			var fs []field
			for k, v := range fields {
				fs = append(fs, field{k, v})
			}
			sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			uploadPage.Execute(w, map[string]any{"Action": e.srv.URL + "/forms", "Fields": fs})
		case "/done":
			mu.Lock()
			done = r.URL.Query()
			mu.Unlock()
			io.WriteString(w, "upload done")
		default:
			http.NotFound(w, r)
		}
	}))
	defer app.Close()

	content := []byte("hello from a real browser form\n")
	file := filepath.Join(t.TempDir(), "hello-chromium.txt")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "post_form.mjs", app.URL+"/upload", file, app.URL+"/done")
	cmd.Dir = browserDir
	cmd.Env = append(os.Environ(), "CHROMIUM="+browsertest.Chromium)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node post_form.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	var res struct{ URL, Body string }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("post_form.mjs output %q: %v", out, err)
	}
	if strings.TrimSpace(res.Body) != "upload done" {
		t.Errorf("browser ended on %s with %q, want the app's /done page", res.URL, res.Body)
	}

	mu.Lock()
	q := done
	mu.Unlock()
	if q == nil {
		t.Fatalf("the browser never followed success_action_redirect to /done (final URL %s)", res.URL)
	}
	info, err := e.store.StatObject(context.Background(), "forms", "browser/hello-chromium.txt")
	if err != nil {
		t.Fatalf("object not stored: %v", err)
	}
	if q.Get("bucket") != "forms" || q.Get("key") != "browser/hello-chromium.txt" || q.Get("etag") != quoteETag(info.ETag) {
		t.Errorf("redirect query = %v, want bucket=forms key=browser/hello-chromium.txt etag=%s", q, quoteETag(info.ETag))
	}
	obj, err := e.store.OpenObject(context.Background(), "forms", "browser/hello-chromium.txt")
	if err != nil {
		t.Fatalf("OpenObject: %v", err)
	}
	defer obj.Close()
	got, _ := io.ReadAll(obj.NewReader(0, obj.Size()))
	if string(got) != string(content) {
		t.Errorf("stored %q, want %q", got, content)
	}
	m := info.Meta
	if m.ContentType != "text/plain; charset=utf-8" || m.CacheControl != "max-age=60" || m.User["uploaded-by"] != "chromium" {
		t.Errorf("stored metadata %+v, want the form's Content-Type, Cache-Control and x-amz-meta-uploaded-by", m)
	}
}
