package objstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func uploadPart(t *testing.T, s *Store, key, id string, n int, data []byte) PartInfo {
	t.Helper()
	p, err := s.UploadPart(context.Background(), "bkt1", key, id, n, bytes.NewReader(data), PutOptions{Size: int64(len(data))})
	if err != nil {
		t.Fatalf("UploadPart(%d): %v", n, err)
	}
	return p
}

func TestMultipartComplete(t *testing.T) {
	// Data files, which the test counts: inline objects have none.
	s, dir := newTestStore(t, Options{MinPartSize: 1000, InlineMax: -1})
	mustBucket(t, s, "bkt1")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	meta := Meta{ContentType: "video/mp4", User: map[string]string{"origin": "test"}}
	id, err := s.CreateMultipartUpload(ctx, "bkt1", "big", meta)
	if err != nil {
		t.Fatal(err)
	}
	p1 := randBytes(rng, 1500)
	p2 := randBytes(rng, 1000)
	p3 := randBytes(rng, 10)
	uploadPart(t, s, "big", id, 1, randBytes(rng, 1200)) // replaced below
	e1 := uploadPart(t, s, "big", id, 1, p1)
	e2 := uploadPart(t, s, "big", id, 2, p2)
	uploadPart(t, s, "big", id, 3, randBytes(rng, 2000)) // not listed: deleted at completion
	e4 := uploadPart(t, s, "big", id, 4, p3)

	lp, err := s.ListParts(ctx, "bkt1", "big", id, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Parts) != 2 || !lp.IsTruncated || lp.NextPartNumberMarker != 2 || lp.Parts[0].ETag != e1.ETag {
		t.Errorf("ListParts(max 2) = %+v; want parts 1, 2 truncated at marker 2", lp)
	}
	lp, err = s.ListParts(ctx, "bkt1", "big", id, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Parts) != 2 || lp.IsTruncated || lp.Parts[0].PartNumber != 3 || lp.Parts[1].PartNumber != 4 {
		t.Errorf("ListParts(after 2) = %+v; want parts 3, 4", lp)
	}

	info, err := s.CompleteMultipartUpload(ctx, "bkt1", "big", id, []CompletePart{
		{1, `"` + e1.ETag + `"`}, {2, e2.ETag}, {4, e4.ETag},
	})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	// The ETag by hand: MD5 of the concatenated binary part MD5s, "-3".
	var cat []byte
	for _, p := range [][]byte{p1, p2, p3} {
		cat = append(cat, md5sum(p)...)
	}
	sum := md5.Sum(cat)
	whole := bytes.Join([][]byte{p1, p2, p3}, nil)
	nvme, ecma := crcs(whole)
	want := ObjectInfo{
		Bucket: "bkt1", Key: "big", Size: int64(len(whole)), ModTime: info.ModTime,
		ETag: hex.EncodeToString(sum[:]) + "-3", CRC64NVME: nvme, CRC64ECMA: ecma, PartsCount: 3, Meta: meta,
	}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("completed object (-want +got):\n%s", diff)
	}
	got, st := readAll(t, s, "bkt1", "big")
	if !bytes.Equal(got, whole) {
		t.Errorf("completed object reads %d bytes differing from the %d uploaded", len(got), len(whole))
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("opened object info (-want +got):\n%s", diff)
	}
	// Reads that straddle part boundaries.
	o, err := s.OpenObject(ctx, "bkt1", "big")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int{{1490, 20}, {1500, 1000}, {2499, 2}, {0, 2510}, {2505, 10}} {
		p := make([]byte, r[1])
		n, err := o.ReadAt(p, int64(r[0]))
		end := min(r[0]+r[1], len(whole))
		wantEOF := r[0]+r[1] > len(whole)
		if !bytes.Equal(p[:n], whole[r[0]:end]) || (err == io.EOF) != wantEOF || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt(%d bytes at %d) = %d, %v; want %d bytes, EOF %v", r[1], r[0], n, err, end-r[0], wantEOF)
		}
	}
	o.Close()

	if _, err := s.ListParts(ctx, "bkt1", "big", id, 0, 0); !errors.Is(err, ErrNoSuchUpload) {
		t.Errorf("ListParts after completion: %v, want ErrNoSuchUpload", err)
	}
	// Three part files remain as the object's segments; the replaced part
	// 1 and the unlisted part 3 are gone.
	if data, tmp := dataFiles(t, dir); len(data) != 3 || len(tmp) != 0 {
		t.Errorf("data files after completion: %d (%v), tmp %v; want 3", len(data), data, tmp)
	}
	// Overwriting the multipart object removes its segments.
	put(t, s, "bkt1", "big", []byte("small"))
	if data, _ := dataFiles(t, dir); len(data) != 1 {
		t.Errorf("data files after overwrite: %v, want 1", data)
	}
}

