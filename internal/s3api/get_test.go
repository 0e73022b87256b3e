package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/checksum"
	"github.com/strata-cdn/strata/internal/objstore"
)

var requestIDRe = regexp.MustCompile(`^[0-9A-F]{16}$`)

// Every response says which node answered and carries a request id, so a
// client can tell which hop refused (case C25).
func TestResponseIdentity_C25(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	seen := map[string]bool{}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		sign   bool
		status int
	}{
		{"list buckets", "GET", "/", true, 200},
		{"missing key", "GET", "/bkt/nope", true, 404},
		{"missing key HEAD", "HEAD", "/bkt/nope", true, 404},
		{"anonymous", "GET", "/bkt", false, 403},
		{"bad method", "POST", "/bkt/k", true, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.request(tc.method, tc.path, nil)
			if tc.sign {
				e.sign(r, nil)
			}
			resp, body := e.do(r)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("Server"); got != "Strata/"+testNode {
				t.Errorf("Server = %q, want Strata/%s", got, testNode)
			}
			id := resp.Header.Get("x-amz-request-id")
			if !requestIDRe.MatchString(id) || seen[id] {
				t.Errorf("x-amz-request-id = %q: want 16 upper-case hex digits, unique", id)
			}
			seen[id] = true
			if resp.Header.Get("x-amz-id-2") == "" {
				t.Errorf("no x-amz-id-2")
			}
			if tc.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD error has a body: %q", body)
			}
			if tc.status >= 400 && tc.method != "HEAD" {
				d := parseError(t, body)
				if d.HostID != testNode || d.RequestID != id || d.Message == "" {
					t.Errorf("error body = %+v; want HostId %s, RequestId %s and a message", d, testNode, id)
				}
			}
		})
	}
}

// A full response carries the whole-object integrity headers; a 206 never
// does (cases C07, C21), and ETags are always quoted (A1).
func TestIntegrityHeaders_C07_C21_A1(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	data := payload(10000)
	e.put("bkt", "single", data, objstore.Meta{})
	sum := md5.Sum(data)
	nvme := crc64.Checksum(data, checksum.NVME)
	ecma := crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))
	wantFull := map[string]string{
		"Etag":                     `"` + hex.EncodeToString(sum[:]) + `"`,
		"Content-Md5":              base64.StdEncoding.EncodeToString(sum[:]),
		"X-Amz-Checksum-Crc64nvme": checksum.NVMEBase64(nvme),
		"X-Amz-Checksum-Type":      "FULL_OBJECT",
		"X-Oss-Hash-Crc64ecma":     strconv.FormatUint(ecma, 10),
		"Accept-Ranges":            "bytes",
		"Content-Length":           "10000",
		"Content-Type":             "binary/octet-stream",
	}
	wantPartial := map[string]string{
		"Etag":           wantFull["Etag"],
		"Accept-Ranges":  "bytes",
		"Content-Length": "10",
		"Content-Range":  "bytes 0-9/10000",
		"Content-Type":   "binary/octet-stream",
	}
	keys := []string{"Etag", "Content-Md5", "X-Amz-Checksum-Crc64nvme", "X-Amz-Checksum-Type", "X-Oss-Hash-Crc64ecma",
		"Accept-Ranges", "Content-Length", "Content-Range", "Content-Type"}
	pick := func(h http.Header) map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			if v := h.Get(k); v != "" {
				m[k] = v
			}
		}
		return m
	}
	for _, tc := range []struct {
		method, rng string
		status      int
		want        map[string]string
	}{
		{"GET", "", 200, wantFull},
		{"HEAD", "", 200, wantFull},
		{"GET", "bytes=0-9", 206, wantPartial},
		{"HEAD", "bytes=0-9", 206, wantPartial},
	} {
		t.Run(tc.method+tc.rng, func(t *testing.T) {
			var hdr http.Header
			if tc.rng != "" {
				hdr = http.Header{"Range": {tc.rng}}
			}
			resp, body := e.signedDo(tc.method, "/bkt/single", nil, hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if diff := cmp.Diff(tc.want, pick(resp.Header)); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if tc.method == "GET" && tc.status == 200 && !bytes.Equal(body, data) {
				t.Errorf("body differs")
			}
		})
	}
}

