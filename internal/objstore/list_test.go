package objstore

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var listKeys = []string{
	"a", "a/b", "a/b/c", "a/c", "a0", "abc", "b/x/1", "b/x/2", "b/y", "c//d",
	"photos/2024/jan.jpg", "photos/2024/feb.jpg", "photos/2025/mar.jpg", "photos/readme",
	"z", "é", "日本/東京", "日本/大阪", "\U0001F600", "ｚ",
}

func TestListObjects(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustBucket(t, s, "bkt1")
	for _, k := range listKeys {
		put(t, s, "bkt1", k, []byte(k))
	}
	type want struct {
		Objects   []string
		Prefixes  []string
		Truncated bool
		Next      string
	}
	tests := []struct {
		name string
		opts ListOptions
		want want
	}{
		{"all, byte order", ListOptions{}, want{Objects: []string{
			"a", "a/b", "a/b/c", "a/c", "a0", "abc", "b/x/1", "b/x/2", "b/y", "c//d",
			"photos/2024/feb.jpg", "photos/2024/jan.jpg", "photos/2025/mar.jpg", "photos/readme",
			"z", "é", "日本/大阪", "日本/東京", "ｚ", "\U0001F600"}}},
		{"prefix", ListOptions{Prefix: "photos/2024/"}, want{Objects: []string{"photos/2024/feb.jpg", "photos/2024/jan.jpg"}}},
		{"prefix no match", ListOptions{Prefix: "q"}, want{}},
		{"delimiter at root", ListOptions{Delimiter: "/"}, want{
			Objects:  []string{"a", "a0", "abc", "z", "é", "ｚ", "\U0001F600"},
			Prefixes: []string{"a/", "b/", "c/", "photos/", "日本/"}}},
		{"prefix and delimiter", ListOptions{Prefix: "photos/", Delimiter: "/"}, want{
			Objects: []string{"photos/readme"}, Prefixes: []string{"photos/2024/", "photos/2025/"}}},
		{"multi-char delimiter", ListOptions{Delimiter: "//"}, want{
			Objects: []string{"a", "a/b", "a/b/c", "a/c", "a0", "abc", "b/x/1", "b/x/2", "b/y",
				"photos/2024/feb.jpg", "photos/2024/jan.jpg", "photos/2025/mar.jpg", "photos/readme",
				"z", "é", "日本/大阪", "日本/東京", "ｚ", "\U0001F600"},
			Prefixes: []string{"c//"}}},
		{"word delimiter", ListOptions{Prefix: "photos/", Delimiter: "jan"}, want{
			Objects:  []string{"photos/2024/feb.jpg", "photos/2025/mar.jpg", "photos/readme"},
			Prefixes: []string{"photos/2024/jan"}}},
		{"marker", ListOptions{Marker: "photos/readme"}, want{Objects: []string{"z", "é", "日本/大阪", "日本/東京", "ｚ", "\U0001F600"}}},
		{"marker before prefix", ListOptions{Prefix: "b/", Marker: "a"}, want{Objects: []string{"b/x/1", "b/x/2", "b/y"}}},
		{"marker after prefix range", ListOptions{Prefix: "b/", Marker: "c"}, want{}},
		{"marker is a common prefix", ListOptions{Delimiter: "/", Marker: "b/"}, want{
			Objects: []string{"z", "é", "ｚ", "\U0001F600"}, Prefixes: []string{"c/", "photos/", "日本/"}}},
		{"marker inside a common prefix", ListOptions{Delimiter: "/", Marker: "a/b"}, want{
			Objects:  []string{"a0", "abc", "z", "é", "ｚ", "\U0001F600"},
			Prefixes: []string{"b/", "c/", "photos/", "日本/"}}},
		{"max-keys 1", ListOptions{MaxKeys: 1}, want{Objects: []string{"a"}, Truncated: true, Next: "a"}},
		{"max-keys 1 on a prefix", ListOptions{Delimiter: "/", Marker: "a", MaxKeys: 1}, want{Prefixes: []string{"a/"}, Truncated: true, Next: "a/"}},
		{"max-keys counts prefixes", ListOptions{Delimiter: "/", MaxKeys: 3}, want{
			Objects: []string{"a", "a0"}, Prefixes: []string{"a/"}, Truncated: true, Next: "a0"}},
		{"exact fit not truncated", ListOptions{Prefix: "b/", MaxKeys: 3}, want{Objects: []string{"b/x/1", "b/x/2", "b/y"}}},
		{"unicode prefix", ListOptions{Prefix: "日本/", Delimiter: "/"}, want{Objects: []string{"日本/大阪", "日本/東京"}}},
	}
	for _, tt := range tests {
		res, err := s.ListObjects(context.Background(), "bkt1", tt.opts)
		if err != nil {
			t.Fatalf("%s: ListObjects: %v", tt.name, err)
		}
		got := want{Prefixes: res.CommonPrefixes, Truncated: res.IsTruncated, Next: res.NextMarker}
		for _, o := range res.Objects {
			got.Objects = append(got.Objects, o.Key)
			if o.Size != int64(len(o.Key)) || o.ETag == "" {
				t.Errorf("%s: object %q listed with size %d, ETag %q", tt.name, o.Key, o.Size, o.ETag)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: ListObjects(%+v) (-want +got):\n%s", tt.name, tt.opts, diff)
		}
	}
	if _, err := s.ListObjects(context.Background(), "nope", ListOptions{}); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("ListObjects of missing bucket: %v, want ErrNoSuchBucket", err)
	}
}

