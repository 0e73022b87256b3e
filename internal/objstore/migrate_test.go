package objstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// schemaV0 is the catalog as the first Strata wrote it, before
// versioning.
const schemaV0 = `
CREATE TABLE buckets (name TEXT PRIMARY KEY, created BIGINT NOT NULL, public_read INTEGER NOT NULL);
CREATE TABLE objects (bucket TEXT NOT NULL, obj_key BLOB NOT NULL, size BIGINT NOT NULL, mtime BIGINT NOT NULL,
	etag TEXT NOT NULL, md5 BLOB, crc_nvme BIGINT NOT NULL, crc_ecma BIGINT NOT NULL, parts_count INTEGER NOT NULL,
	meta TEXT NOT NULL, segments TEXT NOT NULL, PRIMARY KEY (bucket, obj_key));
CREATE TABLE uploads (upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, obj_key BLOB NOT NULL, initiated BIGINT NOT NULL, meta TEXT NOT NULL);
CREATE INDEX uploads_by_key ON uploads (bucket, obj_key, upload_id);
CREATE TABLE parts (upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size BIGINT NOT NULL, mtime BIGINT NOT NULL,
	etag TEXT NOT NULL, md5 BLOB NOT NULL, crc_nvme BIGINT NOT NULL, crc_ecma BIGINT NOT NULL, file_id TEXT NOT NULL,
	PRIMARY KEY (upload_id, part_number));
CREATE TABLE garbage (file_id TEXT PRIMARY KEY);
INSERT INTO buckets VALUES ('old', 1700000000000000000, 0);
INSERT INTO objects VALUES ('old', CAST('a' AS BLOB), 3, 1700000000000000000, '900150983cd24fb0d6963f7d28e17f72',
	X'900150983cd24fb0d6963f7d28e17f72', 0, 0, 0, '{"ContentType":"text/plain"}', '[{"id":"00aa00aa00aa00aa00aa00aa00aa00aa","size":3}]');
`

// TestOpenMigratesOldCatalog_C27: a data directory written before
// versioning opens, reads, lists, and takes versioning.
func TestOpenMigratesOldCatalog_C27(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(schemaV0); err != nil {
		t.Fatalf("build old schema: %v", err)
	}
	db.Close()
	data := filepath.Join(dir, "data", "00")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "00aa00aa00aa00aa00aa00aa00aa00aa"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}

	for round := 0; round < 2; round++ { // migrating twice is harmless
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("Open old store (round %d): %v", round, err)
		}
		if got := readVersion(t, s, "old", "a", ""); got != "abc" {
			t.Errorf("old object = %q, want abc", got)
		}
		b, err := s.GetBucket(context.Background(), "old")
		if err != nil || b.Versioning != Unversioned {
			t.Errorf("old bucket = %+v, %v; want unversioned", b, err)
		}
		if diff := cmp.Diff([]string{"a"}, listKeysOf(t, s, "old")); diff != "" {
			t.Errorf("listing (-want +got):\n%s", diff)
		}
		s.Close()
	}

	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustVersioning(t, s, "old", VersioningEnabled)
	v := put(t, s, "old", "a", []byte("new"))
	want := []versionLine{{"a", v.VersionID, false, true}, {"a", "null", false, false}}
	if diff := cmp.Diff(want, listVersions(t, s, "old", ListVersionsOptions{})); diff != "" {
		t.Errorf("versions after a versioned write over an old object (-want +got):\n%s", diff)
	}
	if got := readVersion(t, s, "old", "a", "null"); got != "abc" {
		t.Errorf("old object as the null version = %q, want abc", got)
	}

	db, err = sql.Open("sqlite", filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(dir, Options{}); err == nil || errors.Is(err, ErrStoreLocked) {
		t.Errorf("Open of a catalog from a newer Strata = %v, want a schema version error", err)
	}
}
