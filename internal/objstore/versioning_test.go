package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustVersioning(t testing.TB, s *Store, bucket string, state VersioningState) {
	t.Helper()
	if err := s.SetBucketVersioning(context.Background(), bucket, state); err != nil {
		t.Fatalf("SetBucketVersioning(%s, %q): %v", bucket, state, err)
	}
}

func readVersion(t testing.TB, s *Store, bucket, key, id string) string {
	t.Helper()
	o, err := s.OpenObjectVersion(context.Background(), bucket, key, id)
	if err != nil {
		t.Fatalf("OpenObjectVersion(%s/%s, %q): %v", bucket, key, id, err)
	}
	defer o.Close()
	b := make([]byte, o.Size())
	if _, err := o.ReadAt(b, 0); err != nil && o.Size() > 0 {
		t.Fatalf("read %s/%s@%s: %v", bucket, key, id, err)
	}
	return string(b)
}

// versionLine is one entry of a version listing, for comparisons.
type versionLine struct {
	Key, ID        string
	Marker, Latest bool
}

func listVersions(t testing.TB, s *Store, bucket string, opts ListVersionsOptions) []versionLine {
	t.Helper()
	res, err := s.ListObjectVersions(context.Background(), bucket, opts)
	if err != nil {
		t.Fatalf("ListObjectVersions(%+v): %v", opts, err)
	}
	var out []versionLine
	for _, v := range res.Versions {
		out = append(out, versionLine{v.Key, v.VersionID, v.DeleteMarker, v.IsLatest})
	}
	return out
}

func listKeysOf(t testing.TB, s *Store, bucket string) []string {
	t.Helper()
	res, err := s.ListObjects(context.Background(), bucket, ListOptions{})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	var keys []string
	for _, o := range res.Objects {
		keys = append(keys, o.Key)
	}
	return keys
}

func TestVersioningEnabled_C27(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)

	v1 := put(t, s, "ver", "k", []byte("one"))
	v2 := put(t, s, "ver", "k", []byte("two"))
	if v1.VersionID == "" || v2.VersionID == "" || v1.VersionID == v2.VersionID {
		t.Fatalf("version IDs %q, %q: want two distinct non-empty IDs", v1.VersionID, v2.VersionID)
	}
	if v2.VersionID >= v1.VersionID {
		t.Errorf("newer version ID %q does not sort before older %q", v2.VersionID, v1.VersionID)
	}
	if got := readVersion(t, s, "ver", "k", ""); got != "two" {
		t.Errorf("current = %q, want two", got)
	}
	if got := readVersion(t, s, "ver", "k", v1.VersionID); got != "one" {
		t.Errorf("version 1 = %q, want one", got)
	}
	want := []versionLine{{"k", v2.VersionID, false, true}, {"k", v1.VersionID, false, false}}
	if diff := cmp.Diff(want, listVersions(t, s, "ver", ListVersionsOptions{})); diff != "" {
		t.Errorf("versions after two puts (-want +got):\n%s", diff)
	}

	del, err := s.DeleteObjectVersion(ctx, "ver", "k", "")
	if err != nil || !del.DeleteMarker || del.VersionID == "" {
		t.Fatalf("DeleteObjectVersion = %+v, %v; want a delete marker", del, err)
	}
	_, err = s.StatObject(ctx, "ver", "k")
	var dm *DeleteMarkerError
	if !errors.Is(err, ErrNoSuchKey) || !errors.As(err, &dm) || dm.VersionID != del.VersionID || dm.ByID {
		t.Errorf("StatObject after delete = %v; want ErrNoSuchKey as a DeleteMarkerError for %s", err, del.VersionID)
	}
	if _, err := s.StatObjectVersion(ctx, "ver", "k", del.VersionID); !errors.Is(err, ErrVersionIsDeleteMarker) {
		t.Errorf("StatObjectVersion(marker) = %v, want ErrVersionIsDeleteMarker", err)
	}
	if _, err := s.StatObjectVersion(ctx, "ver", "k", "0123"); !errors.Is(err, ErrNoSuchVersion) {
		t.Errorf("StatObjectVersion(bogus) = %v, want ErrNoSuchVersion", err)
	}
	if keys := listKeysOf(t, s, "ver"); len(keys) != 0 {
		t.Errorf("ListObjects after delete = %q, want none", keys)
	}
	want = append([]versionLine{{"k", del.VersionID, true, true}}, versionLine{"k", v2.VersionID, false, false}, versionLine{"k", v1.VersionID, false, false})
	if diff := cmp.Diff(want, listVersions(t, s, "ver", ListVersionsOptions{})); diff != "" {
		t.Errorf("versions after delete (-want +got):\n%s", diff)
	}

	// Removing the marker brings the newest version back.
	res, err := s.DeleteObjectVersion(ctx, "ver", "k", del.VersionID)
	if err != nil || !res.DeleteMarker || res.VersionID != del.VersionID {
		t.Fatalf("delete marker by ID = %+v, %v", res, err)
	}
	if got := readVersion(t, s, "ver", "k", ""); got != "two" {
		t.Errorf("current after removing marker = %q, want two", got)
	}
	if diff := cmp.Diff([]string{"k"}, listKeysOf(t, s, "ver")); diff != "" {
		t.Errorf("ListObjects after removing marker (-want +got):\n%s", diff)
	}
	// Removing the current version by ID makes the previous one current.
	if _, err := s.DeleteObjectVersion(ctx, "ver", "k", v2.VersionID); err != nil {
		t.Fatal(err)
	}
	if got := readVersion(t, s, "ver", "k", ""); got != "one" {
		t.Errorf("current after removing v2 = %q, want one", got)
	}
	if _, err := s.DeleteObjectVersion(ctx, "ver", "k", v1.VersionID); err != nil {
		t.Fatal(err)
	}
	if got := listVersions(t, s, "ver", ListVersionsOptions{}); len(got) != 0 {
		t.Errorf("versions after removing all = %+v, want none", got)
	}
	if err := s.DeleteBucket(ctx, "ver"); err != nil {
		t.Errorf("DeleteBucket of emptied versioned bucket: %v", err)
	}
}

