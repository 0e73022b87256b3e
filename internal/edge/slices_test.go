package edge

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const testSlice = 64 << 10

func slicedDomain(mode RangeMode) edgeOption {
	return withDomain(func(d *Domain) {
		d.Range = mode
		d.SliceSize = testSlice
	})
}

// storeLikeOrigin serves body as the object store does: Content-MD5 and a
// CRC64 header on 200 and HEAD, none on 206.
func storeLikeOrigin(t *testing.T, body []byte) *origin {
	sum := md5.Sum(body)
	md5b64 := base64.StdEncoding.EncodeToString(sum[:])
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == "" {
			w.Header().Set("Content-Md5", md5b64)
			w.Header().Set("X-Amz-Checksum-Crc64nvme", "AAAAAAAAAAA=")
		}
		serveObject(w, r, body, `"obj-v1"`, "max-age=600")
	})
}

// TestSlicedFullResponseKeepsChecksums_C07: a cache filled with range
// requests still gives a full response the object's Content-MD5 and CRC64
// headers, and never puts them on a 206.
func TestSlicedFullResponseKeepsChecksums_C07(t *testing.T) {
	body := randomBytes(3*testSlice+17, 7)
	sum := md5.Sum(body)
	wantMD5 := base64.StdEncoding.EncodeToString(sum[:])
	o := storeLikeOrigin(t, body)
	e := newEdge(t, o.URL, slicedDomain(RangeForce))

	resp, got := e.get("/o.bin")
	checkEdgeHeaders(t, resp)
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("full: status %d, %d bytes (equal %v); want 200 and the object", resp.StatusCode, len(got), bytes.Equal(got, body))
	}
	if resp.Header.Get("Content-Md5") != wantMD5 || resp.Header.Get("X-Amz-Checksum-Crc64nvme") == "" {
		t.Errorf("full from slices: Content-MD5 %q, CRC64 %q; want %q and the CRC64 header", resp.Header.Get("Content-Md5"), resp.Header.Get("X-Amz-Checksum-Crc64nvme"), wantMD5)
	}
	if resp.Header.Get("Etag") != `"obj-v1"` {
		t.Errorf("ETag = %q", resp.Header.Get("Etag"))
	}
	for _, r := range o.requests() {
		if r.Method == http.MethodGet && r.Header.Get("Range") == "" {
			t.Errorf("force mode sent a GET without Range")
		}
	}
	if h, g := o.heads.Load(), o.gets.Load(); h != 1 || g != 4 {
		t.Errorf("origin HEADs %d GETs %d, want 1 and 4 (one per slice)", h, g)
	}

	resp, got = e.get("/o.bin", "Range", "bytes=70000-140000")
	if resp.StatusCode != 206 || !bytes.Equal(got, body[70000:140001]) {
		t.Fatalf("range: status %d, equal %v", resp.StatusCode, bytes.Equal(got, body[70000:140001]))
	}
	for _, f := range []string{"Content-Md5", "X-Amz-Checksum-Crc64nvme"} {
		if v := resp.Header.Get(f); v != "" {
			t.Errorf("206 carries %s: %q (C07)", f, v)
		}
	}
	if xcache(resp) != "HIT" {
		t.Errorf("range over stored slices: X-Cache %q, want HIT", xcache(resp))
	}
	resp, _ = e.get("/o.bin", "Range", "bytes=0-0,200000-200005")
	if resp.StatusCode != 206 || resp.Header.Get("Content-Md5") != "" {
		t.Errorf("multipart: status %d Content-MD5 %q", resp.StatusCode, resp.Header.Get("Content-Md5"))
	}
	if g := o.gets.Load(); g != 4 {
		t.Errorf("origin GETs = %d after cached ranges, want still 4", g)
	}
}

