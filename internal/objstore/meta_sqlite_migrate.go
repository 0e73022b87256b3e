package objstore

import (
	"database/sql"
	"fmt"
)

// sqliteSchemaVersion is stored in PRAGMA user_version. Version 0 is the
// first catalog (no versioning); version 1 adds bucket versioning, the
// versions table and bucket configuration documents; version 2 adds the
// inline_data table of objects kept in the catalog (an older Strata would
// look for their data files and not find them, so it must refuse the
// catalog).
const sqliteSchemaVersion = 2

// migrateSQLite brings a catalog written by an earlier Strata up to the
// current schema, in one transaction. The new tables come from the
// CREATE ... IF NOT EXISTS statements of the schema; here the columns
// added to existing tables are added where missing. Their defaults make
// old rows correct as they are: a bucket is unversioned, and an object is
// the null version, the current one, with no version key yet (one is made
// from its modification time when it becomes noncurrent). The objects
// table stays the index of current live objects, so listings need no
// rebuild.
func migrateSQLite(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > sqliteSchemaVersion {
		return fmt.Errorf("the catalog has schema version %d, newer than this Strata's %d: run a newer Strata", v, sqliteSchemaVersion)
	}
	adds := []struct{ table, column, decl string }{
		{"buckets", "versioning", `TEXT NOT NULL DEFAULT ''`},
		{"objects", "version_id", `TEXT NOT NULL DEFAULT 'null'`},
		{"objects", "sort_id", `TEXT NOT NULL DEFAULT ''`},
	}
	for _, a := range adds {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, a.table, a.column).Scan(&n); err != nil {
			return fmt.Errorf("inspect table %s: %w", a.table, err)
		}
		if n > 0 {
			continue
		}
		if _, err := tx.Exec(`ALTER TABLE ` + a.table + ` ADD COLUMN ` + a.column + ` ` + a.decl); err != nil {
			return fmt.Errorf("add column %s.%s: %w", a.table, a.column, err)
		}
	}
	if v < sqliteSchemaVersion {
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, sqliteSchemaVersion)); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
	}
	return tx.Commit()
}