func TestVersioningBucketNotEmpty_C27(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)
	put(t, s, "ver", "k", []byte("x"))
	if err := s.DeleteObject(ctx, "ver", "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "ver"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Errorf("DeleteBucket with versions left = %v, want ErrBucketNotEmpty", err)
	}
}

func TestVersioningSuspended_C27(t *testing.T) {
	s, dir := newTestStore(t, Options{})
	ctx := context.Background()
	mustBucket(t, s, "sus")
	mustVersioning(t, s, "sus", VersioningEnabled)
	v1 := put(t, s, "sus", "k", []byte("v1"))
	mustVersioning(t, s, "sus", VersioningSuspended)
	n1 := put(t, s, "sus", "k", []byte("null-a"))
	if n1.VersionID != NullVersionID {
		t.Errorf("suspended put version = %q, want null", n1.VersionID)
	}
	before, _ := dataFiles(t, dir)
	put(t, s, "sus", "k", []byte("null-b"))
	after, _ := dataFiles(t, dir)
	if len(after) != len(before) {
		t.Errorf("data files %d -> %d: the second null write must replace the first", len(before), len(after))
	}
	want := []versionLine{{"k", "null", false, true}, {"k", v1.VersionID, false, false}}
	if diff := cmp.Diff(want, listVersions(t, s, "sus", ListVersionsOptions{})); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	if got := readVersion(t, s, "sus", "k", "null"); got != "null-b" {
		t.Errorf("null version = %q, want null-b", got)
	}
	res, err := s.DeleteObjectVersion(ctx, "sus", "k", "")
	if err != nil || !res.DeleteMarker || res.VersionID != NullVersionID {
		t.Fatalf("suspended delete = %+v, %v; want null delete marker", res, err)
	}
	want = []versionLine{{"k", "null", true, true}, {"k", v1.VersionID, false, false}}
	if diff := cmp.Diff(want, listVersions(t, s, "sus", ListVersionsOptions{})); diff != "" {
		t.Errorf("versions after suspended delete (-want +got):\n%s", diff)
	}
	// A null write over a null marker replaces the marker.
	put(t, s, "sus", "k", []byte("null-c"))
	want = []versionLine{{"k", "null", false, true}, {"k", v1.VersionID, false, false}}
	if diff := cmp.Diff(want, listVersions(t, s, "sus", ListVersionsOptions{})); diff != "" {
		t.Errorf("versions after null write over marker (-want +got):\n%s", diff)
	}
	if err := s.SetBucketVersioning(ctx, "sus", Unversioned); !errors.Is(err, ErrInvalidVersioning) {
		t.Errorf("SetBucketVersioning(unversioned) = %v, want ErrInvalidVersioning", err)
	}
}