// TestRangeOnFullRequestFetchedWhole: in range "on", a full request is
// fetched whole and a range request in slices.
func TestRangeOnFullRequestFetchedWhole(t *testing.T) {
	body := randomBytes(2*testSlice, 8)
	o := storeLikeOrigin(t, body)
	e := newEdge(t, o.URL, slicedDomain(RangeOn))
	resp, got := e.get("/p", "Range", "bytes=10-20")
	if resp.StatusCode != 206 || !bytes.Equal(got, body[10:21]) {
		t.Fatalf("range: status %d equal %v", resp.StatusCode, bytes.Equal(got, body[10:21]))
	}
	if r := o.requests(); len(r) != 2 || r[1].Header.Get("Range") != fmt.Sprintf("bytes=0-%d", testSlice-1) {
		t.Errorf("origin requests %d, want HEAD + slice 0", len(r))
	}
	resp, got = e.get("/p")
	if resp.StatusCode != 200 || !bytes.Equal(got, body) || resp.Header.Get("Content-Md5") == "" {
		t.Fatalf("full: status %d equal %v MD5 %q", resp.StatusCode, bytes.Equal(got, body), resp.Header.Get("Content-Md5"))
	}
	e.waitFill()
	if r := o.requests(); r[len(r)-1].Header.Get("Range") != "" {
		t.Errorf("full request was fetched with Range %q", r[len(r)-1].Header.Get("Range"))
	}
}

// TestOriginIgnoringRange_C08: an origin that answers 200 to a slice
// request: its body is used, the client gets its range without stall or
// truncation, the slices are filled from it, and the origin is remembered.
func TestOriginIgnoringRange_C08(t *testing.T) {
	body := randomBytes(5*testSlice, 10)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Range")
		serveObject(w, r, body, `"c08"`, "max-age=600")
	})
	e := newEdge(t, o.URL, slicedDomain(RangeOn))
	resp, got := e.get("/huge", "Range", "bytes=200000-250000")
	if resp.StatusCode != 206 || !bytes.Equal(got, body[200000:250001]) {
		t.Fatalf("status %d, %d bytes, equal %v; want 206 and the range", resp.StatusCode, len(got), bytes.Equal(got, body[200000:250001]))
	}
	if g := o.gets.Load(); g != 1 {
		t.Errorf("origin GETs = %d, want 1", g)
	}
	for _, rng := range []string{"bytes=200000-250000", "bytes=0-10", "bytes=-100"} {
		resp, got = e.get("/huge", "Range", rng)
		if resp.StatusCode != 206 || xcache(resp) != "HIT" {
			t.Errorf("%s after the 200 was carved: status %d X-Cache %q; want 206 HIT", rng, resp.StatusCode, xcache(resp))
		}
	}
	if g := o.gets.Load(); g != 1 {
		t.Errorf("origin GETs = %d after cached ranges, want 1", g)
	}
	// The origin is remembered: the next object is fetched whole.
	resp, got = e.get("/other", "Range", "bytes=5-9")
	if resp.StatusCode != 206 || !bytes.Equal(got, body[5:10]) {
		t.Fatalf("other: status %d body equal %v", resp.StatusCode, bytes.Equal(got, body[5:10]))
	}
	reqs := o.requests()
	if last := reqs[len(reqs)-1]; last.Method != http.MethodGet || last.Header.Get("Range") != "" {
		t.Errorf("after a 200 to a slice, next fetch was %s with Range %q; want a whole GET", last.Method, last.Header.Get("Range"))
	}
}

// versionedOrigin serves v1 of an object until switchAfter slice requests
// have been answered, then v2: same size, another ETag.
type versionedOrigin struct {
	*origin
	slices atomic.Int64
}

func newVersionedOrigin(t *testing.T, v1, v2 []byte, switchAfter int64) *versionedOrigin {
	vo := &versionedOrigin{}
	vo.origin = newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		body, etag := v1, `"v1"`
		n := vo.slices.Load()
		if r.Header.Get("Range") != "" {
			n = vo.slices.Add(1) - 1
		}
		if n >= switchAfter {
			body, etag = v2, `"v2"`
		}
		serveObject(w, r, body, etag, "max-age=600")
	})
	return vo
}

