package objstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
)

// inlineRows counts the catalog's inline data rows.
func inlineRows(t testing.TB, s *Store) int {
	t.Helper()
	var n int
	if err := s.cat.(*SQLiteCatalog).r.QueryRow(`SELECT COUNT(*) FROM inline_data`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInlineRoundTrip: objects up to InlineMax are kept in the catalog
// (no data file), larger ones in files, and both read back with the
// right size, ETag and checksums.
func TestInlineRoundTrip(t *testing.T) {
	s, dir := newTestStore(t, Options{InlineMax: 1000})
	mustBucket(t, s, "bkt")
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name   string
		size   int
		inline bool
	}{
		{"empty", 0, true},
		{"one byte", 1, true},
		{"at the limit", 1000, true},
		{"over the limit", 1001, false},
	}
	files := 0
	for _, tc := range tests {
		data := randBytes(rng, tc.size)
		info := put(t, s, "bkt", tc.name, data)
		if !tc.inline {
			files++
		}
		got, oi := readAll(t, s, "bkt", tc.name)
		if !bytes.Equal(got, data) {
			t.Errorf("%s: read %d bytes, want the %d put", tc.name, len(got), len(data))
		}
		nvme, ecma := crcs(data)
		if info.ETag != hex.EncodeToString(md5sum(data)) || !bytes.Equal(oi.MD5, md5sum(data)) || oi.CRC64NVME != nvme || oi.CRC64ECMA != ecma || oi.Size != int64(tc.size) {
			t.Errorf("%s: info %+v, want size %d, MD5 %x, CRCs %x/%x", tc.name, oi, tc.size, md5sum(data), nvme, ecma)
		}
		o, err := s.OpenObject(context.Background(), "bkt", tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.FileRanges(0, -1) == nil; got != (tc.inline || tc.size == 0) {
			t.Errorf("%s: FileRanges nil = %v, want %v", tc.name, got, tc.inline)
		}
		o.Close()
	}
	if data, _ := dataFiles(t, dir); len(data) != files {
		t.Errorf("data files %v, want %d", data, files)
	}
	if got, want := inlineRows(t, s), 3; got != want {
		t.Errorf("inline rows = %d, want %d", got, want)
	}
}

// TestInlineOverwriteAndDelete: replacing or deleting an inline object
// drops its data in the same commit, whichever form the new data takes.
func TestInlineOverwriteAndDelete(t *testing.T) {
	s, dir := newTestStore(t, Options{InlineMax: 100})
	mustBucket(t, s, "bkt")
	steps := []struct {
		data        string
		rows, files int
	}{
		{"small", 1, 0},
		{"small again", 1, 0},
		{strings.Repeat("big", 50), 0, 1},
		{"small once more", 1, 0},
	}
	for i, st := range steps {
		put(t, s, "bkt", "k", []byte(st.data))
		if got, _ := readAll(t, s, "bkt", "k"); string(got) != st.data {
			t.Errorf("step %d: read %q, want %q", i, got, st.data)
		}
		data, _ := dataFiles(t, dir)
		if rows := inlineRows(t, s); rows != st.rows || len(data) != st.files {
			t.Errorf("step %d: %d inline rows, %d data files; want %d, %d", i, rows, len(data), st.rows, st.files)
		}
	}
	if err := s.DeleteObject(context.Background(), "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	if rows := inlineRows(t, s); rows != 0 {
		t.Errorf("after delete: %d inline rows, want 0", rows)
	}
	if garbage, err := s.cat.PendingGarbage(context.Background()); err != nil || len(garbage) != 0 {
		t.Errorf("garbage journal %v (%v), want empty: inline data is never journaled", garbage, err)
	}
}

// TestInlineVersions_C27: every version keeps its own inline data, read
// by version ID; removing a version removes its data and nothing else.
func TestInlineVersions_C27(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)
	ctx := context.Background()
	v1 := put(t, s, "ver", "k", []byte("one"))
	v2 := put(t, s, "ver", "k", []byte("two"))
	if err := s.DeleteObject(ctx, "ver", "k"); err != nil { // a delete marker
		t.Fatal(err)
	}
	if got := readVersion(t, s, "ver", "k", v1.VersionID); got != "one" {
		t.Errorf("v1 reads %q", got)
	}
	if got := readVersion(t, s, "ver", "k", v2.VersionID); got != "two" {
		t.Errorf("v2 reads %q", got)
	}
	if _, err := s.DeleteObjectVersion(ctx, "ver", "k", v1.VersionID); err != nil {
		t.Fatal(err)
	}
	if rows := inlineRows(t, s); rows != 1 {
		t.Errorf("after deleting v1: %d inline rows, want 1", rows)
	}
	if got := readVersion(t, s, "ver", "k", v2.VersionID); got != "two" {
		t.Errorf("v2 reads %q after v1 was deleted", got)
	}
	// Suspended: a write replaces the null version's data.
	mustVersioning(t, s, "ver", VersioningSuspended)
	put(t, s, "ver", "k", []byte("null 1"))
	put(t, s, "ver", "k", []byte("null 2"))
	if rows := inlineRows(t, s); rows != 2 {
		t.Errorf("after two null writes: %d inline rows, want 2 (v2, null)", rows)
	}
	if got, _ := readAll(t, s, "ver", "k"); string(got) != "null 2" {
		t.Errorf("current reads %q, want %q", got, "null 2")
	}
	for _, id := range []string{v2.VersionID, NullVersionID} {
		if _, err := s.DeleteObjectVersion(ctx, "ver", "k", id); err != nil {
			t.Fatal(err)
		}
	}
	if rows := inlineRows(t, s); rows != 0 {
		t.Errorf("after deleting every version: %d inline rows, want 0", rows)
	}
}

// TestInlineCopy: a copy of an inline object gets data of its own, which
// outlives the source; a copy onto itself keeps the data.
func TestInlineCopy(t *testing.T) {
	s, dir := newTestStore(t, Options{})
	mustBucket(t, s, "bkt")
	ctx := context.Background()
	src := put(t, s, "bkt", "src", []byte("copy me"))
	dst, err := s.CopyObject(ctx, "bkt", "src", "bkt", "dst", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if dst.ETag != src.ETag || dst.CRC64NVME != src.CRC64NVME || dst.CRC64ECMA != src.CRC64ECMA || dst.Size != src.Size {
		t.Errorf("copy info %+v, want the source's ETag, CRCs and size %+v", dst, src)
	}
	if _, err := s.CopyObject(ctx, "bkt", "src", "bkt", "src", CopyOptions{ReplaceMeta: true, Meta: Meta{ContentType: "text/plain"}}); err != nil {
		t.Fatalf("copy onto itself: %v", err)
	}
	if got, info := readAll(t, s, "bkt", "src"); string(got) != "copy me" || info.Meta.ContentType != "text/plain" {
		t.Errorf("after self-copy: %q, %+v", got, info.Meta)
	}
	if err := s.DeleteObject(ctx, "bkt", "src"); err != nil {
		t.Fatal(err)
	}
	if got, _ := readAll(t, s, "bkt", "dst"); string(got) != "copy me" {
		t.Errorf("copy reads %q after the source was deleted", got)
	}
	if rows := inlineRows(t, s); rows != 1 {
		t.Errorf("%d inline rows, want 1 (the copy)", rows)
	}
	if data, _ := dataFiles(t, dir); len(data) != 0 {
		t.Errorf("data files %v, want none", data)
	}
}

// TestInlineUnknownSize: a body of unknown size is inlined if it ends
// within InlineMax, else streamed to a file starting with what was read.
func TestInlineUnknownSize(t *testing.T) {
	s, dir := newTestStore(t, Options{InlineMax: 100})
	mustBucket(t, s, "bkt")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 100, 101, 5000} {
		data := randBytes(rng, n)
		// iotest-like reader that returns short reads.
		r := io.MultiReader(bytes.NewReader(data[:n/2]), bytes.NewReader(data[n/2:]))
		info, err := s.PutObject(ctx, "bkt", "k", r, PutOptions{Size: -1})
		if err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		if got, _ := readAll(t, s, "bkt", "k"); !bytes.Equal(got, data) || info.Size != int64(n) || info.ETag != hex.EncodeToString(md5sum(data)) {
			t.Errorf("size %d: read %d bytes, info %+v", n, len(got), info)
		}
		files, _ := dataFiles(t, dir)
		if wantFiles := n > 100; (len(files) == 1) != wantFiles {
			t.Errorf("size %d: data files %v, want a file: %v", n, files, wantFiles)
		}
	}
}

// TestInlineErrors: a body that does not match its announced size or
// Content-MD5, or is over the object limit, stores nothing.
func TestInlineErrors(t *testing.T) {
	s, dir := newTestStore(t, Options{MaxObjectSize: 50, InlineMax: 100})
	mustBucket(t, s, "bkt")
	ctx := context.Background()
	tests := []struct {
		name string
		body string
		opts PutOptions
		want error
	}{
		{"longer than announced", "abcdef", PutOptions{Size: 3}, ErrIncompleteBody},
		{"shorter than announced", "ab", PutOptions{Size: 3}, ErrIncompleteBody},
		{"bad Content-MD5", "abc", PutOptions{Size: 3, ContentMD5: md5sum([]byte("abd"))}, ErrBadDigest},
		{"unknown size over the object limit", strings.Repeat("x", 51), PutOptions{Size: -1}, ErrEntityTooLarge},
		{"announced over the object limit", strings.Repeat("x", 51), PutOptions{Size: 51}, ErrEntityTooLarge},
	}
	for _, tc := range tests {
		_, err := s.PutObject(ctx, "bkt", "k", strings.NewReader(tc.body), tc.opts)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: PutObject error = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.StatObject(ctx, "bkt", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("StatObject after failed puts: %v, want ErrNoSuchKey", err)
	}
	if data, _ := dataFiles(t, dir); len(data) != 0 || inlineRows(t, s) != 0 {
		t.Errorf("after failed puts: data files %v, %d inline rows; want none", data, inlineRows(t, s))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.PutObject(cctx, "bkt", "k", strings.NewReader("abc"), PutOptions{Size: 3}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled put: %v, want context.Canceled", err)
	}
}

// TestInlineSnapshot: an open inline object keeps reading the data it
// was opened with while the key is overwritten and deleted.
func TestInlineSnapshot(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustBucket(t, s, "bkt")
	put(t, s, "bkt", "k", []byte("old data"))
	o, err := s.OpenObject(context.Background(), "bkt", "k")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	put(t, s, "bkt", "k", []byte("new data"))
	if err := s.DeleteObject(context.Background(), "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o.NewReader(4, -1))
	if err != nil || string(got) != "data" {
		t.Errorf("open object reads %q (%v), want %q", got, err, "data")
	}
	p := make([]byte, 10)
	if n, err := o.ReadAt(p, 2); n != 6 || err != io.EOF || string(p[:n]) != "d data" {
		t.Errorf("ReadAt past the end = %d, %v (%q); want 6, EOF", n, err, p[:n])
	}
}

// TestInlineTurnedOff: a store opened with inlining off writes data files
// and still reads what was inlined before, and the other way round.
func TestInlineTurnedOff(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustBucket(t, s, "bkt")
	put(t, s, "bkt", "inline", []byte("kept in the catalog"))
	s.Close()
	s, err = Open(dir, Options{InlineMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "bkt", "file", []byte("kept in a file"))
	if got, _ := readAll(t, s, "bkt", "inline"); string(got) != "kept in the catalog" {
		t.Errorf("inline object reads %q with inlining off", got)
	}
	if _, err := s.CopyObject(context.Background(), "bkt", "inline", "bkt", "copy", CopyOptions{}); err != nil {
		t.Errorf("copy of an inline object with inlining off: %v", err)
	}
	s.Close()
	if data, _ := dataFiles(t, dir); len(data) != 1 {
		t.Errorf("data files %v, want 1", data)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for k, want := range map[string]string{"inline": "kept in the catalog", "file": "kept in a file", "copy": "kept in the catalog"} {
		if got, _ := readAll(t, s, "bkt", k); string(got) != want {
			t.Errorf("after reopening: %s reads %q, want %q", k, got, want)
		}
	}
}

// TestInlineMultipartPartsAreFiles: parts are never inlined, however
// small; the completed object reads across them, and the inline object
// it replaces loses its data.
func TestInlineMultipartPartsAreFiles(t *testing.T) {
	s, dir := newTestStore(t, Options{MinPartSize: 1})
	mustBucket(t, s, "bkt")
	ctx := context.Background()
	put(t, s, "bkt", "mp", []byte("inline, replaced by the upload"))
	id, err := s.CreateMultipartUpload(ctx, "bkt", "mp", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	var parts []CompletePart
	for n, body := range []string{"part one, ", "part two"} {
		p, err := s.UploadPart(ctx, "bkt", "mp", id, n+1, strings.NewReader(body), PutOptions{Size: int64(len(body))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, CompletePart{PartNumber: n + 1, ETag: p.ETag})
	}
	if _, err := s.CompleteMultipartUpload(ctx, "bkt", "mp", id, parts); err != nil {
		t.Fatal(err)
	}
	if got, _ := readAll(t, s, "bkt", "mp"); string(got) != "part one, part two" {
		t.Errorf("multipart object reads %q", got)
	}
	if data, _ := dataFiles(t, dir); len(data) != 2 || inlineRows(t, s) != 0 {
		t.Errorf("data files %v, %d inline rows; want 2 files, no rows", data, inlineRows(t, s))
	}
}

// goneOnce is a catalog whose first ReadInline fails as if the version
// had been replaced between reading its row and its data.
type goneOnce struct {
	*SQLiteCatalog
	calls atomic.Int32
}

func (g *goneOnce) ReadInline(ctx context.Context, id string) ([]byte, error) {
	if g.calls.Add(1) == 1 {
		return nil, ErrNoInlineData
	}
	return g.SQLiteCatalog.ReadInline(ctx, id)
}

// TestInlineReadRetries: a read that finds its version's inline data gone
// reads the row again instead of failing.
func TestInlineReadRetries(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenSQLiteCatalog(dir + "/meta.db")
	if err != nil {
		t.Fatal(err)
	}
	g := &goneOnce{SQLiteCatalog: c}
	s, err := Open(dir, Options{Catalog: g})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustBucket(t, s, "bkt")
	put(t, s, "bkt", "k", []byte("data"))
	if got, _ := readAll(t, s, "bkt", "k"); string(got) != "data" {
		t.Errorf("read %q, want %q", got, "data")
	}
	if got := g.calls.Load(); got != 2 {
		t.Errorf("ReadInline called %d times, want 2", got)
	}
}

// TestSpareFiles: writes to data files take spares made ahead (empty
// files whose entries are durable); Close removes those not taken, and
// reopening finds every object intact.
func TestSpareFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{InlineMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	mustBucket(t, s, "bkt")
	put(t, s, "bkt", "one", []byte("first"))
	all, _ := listFiles(t, dir, true)
	if want := spareBatch; len(all) != want {
		t.Errorf("after one write: %d files, want %d (the written one and %d spares)", len(all), want, spareBatch-1)
	}
	for i := range spareBatch {
		put(t, s, "bkt", "k"+strings.Repeat("x", i), []byte("data"))
	}
	if data, _ := dataFiles(t, dir); len(data) != spareBatch+1 {
		t.Errorf("%d non-empty data files, want %d", len(data), spareBatch+1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if all, _ := listFiles(t, dir, true); len(all) != spareBatch+1 {
		t.Errorf("after Close: %d files, want %d: spares must be removed", len(all), spareBatch+1)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := readAll(t, s, "bkt", "one"); string(got) != "first" {
		t.Errorf("after reopening: %q", got)
	}
}

// TestInlineNoSuchBucket: a small PUT into a missing bucket, which is
// not checked before the body is read, fails at the commit and stores
// nothing.
func TestInlineNoSuchBucket(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	if _, err := s.PutObject(context.Background(), "missing", "k", strings.NewReader("data"), PutOptions{Size: 4}); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("PutObject into a missing bucket: %v, want ErrNoSuchBucket", err)
	}
	if rows := inlineRows(t, s); rows != 0 {
		t.Errorf("%d inline rows after the failed put, want 0", rows)
	}
}