func TestRanges(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	data := payload(1000)
	e.put("bkt", "obj", data, objstore.Meta{ContentType: "text/plain"})

	t.Run("unsatisfiable", func(t *testing.T) {
		resp, body := e.signedDo("GET", "/bkt/obj", nil, http.Header{"Range": {"bytes=5000-"}})
		wantError(t, resp, body, 416, "InvalidRange")
		if got := resp.Header.Get("Content-Range"); got != "bytes */1000" {
			t.Errorf("Content-Range = %q, want bytes */1000", got)
		}
	})
	t.Run("invalid syntax is ignored", func(t *testing.T) {
		resp, body := e.signedDo("GET", "/bkt/obj", nil, http.Header{"Range": {"bytes=abc"}})
		if resp.StatusCode != 200 || !bytes.Equal(body, data) {
			t.Errorf("status %d, %d bytes; want 200 with the whole object", resp.StatusCode, len(body))
		}
	})
	t.Run("suffix", func(t *testing.T) {
		resp, body := e.signedDo("GET", "/bkt/obj", nil, http.Header{"Range": {"bytes=-100"}})
		if resp.StatusCode != 206 || !bytes.Equal(body, data[900:]) || resp.Header.Get("Content-Range") != "bytes 900-999/1000" {
			t.Errorf("status %d, Content-Range %q, body ok %v", resp.StatusCode, resp.Header.Get("Content-Range"), bytes.Equal(body, data[900:]))
		}
	})
	t.Run("multiple", func(t *testing.T) {
		resp, body := e.signedDo("GET", "/bkt/obj", nil, http.Header{"Range": {"bytes=0-9,500-509,990-"}})
		if resp.StatusCode != 206 {
			t.Fatalf("status %d, want 206", resp.StatusCode)
		}
		if resp.Header.Get("Content-Md5") != "" || resp.Header.Get("x-amz-checksum-crc64nvme") != "" {
			t.Errorf("multipart 206 carries whole-object checksums (C07)")
		}
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/byteranges" {
			t.Fatalf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
		}
		if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl != len(body) {
			t.Errorf("Content-Length %d, body %d bytes", cl, len(body))
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		type part struct{ CR, CT, Body string }
		var got []part
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("NextPart: %v", err)
			}
			b, _ := io.ReadAll(p)
			got = append(got, part{p.Header.Get("Content-Range"), p.Header.Get("Content-Type"), string(b)})
		}
		want := []part{
			{"bytes 0-9/1000", "text/plain", string(data[0:10])},
			{"bytes 500-509/1000", "text/plain", string(data[500:510])},
			{"bytes 990-999/1000", "text/plain", string(data[990:])},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("parts (-want +got):\n%s", diff)
		}
	})
	t.Run("partNumber=1", func(t *testing.T) {
		resp, body := e.signedDo("GET", "/bkt/obj?partNumber=1", nil, nil)
		if resp.StatusCode != 206 || !bytes.Equal(body, data) {
			t.Errorf("status %d; want 206 with the whole single-part object", resp.StatusCode)
		}
	})
}

// Conditional GET/HEAD in the order of RFC 9110 §13.2.2, and If-Range.
func TestConditionals_A1(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	data := payload(100)
	info := e.put("bkt", "obj", data, objstore.Meta{CacheControl: "max-age=5", Expires: "Thu, 01 Jan 2037 00:00:00 GMT"})
	etag := `"` + info.ETag + `"`
	lm := info.ModTime.UTC().Truncate(time.Second)
	before := lm.Add(-time.Hour).Format(http.TimeFormat)
	after := lm.Add(time.Hour).Format(http.TimeFormat)
	at := lm.Format(http.TimeFormat)

	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"if-match hit", map[string]string{"If-Match": etag}, 200},
		{"if-match star", map[string]string{"If-Match": "*"}, 200},
		{"if-match miss", map[string]string{"If-Match": `"nope"`}, 412},
		{"if-unmodified-since past", map[string]string{"If-Unmodified-Since": before}, 412},
		{"if-unmodified-since future", map[string]string{"If-Unmodified-Since": after}, 200},
		{"if-match wins over if-unmodified-since", map[string]string{"If-Match": etag, "If-Unmodified-Since": before}, 200},
		{"if-none-match hit", map[string]string{"If-None-Match": etag}, 304},
		{"if-none-match weak hit", map[string]string{"If-None-Match": "W/" + etag}, 304},
		{"if-none-match miss", map[string]string{"If-None-Match": `"other"`}, 200},
		{"if-modified-since at", map[string]string{"If-Modified-Since": at}, 304},
		{"if-modified-since before", map[string]string{"If-Modified-Since": before}, 200},
		{"if-none-match miss wins over if-modified-since", map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": at}, 200},
		{"if-match miss before if-none-match", map[string]string{"If-Match": `"x"`, "If-None-Match": etag}, 412},
		{"if-range etag match", map[string]string{"Range": "bytes=0-9", "If-Range": etag}, 206},
		{"if-range etag mismatch", map[string]string{"Range": "bytes=0-9", "If-Range": `"old"`}, 200},
		{"if-range date match", map[string]string{"Range": "bytes=0-9", "If-Range": at}, 206},
		{"if-range date mismatch", map[string]string{"Range": "bytes=0-9", "If-Range": before}, 200},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			t.Run(method+" "+tc.name, func(t *testing.T) {
				hdr := http.Header{}
				for k, v := range tc.hdr {
					hdr.Set(k, v)
				}
				resp, body := e.signedDo(method, "/bkt/obj", nil, hdr)
				if resp.StatusCode != tc.status {
					t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tc.status, body)
				}
				switch tc.status {
				case 304:
					if len(body) != 0 {
						t.Errorf("304 has a body")
					}
					got := fmt.Sprint(resp.Header.Get("ETag"), "|", resp.Header.Get("Last-Modified"), "|",
						resp.Header.Get("Cache-Control"), "|", resp.Header.Get("Expires"))
					want := fmt.Sprint(etag, "|", at, "|max-age=5|Thu, 01 Jan 2037 00:00:00 GMT")
					if got != want {
						t.Errorf("304 headers = %s, want %s", got, want)
					}
				case 412:
					if method == "GET" {
						wantError(t, resp, body, 412, "PreconditionFailed")
					}
				case 200:
					if method == "GET" && !bytes.Equal(body, data) {
						t.Errorf("200 body differs")
					}
				}
			})
		}
	}
}

func TestResponseOverrides(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	e.put("bkt", "obj", []byte("x"), objstore.Meta{ContentType: "text/plain"})
	resp, _ := e.signedDo("GET", "/bkt/obj?response-content-type=image%2Fpng&response-content-disposition=inline&response-cache-control=no-cache", nil, nil)
	got := []string{resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), resp.Header.Get("Cache-Control")}
	if diff := cmp.Diff([]string{"image/png", "inline", "no-cache"}, got); diff != "" {
		t.Errorf("overridden headers (-want +got):\n%s", diff)
	}
}