func TestMultipartErrors(t *testing.T) {
	s, _ := newTestStore(t, Options{MinPartSize: 100, MaxPartSize: 1000, MaxObjectSize: 1500})
	mustBucket(t, s, "bkt1")
	ctx := context.Background()
	id, err := s.CreateMultipartUpload(ctx, "bkt1", "k", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	small := uploadPart(t, s, "k", id, 1, bytes.Repeat([]byte("s"), 50))
	big := uploadPart(t, s, "k", id, 2, bytes.Repeat([]byte("b"), 900))
	big3 := uploadPart(t, s, "k", id, 3, bytes.Repeat([]byte("c"), 900))

	tests := []struct {
		name  string
		parts []CompletePart
		want  error
	}{
		{"empty list", nil, ErrInvalidPart},
		{"descending", []CompletePart{{2, big.ETag}, {1, small.ETag}}, ErrInvalidPartOrder},
		{"duplicate", []CompletePart{{2, big.ETag}, {2, big.ETag}}, ErrInvalidPartOrder},
		{"missing part", []CompletePart{{2, big.ETag}, {5, big.ETag}}, ErrInvalidPart},
		{"wrong etag", []CompletePart{{2, small.ETag}}, ErrInvalidPart},
		{"small non-last part", []CompletePart{{1, small.ETag}, {2, big.ETag}}, ErrEntityTooSmall},
		{"object too large", []CompletePart{{2, big.ETag}, {3, big3.ETag}}, ErrEntityTooLarge},
	}
	for _, tt := range tests {
		if _, err := s.CompleteMultipartUpload(ctx, "bkt1", "k", id, tt.parts); !errors.Is(err, tt.want) {
			t.Errorf("%s: CompleteMultipartUpload = %v, want %v", tt.name, err, tt.want)
		}
	}
	// A small last part is fine; failed attempts left the upload intact.
	if _, err := s.CompleteMultipartUpload(ctx, "bkt1", "k", id, []CompletePart{{2, big.ETag}, {1 + 0, small.ETag}}); !errors.Is(err, ErrInvalidPartOrder) {
		t.Errorf("order check: %v", err)
	}
	if _, err := s.CompleteMultipartUpload(ctx, "bkt1", "k", id, []CompletePart{{1, small.ETag}}); err != nil {
		t.Errorf("completing with a single small part: %v", err)
	}
	if _, err := s.CompleteMultipartUpload(ctx, "bkt1", "k", id, []CompletePart{{1, small.ETag}}); !errors.Is(err, ErrNoSuchUpload) {
		t.Errorf("completing twice: %v, want ErrNoSuchUpload", err)
	}

	id2, _ := s.CreateMultipartUpload(ctx, "bkt1", "k", Meta{})
	var tl *TooLargeError
	if _, err := s.UploadPart(ctx, "bkt1", "k", id2, 1, bytes.NewReader(make([]byte, 1001)), PutOptions{Size: -1}); !errors.As(err, &tl) || tl.What != "part" {
		t.Errorf("oversized part: %v, want *TooLargeError for a part", err)
	}
	for _, n := range []int{0, 10001} {
		if _, err := s.UploadPart(ctx, "bkt1", "k", id2, n, bytes.NewReader(nil), PutOptions{Size: 0}); !errors.Is(err, ErrInvalidPartNumber) {
			t.Errorf("part number %d: %v, want ErrInvalidPartNumber", n, err)
		}
	}
	if _, err := s.UploadPart(ctx, "bkt1", "other", id2, 1, bytes.NewReader(nil), PutOptions{Size: 0}); !errors.Is(err, ErrNoSuchUpload) {
		t.Errorf("part for another key's upload: %v, want ErrNoSuchUpload", err)
	}
	if _, err := s.UploadPart(ctx, "bkt1", "k", "nonexistent", 1, bytes.NewReader(nil), PutOptions{Size: 0}); !errors.Is(err, ErrNoSuchUpload) {
		t.Errorf("part for a made-up upload: %v, want ErrNoSuchUpload", err)
	}
	if _, err := s.UploadPart(ctx, "nope", "k", id2, 1, bytes.NewReader(nil), PutOptions{Size: 0}); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("part in a missing bucket: %v, want ErrNoSuchBucket", err)
	}
}