// TestListPagination walks every page with NextMarker and checks the pages
// add up to the single-page listing.
func TestListPagination(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustBucket(t, s, "bkt1")
	for _, k := range listKeys {
		put(t, s, "bkt1", k, []byte(k))
	}
	for _, delim := range []string{"", "/", "//"} {
		full, err := s.ListObjects(context.Background(), "bkt1", ListOptions{Delimiter: delim})
		if err != nil {
			t.Fatal(err)
		}
		for _, max := range []int{1, 2, 3, 7} {
			var got ListResult
			marker := ""
			for i := 0; ; i++ {
				res, err := s.ListObjects(context.Background(), "bkt1", ListOptions{Delimiter: delim, Marker: marker, MaxKeys: max})
				if err != nil {
					t.Fatal(err)
				}
				got.Objects = append(got.Objects, res.Objects...)
				got.CommonPrefixes = append(got.CommonPrefixes, res.CommonPrefixes...)
				if !res.IsTruncated {
					break
				}
				if i > 100 {
					t.Fatalf("delimiter %q max %d: pagination does not end", delim, max)
				}
				marker = res.NextMarker
			}
			if diff := cmp.Diff(full, got); diff != "" {
				t.Errorf("delimiter %q max %d: pages differ from full listing (-full +pages):\n%s", delim, max, diff)
			}
		}
	}
}

// countingCatalog counts the rows a Catalog scan passes on.
type countingCatalog struct {
	Catalog
	rows, scans int
}

func (c *countingCatalog) ScanObjects(ctx context.Context, bucket string, r KeyRange, fn func(ObjectRecord) bool) error {
	c.scans++
	return c.Catalog.ScanObjects(ctx, bucket, r, func(rec ObjectRecord) bool {
		c.rows++
		return fn(rec)
	})
}