func TestUnversionedShowsNoVersionIDs_C27(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	mustBucket(t, s, "plain")
	info := put(t, s, "plain", "k", []byte("x"))
	if info.VersionID != "" {
		t.Errorf("PutObject VersionID = %q in an unversioned bucket, want none", info.VersionID)
	}
	if st, err := s.StatObject(ctx, "plain", "k"); err != nil || st.VersionID != "" {
		t.Errorf("StatObject = %+v, %v; want no version ID", st, err)
	}
	if got := listVersions(t, s, "plain", ListVersionsOptions{}); !cmp.Equal(got, []versionLine{{"k", "", false, true}}) {
		t.Errorf("ListObjectVersions = %+v, want one latest entry without ID", got)
	}
	if got := readVersion(t, s, "plain", "k", "null"); got != "x" {
		t.Errorf("read versionId=null = %q, want x", got)
	}
	res, err := s.DeleteObjectVersion(ctx, "plain", "k", "")
	if err != nil || res != (DeleteResult{}) {
		t.Errorf("DeleteObjectVersion = %+v, %v; want an empty result", res, err)
	}
	if _, err := s.StatObject(ctx, "plain", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("StatObject after delete = %v, want ErrNoSuchKey", err)
	}
	if got := listVersions(t, s, "plain", ListVersionsOptions{}); len(got) != 0 {
		t.Errorf("versions after unversioned delete = %+v, want none (no marker)", got)
	}
}

