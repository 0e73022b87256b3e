package cachestore

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// GetShared hands out the stored metadata without a copy, Get a copy of
// it; both read the same body.
func TestGetSharedSharesMetadata(t *testing.T) {
	s := openStore(t, Options{Dir: t.TempDir(), MemoryBytes: 1 << 20})
	body := pattern("shared", 3000)
	put(t, s, "k", sampleMeta(), body)

	a, err := s.GetShared("k")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := s.GetShared("k")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, err := s.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	same := func(x, y *Entry) bool {
		return reflect.ValueOf(x.Meta.Header).UnsafePointer() == reflect.ValueOf(y.Meta.Header).UnsafePointer()
	}
	if !same(a, b) {
		t.Errorf("two GetShared of one version: different header maps; want the stored one")
	}
	if same(a, c) {
		t.Errorf("Get returned the shared header map; want a copy")
	}
	if diff := cmp.Diff(c.Meta, a.Meta, metaOpts); diff != "" {
		t.Errorf("GetShared meta (-Get +GetShared):\n%s", diff)
	}
	got, ok := a.MemoryBody()
	if !ok || !bytes.Equal(got, body) {
		t.Errorf("MemoryBody = %d bytes, %v; want the body, true", len(got), ok)
	}
}

// A large entry is read from disk: MemoryBody says so.
func TestMemoryBodyOfDiskEntry(t *testing.T) {
	s := openStore(t, Options{Dir: t.TempDir(), MemoryBytes: 1 << 20, MemoryEntryMax: 1024})
	put(t, s, "big", sampleMeta(), pattern("big", 5000))
	e, err := s.GetShared("big")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if b, ok := e.MemoryBody(); ok || b != nil {
		t.Errorf("MemoryBody of a disk entry = %d bytes, %v; want nil, false", len(b), ok)
	}
	e.SetMemo("ignored")
	if v := e.Memo(); v != nil {
		t.Errorf("Memo of a disk entry = %v; want nil (only memory versions keep one)", v)
	}
}

// A memo lives as long as the stored version: later Gets see it, a new
// version (replaced, or its metadata updated) starts without one.
func TestMemoFollowsVersion(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, s *Store)
	}{
		{"replaced", func(t *testing.T, s *Store) { put(t, s, "k", sampleMeta(), pattern("v2", 100)) }},
		{"meta updated", func(t *testing.T, s *Store) {
			m := sampleMeta()
			m.Header.Set("Etag", `"new"`)
			if err := s.UpdateMeta("k", m); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, dir := range []string{"", t.TempDir()} {
				s := openStore(t, Options{Dir: dir, MemoryBytes: 1 << 20})
				put(t, s, "k", sampleMeta(), pattern("v1", 100))
				e, err := s.GetShared("k")
				if err != nil {
					t.Fatal(err)
				}
				if v := e.Memo(); v != nil {
					t.Fatalf("new version: Memo = %v, want nil", v)
				}
				e.SetMemo("derived")
				e.Close()
				e, err = s.Get("k")
				if err != nil {
					t.Fatal(err)
				}
				if v := e.Memo(); v != "derived" {
					t.Errorf("dir %q: same version: Memo = %v, want derived", dir, v)
				}
				e.Close()
				tt.change(t, s)
				e, err = s.GetShared("k")
				if err != nil {
					t.Fatal(err)
				}
				if v := e.Memo(); v != nil {
					t.Errorf("dir %q: after the change: Memo = %v, want nil", dir, v)
				}
				e.Close()
			}
		})
	}
}
