package objstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestConfigCache reads bucket configs through the cache across changes:
// every read after a change returns what the change stored, and changing
// a returned document does not change the next read.
func TestConfigCache(t *testing.T) {
	c, err := OpenSQLiteCatalog(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.CreateBucket(ctx, Bucket{Name: "bkt", Created: time.Unix(1, 0)}); err != nil {
		t.Fatal(err)
	}
	want := func(step, doc string) {
		t.Helper()
		for range 2 { // a miss, then a hit
			got, err := c.GetBucketConfig(ctx, "bkt", "cors")
			switch {
			case doc == "" && !errors.Is(err, ErrNoSuchBucketConfig):
				t.Fatalf("%s: GetBucketConfig = %q, %v; want ErrNoSuchBucketConfig", step, got, err)
			case doc != "" && (err != nil || string(got) != doc):
				t.Fatalf("%s: GetBucketConfig = %q, %v; want %q", step, got, err, doc)
			}
			if got != nil {
				got[0] = 'X' // must not reach the cache
			}
		}
	}
	want("no config", "")
	if err := c.PutBucketConfig(ctx, "bkt", "cors", []byte("one")); err != nil {
		t.Fatal(err)
	}
	want("put", "one")
	if err := c.PutBucketConfig(ctx, "bkt", "cors", []byte("two")); err != nil {
		t.Fatal(err)
	}
	want("replaced", "two")
	if err := c.DeleteBucketConfig(ctx, "bkt", "cors"); err != nil {
		t.Fatal(err)
	}
	want("deleted", "")
	if err := c.PutBucketConfig(ctx, "bkt", "cors", []byte("three")); err != nil {
		t.Fatal(err)
	}
	want("put again", "three")
	if err := c.DeleteBucketConfig(ctx, "bkt", "cors"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketConfig(ctx, "bkt", "cors"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("after DeleteBucket: %v, want ErrNoSuchBucket", err)
	}
	if err := c.CreateBucket(ctx, Bucket{Name: "bkt", Created: time.Unix(2, 0)}); err != nil {
		t.Fatal(err)
	}
	want("bucket made again", "")

	// A read that began before a change does not cache what it read.
	_, _, gen := c.configs.get("bkt", "cors")
	c.configs.drop("bkt", "cors")
	c.configs.put("bkt", "cors", configEntry{doc: []byte("stale")}, gen)
	if _, ok, _ := c.configs.get("bkt", "cors"); ok {
		t.Errorf("an entry read before a change was cached")
	}
}