func TestCopyAndMultipartMakeVersions_C27(t *testing.T) {
	s, _ := newTestStore(t, Options{MinPartSize: 1})
	ctx := context.Background()
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)
	v1 := put(t, s, "ver", "src", []byte("first"))
	put(t, s, "ver", "src", []byte("second"))
	cp, err := s.CopyObject(ctx, "ver", "src", "ver", "dst", CopyOptions{SourceVersionID: v1.VersionID})
	if err != nil || cp.VersionID == "" {
		t.Fatalf("CopyObject(version 1) = %+v, %v", cp, err)
	}
	if got := readVersion(t, s, "ver", "dst", ""); got != "first" {
		t.Errorf("copy of version 1 = %q, want first", got)
	}
	id, err := s.CreateMultipartUpload(ctx, "ver", "dst", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.UploadPart(ctx, "ver", "dst", id, 1, bytes.NewReader([]byte("multi")), PutOptions{Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	mp, err := s.CompleteMultipartUpload(ctx, "ver", "dst", id, []CompletePart{{1, p.ETag}})
	if err != nil || mp.VersionID == "" || mp.VersionID == cp.VersionID {
		t.Fatalf("CompleteMultipartUpload = %+v, %v; want a new version", mp, err)
	}
	want := []versionLine{{"dst", mp.VersionID, false, true}, {"dst", cp.VersionID, false, false}}
	if diff := cmp.Diff(want, listVersions(t, s, "ver", ListVersionsOptions{Prefix: "dst"})); diff != "" {
		t.Errorf("versions of dst (-want +got):\n%s", diff)
	}
	del, _ := s.DeleteObjectVersion(ctx, "ver", "src", "")
	if _, err := s.CopyObject(ctx, "ver", "src", "ver", "x", CopyOptions{SourceVersionID: del.VersionID}); !errors.Is(err, ErrVersionIsDeleteMarker) {
		t.Errorf("copy from a delete marker = %v, want ErrVersionIsDeleteMarker", err)
	}
}

// TestListVersionsPagination_C27 walks pages of every size, with and
// without a delimiter, and checks they add up to the full listing.
func TestListVersionsPagination_C27(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)
	for i, k := range []string{"a", "b/1", "b/2", "c", "d/x/y"} {
		for j := 0; j <= i%3; j++ {
			put(t, s, "ver", k, []byte(fmt.Sprint(i, j)))
		}
		if i%2 == 0 {
			s.DeleteObject(ctx, "ver", k)
		}
	}
	for _, delim := range []string{"", "/"} {
		full, err := s.ListObjectVersions(ctx, "ver", ListVersionsOptions{Delimiter: delim})
		if err != nil {
			t.Fatal(err)
		}
		for _, max := range []int{1, 2, 3, 5} {
			var got ListVersionsResult
			opts := ListVersionsOptions{Delimiter: delim, MaxKeys: max}
			for i := 0; ; i++ {
				res, err := s.ListObjectVersions(ctx, "ver", opts)
				if err != nil {
					t.Fatal(err)
				}
				got.Versions = append(got.Versions, res.Versions...)
				got.CommonPrefixes = append(got.CommonPrefixes, res.CommonPrefixes...)
				if !res.IsTruncated {
					break
				}
				if i > 50 {
					t.Fatalf("delimiter %q max %d: pagination does not end", delim, max)
				}
				opts.KeyMarker, opts.VersionIDMarker = res.NextKeyMarker, res.NextVersionIDMarker
			}
			if diff := cmp.Diff(full.Versions, got.Versions); diff != "" {
				t.Errorf("delimiter %q max %d: pages differ (-full +pages):\n%s", delim, max, diff)
			}
			if diff := cmp.Diff(full.CommonPrefixes, got.CommonPrefixes); diff != "" {
				t.Errorf("delimiter %q max %d: prefixes differ (-full +pages):\n%s", delim, max, diff)
			}
		}
	}
}

// TestListSkipsDeleteMarkers_C27: a bucket whose live keys are separated
// by thousands of delete markers and old versions lists by reading the
// live rows only.
func TestListSkipsDeleteMarkers_C27(t *testing.T) {
	dir := t.TempDir()
	cat, err := OpenSQLiteCatalog(dir + "/meta.db")
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingCatalog{Catalog: cat}
	s, err := Open(dir, Options{Catalog: cc})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)
	// Rows go straight to the catalog: the listing reads only metadata.
	var live []string
	for i := 0; i < 400; i++ {
		k := fmt.Sprintf("k%05d", i)
		rec := ObjectRecord{ObjectInfo: ObjectInfo{Bucket: "ver", Key: k, ModTime: now()}, Segments: []Segment{}, VersionKey: newVersionKey(now())}
		if _, err := cat.PutObject(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if i%40 == 0 {
			live = append(live, k)
			continue
		}
		if _, err := cat.DeleteObject(ctx, DeleteRequest{Bucket: "ver", Key: k, MarkerKey: newVersionKey(now()), Time: now()}); err != nil {
			t.Fatal(err)
		}
	}
	cc.rows, cc.scans = 0, 0
	res, err := s.ListObjects(ctx, "ver", ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range res.Objects {
		got = append(got, o.Key)
	}
	if diff := cmp.Diff(live, got); diff != "" {
		t.Fatalf("live keys (-want +got):\n%s", diff)
	}
	if cc.rows > len(live) || cc.scans > 1 {
		t.Errorf("listing %d live keys among %d markers and versions read %d rows in %d scans; want <= %d rows, 1 scan",
			len(live), 2*(400-len(live)), cc.rows, cc.scans, len(live))
	}
}

// TestVersionsSurviveReopen_C27: Open's orphan sweep keeps the files of
// noncurrent versions, and the versions keep their order.
func TestVersionsSurviveReopen_C27(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)
	v1 := put(t, s, "ver", "k", []byte("one"))
	put(t, s, "ver", "k", []byte("two"))
	s.DeleteObject(context.Background(), "ver", "k")
	before := listVersions(t, s, "ver", ListVersionsOptions{})
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if diff := cmp.Diff(before, listVersions(t, s, "ver", ListVersionsOptions{})); diff != "" {
		t.Errorf("versions after reopen (-before +after):\n%s", diff)
	}
	if got := readVersion(t, s, "ver", "k", v1.VersionID); got != "one" {
		t.Errorf("noncurrent version after reopen = %q, want one", got)
	}
}