// TestObjectChangedBetweenSlices_A1: the object changes at the origin
// while it is fetched in slices. The client gets a consistent body or an
// error, never a mix, and the next request gets the new version whole.
func TestObjectChangedBetweenSlices_A1(t *testing.T) {
	v1 := bytes.Repeat([]byte("1"), 4*testSlice)
	v2 := bytes.Repeat([]byte("2"), 4*testSlice)
	for _, tc := range []struct {
		name        string
		switchAfter int64 // slice requests answered with v1
		wantErr     bool  // the change is seen after the header was sent
	}{
		{"changes mid-body", 2, true},
		{"changes before the first slice", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newVersionedOrigin(t, v1, v2, tc.switchAfter)
			e := newEdge(t, o.URL, slicedDomain(RangeForce))
			resp, err := e.srv.Client().Get(e.srv.URL + "/f")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.wantErr {
				if err == nil {
					t.Fatalf("body of %d bytes completed; want the connection cut", len(got))
				}
				if bytes.ContainsRune(got, '2') {
					t.Fatalf("truncated body holds bytes of v2 after v1 (A1)")
				}
			} else if err != nil || !bytes.Equal(got, v2) || resp.Header.Get("Etag") != `"v2"` {
				t.Fatalf("err %v, ETag %q, body is v2: %v; want the new version whole", err, resp.Header.Get("Etag"), bytes.Equal(got, v2))
			}
			resp2, got2 := e.get("/f")
			if resp2.StatusCode != 200 || !bytes.Equal(got2, v2) || resp2.Header.Get("Etag") != `"v2"` {
				t.Errorf("after the change: status %d ETag %q, body is v2: %v", resp2.StatusCode, resp2.Header.Get("Etag"), bytes.Equal(got2, v2))
			}
			resp3, got3 := e.get("/f", "Range", "bytes=0-99")
			if !bytes.Equal(got3, v2[:100]) || resp3.Header.Get("Etag") != `"v2"` {
				t.Errorf("range after the change is not v2")
			}
		})
	}
}

// TestUnquotedETagSlices_A1: an origin with bare ETags: slices validate
// (compared leniently), the edge sends the tag quoted, and If-Range with
// the bare or quoted tag is honoured.
func TestUnquotedETagSlices_A1(t *testing.T) {
	body := randomBytes(3*testSlice, 11)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("If-Range")
		w.Header().Set("Etag", "5a62e1f0")
		w.Header().Set("Cache-Control", "max-age=600")
		http.ServeContent(w, r, "", time0, bytes.NewReader(body))
	})
	e := newEdge(t, o.URL, slicedDomain(RangeForce))
	resp, got := e.get("/u")
	if resp.StatusCode != 200 || !bytes.Equal(got, body) || resp.Header.Get("Etag") != `"5a62e1f0"` {
		t.Fatalf("status %d ETag %q equal %v; want 200, \"5a62e1f0\"", resp.StatusCode, resp.Header.Get("Etag"), bytes.Equal(got, body))
	}
	for _, ir := range []string{`5a62e1f0`, `"5a62e1f0"`} {
		resp, got = e.get("/u", "Range", "bytes=100000-100009", "If-Range", ir)
		if resp.StatusCode != 206 || !bytes.Equal(got, body[100000:100010]) {
			t.Errorf("If-Range %s: status %d, want 206 with the range", ir, resp.StatusCode)
		}
	}
	resp, _ = e.get("/u", "Range", "bytes=0-9", "If-Range", `"other"`)
	if resp.StatusCode != 200 {
		t.Errorf("If-Range mismatch: status %d, want 200", resp.StatusCode)
	}
	if g := o.gets.Load(); g != 3 {
		t.Errorf("origin GETs = %d, want 3 slices", g)
	}
}

// TestShortSliceNeverStored_A1: a slice answered with a short or empty
// body (Content-Length: 0) is rejected, never stored, and fetched again.
func TestShortSliceNeverStored_A1(t *testing.T) {
	body := randomBytes(3*testSlice, 12)
	var broken atomic.Bool
	broken.Store(true)
	var mu sync.Mutex
	var ranges []string
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		if broken.Load() && strings.HasPrefix(r.Header.Get("Range"), fmt.Sprintf("bytes=%d-", testSlice)) {
			w.Header().Set("Etag", `"s1"`)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", testSlice, 2*testSlice-1, len(body)))
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusPartialContent)
			return
		}
		serveObject(w, r, body, `"s1"`, "max-age=600")
	})
	e := newEdge(t, o.URL, slicedDomain(RangeForce))
	resp, err := e.srv.Client().Get(e.srv.URL + "/s")
	if err == nil {
		got, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil {
			t.Fatalf("a response built over an empty slice completed (%d bytes); want the connection cut", len(got))
		}
	}
	resp, _ = e.get("/s", "Range", fmt.Sprintf("bytes=%d-%d", testSlice, testSlice+9))
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("range over the bad slice: status %d, want 502", resp.StatusCode)
	}
	broken.Store(false)
	resp, got := e.get("/s")
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("after the origin is fixed: status %d equal %v", resp.StatusCode, bytes.Equal(got, body))
	}
}