// TestListCostProportional: rolling 450 keys under 3 prefixes into common
// prefixes reads one row and one scan per prefix, not every key.
func TestListCostProportional(t *testing.T) {
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
	mustBucket(t, s, "bkt1")
	// Rows go straight to the catalog: the listing reads only metadata.
	for _, p := range []string{"d1/", "d2/", "d3/"} {
		for i := 0; i < 150; i++ {
			k := p + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('0'+i%10)) + string(rune('A'+i/26))
			if _, err := cat.PutObject(ctx, ObjectRecord{ObjectInfo: ObjectInfo{Bucket: "bkt1", Key: k}, Segments: []Segment{}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cc.rows, cc.scans = 0, 0
	res, err := s.ListObjects(ctx, "bkt1", ListOptions{Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"d1/", "d2/", "d3/"}, res.CommonPrefixes); diff != "" {
		t.Fatalf("prefixes (-want +got):\n%s", diff)
	}
	if cc.rows > 3 || cc.scans > 4 {
		t.Errorf("listing 3 common prefixes read %d rows in %d scans, want <= 3 rows, <= 4 scans", cc.rows, cc.scans)
	}
	cc.rows = 0
	if _, err := s.ListObjects(ctx, "bkt1", ListOptions{Prefix: "d2/", MaxKeys: 10}); err != nil {
		t.Fatal(err)
	}
	if cc.rows > 11 {
		t.Errorf("a 10-key page read %d rows, want <= 11", cc.rows)
	}
}

// naiveList is the reference listing: the sorted, distinct entries (keys,
// or their common prefixes) strictly after the marker.
func naiveList(keys []string, prefix, delim, marker string, max int) (objs, prefixes []string, truncated bool) {
	type entry struct {
		s    string
		isCP bool
	}
	var entries []entry
	seen := map[string]bool{}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		e := entry{s: k}
		if cp, ok := commonPrefix(k, prefix, delim); ok {
			e = entry{s: cp, isCP: true}
		}
		if seen[e.s+string(rune(boolInt(e.isCP)))] || e.s <= marker {
			continue
		}
		seen[e.s+string(rune(boolInt(e.isCP)))] = true
		entries = append(entries, e)
	}
	if max <= 0 {
		max = 1000
	}
	if len(entries) > max {
		entries, truncated = entries[:max], true
	}
	for _, e := range entries {
		if e.isCP {
			prefixes = append(prefixes, e.s)
		} else {
			objs = append(objs, e.s)
		}
	}
	return objs, prefixes, truncated
}

// sliceScan is a scanFunc over sorted keys in memory.
func sliceScan(keys []string) scanFunc[string] {
	return func(r KeyRange, fn func(key, id string, item string) bool) error {
		i := sort.SearchStrings(keys, r.From)
		if !r.Inclusive {
			for i < len(keys) && keys[i] <= r.From {
				i++
			}
		}
		for n := 0; i < len(keys) && (r.To == "" || keys[i] < r.To) && (r.Limit <= 0 || n < r.Limit); i, n = i+1, n+1 {
			if !fn(keys[i], "", keys[i]) {
				return nil
			}
		}
		return nil
	}
}

func FuzzListPage(f *testing.F) {
	f.Add("a\na/b\na/b/c\nb\nb//c\n\xff\xff/x", "", "/", "", 2)
	f.Add("x/1\nx/2\ny", "x", "/", "a/b", 1)
	f.Add("\xff/a\n\xff\xff", "\xff", "/", "\xff", 3)
	f.Fuzz(func(t *testing.T, keyList, prefix, delim, marker string, max int) {
		if max < 0 || max > 50 {
			max = 5
		}
		var keys []string
		seen := map[string]bool{}
		for _, k := range strings.Split(keyList, "\n") {
			if k != "" && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		q := listQuery{prefix: prefix, delim: delim, marker: marker, max: max}
		pg, err := listPage(q, sliceScan(keys))
		if err != nil {
			t.Fatal(err)
		}
		wantObjs, wantPrefixes, wantTrunc := naiveList(keys, prefix, delim, marker, max)
		if !cmp.Equal(wantObjs, pg.items, cmp.Comparer(func(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") && len(a) == len(b) })) ||
			strings.Join(wantPrefixes, "\n") != strings.Join(pg.prefixes, "\n") || len(wantPrefixes) != len(pg.prefixes) || wantTrunc != pg.truncated {
			t.Fatalf("listPage(%+v) over %q = %q %q %v; want %q %q %v", q, keys, pg.items, pg.prefixes, pg.truncated, wantObjs, wantPrefixes, wantTrunc)
		}
		if pg.truncated {
			last := ""
			if n := len(pg.items); n > 0 {
				last = pg.items[n-1]
			}
			if n := len(pg.prefixes); n > 0 && pg.prefixes[n-1] > last {
				last = pg.prefixes[n-1]
			}
			if pg.nextKey != last {
				t.Fatalf("nextKey = %q, want the last entry %q", pg.nextKey, last)
			}
		}
	})
}