func TestMultipartAbort(t *testing.T) {
	s, dir := newTestStore(t, Options{})
	mustBucket(t, s, "bkt1")
	ctx := context.Background()
	id, _ := s.CreateMultipartUpload(ctx, "bkt1", "k", Meta{})
	uploadPart(t, s, "k", id, 1, []byte("one"))
	uploadPart(t, s, "k", id, 2, []byte("two"))
	if err := s.DeleteBucket(ctx, "bkt1"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Errorf("DeleteBucket with an upload in progress: %v, want ErrBucketNotEmpty", err)
	}
	if err := s.AbortMultipartUpload(ctx, "bkt1", "k", id); err != nil {
		t.Fatal(err)
	}
	if err := s.AbortMultipartUpload(ctx, "bkt1", "k", id); !errors.Is(err, ErrNoSuchUpload) {
		t.Errorf("second abort: %v, want ErrNoSuchUpload", err)
	}
	if data, tmp := dataFiles(t, dir); len(data)+len(tmp) != 0 {
		t.Errorf("files after abort: %v %v", data, tmp)
	}
	if err := s.DeleteBucket(ctx, "bkt1"); err != nil {
		t.Errorf("DeleteBucket after abort: %v", err)
	}
}

func TestListMultipartUploads(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustBucket(t, s, "bkt1")
	ctx := context.Background()
	type up struct{ key, id string }
	var ups []up
	for _, k := range []string{"b", "a/1", "a/2", "b", "c", "b"} {
		id, err := s.CreateMultipartUpload(ctx, "bkt1", k, Meta{})
		if err != nil {
			t.Fatal(err)
		}
		ups = append(ups, up{k, id})
	}
	b1, b2, b3 := ups[0].id, ups[3].id, ups[5].id
	str := func(r ListUploadsResult) []string {
		var out []string
		for _, u := range r.Uploads {
			out = append(out, u.Key+" "+u.UploadID)
		}
		for _, p := range r.CommonPrefixes {
			out = append(out, "prefix "+p)
		}
		return out
	}
	tests := []struct {
		name      string
		opts      ListUploadsOptions
		want      []string
		truncated bool
		nextKey   string
		nextID    string
	}{
		{"all, by key then initiation", ListUploadsOptions{}, []string{
			"a/1 " + ups[1].id, "a/2 " + ups[2].id, "b " + b1, "b " + b2, "b " + b3, "c " + ups[4].id}, false, "", ""},
		{"delimiter", ListUploadsOptions{Delimiter: "/"}, []string{
			"b " + b1, "b " + b2, "b " + b3, "c " + ups[4].id, "prefix a/"}, false, "", ""},
		{"key marker skips the key", ListUploadsOptions{KeyMarker: "b"}, []string{"c " + ups[4].id}, false, "", ""},
		{"upload id marker", ListUploadsOptions{KeyMarker: "b", UploadIDMarker: b1}, []string{"b " + b2, "b " + b3, "c " + ups[4].id}, false, "", ""},
		{"max uploads", ListUploadsOptions{Prefix: "b", MaxUploads: 2}, []string{"b " + b1, "b " + b2}, true, "b", b2},
		{"prefix page 2", ListUploadsOptions{Prefix: "b", KeyMarker: "b", UploadIDMarker: b2, MaxUploads: 2}, []string{"b " + b3}, false, "", ""},
	}
	for _, tt := range tests {
		res, err := s.ListMultipartUploads(ctx, "bkt1", tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, str(res)); diff != "" {
			t.Errorf("%s: uploads (-want +got):\n%s", tt.name, diff)
		}
		if res.IsTruncated != tt.truncated || res.NextKeyMarker != tt.nextKey || res.NextUploadIDMarker != tt.nextID {
			t.Errorf("%s: truncated %v next %q/%q, want %v %q/%q", tt.name, res.IsTruncated, res.NextKeyMarker, res.NextUploadIDMarker, tt.truncated, tt.nextKey, tt.nextID)
		}
	}
	for i, u := range ups {
		if len(u.id) < 32 {
			t.Errorf("upload %d ID %q is too short to be unguessable", i, u.id)
		}
	}
}
