package objstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The objects table is the index of current live objects: one row per key
// whose current version is an object (not a delete marker). Listings read
// only it, so their cost does not grow with noncurrent versions or delete
// markers (case C27). The versions table holds every other version: the
// noncurrent ones, and a current delete marker (noncurrent = 0). Both are
// changed in the same transaction. Invariant: for a key, the objects row,
// if any, is the newest version, and at most one versions row has
// noncurrent = 0, only when there is no objects row.

const objectColumns = `obj_key, size, mtime, etag, md5, crc_nvme, crc_ecma, parts_count, meta, segments, version_id, sort_id`

// versionColumns are the versions table's: objectColumns plus the marker
// flag and the time the version became noncurrent (0: current).
const versionColumns = objectColumns + `, is_marker, noncurrent`

type scanner interface{ Scan(dest ...any) error }

func scanObject(sc scanner, bucket string, extra ...any) (ObjectRecord, error) {
	var rec ObjectRecord
	var key []byte
	var mtime, nvme, ecma int64
	var meta, segs string
	dest := append([]any{&key, &rec.Size, &mtime, &rec.ETag, &rec.MD5, &nvme, &ecma, &rec.PartsCount, &meta, &segs, &rec.VersionID, &rec.VersionKey}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return rec, err
	}
	rec.Bucket, rec.Key = bucket, string(key)
	rec.ModTime, rec.CRC64NVME, rec.CRC64ECMA = fromNanos(mtime), uint64(nvme), uint64(ecma)
	if len(rec.MD5) == 0 {
		rec.MD5 = nil
	}
	var err error
	if rec.Meta, err = decodeMeta(meta); err != nil {
		return rec, err
	}
	rec.Segments, err = decodeSegments(segs)
	return rec, err
}

// scanVersion scans versionColumns.
func scanVersion(sc scanner, bucket string) (ObjectRecord, error) {
	var marker int
	var noncurrent int64
	rec, err := scanObject(sc, bucket, &marker, &noncurrent)
	if err != nil {
		return rec, err
	}
	rec.DeleteMarker = marker != 0
	if noncurrent != 0 {
		rec.NoncurrentSince = fromNanos(noncurrent)
	}
	rec.IsLatest = noncurrent == 0
	return rec, nil
}

// bucketState returns a bucket's versioning state, or ErrNoSuchBucket.
func bucketState(ctx context.Context, q queryer, name string) (VersioningState, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT versioning FROM buckets WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: %s", ErrNoSuchBucket, name)
	}
	if err != nil {
		return "", dbErr("get bucket", err)
	}
	return VersioningState(v), nil
}

// shown is the version ID callers see: none while the bucket has never
// been versioned.
func shown(state VersioningState, id string) string {
	if state == Unversioned {
		return ""
	}
	return id
}

const getObjectQuery = `SELECT ` + objectColumns + `, (SELECT versioning FROM buckets WHERE name = ?) FROM objects WHERE bucket = ? AND obj_key = ?`

// GetObject implements [Catalog].
func (c *SQLiteCatalog) GetObject(ctx context.Context, bucket, key string) (ObjectRecord, error) {
	var state string
	row := c.getObject.QueryRowContext(ctx, bucket, bucket, []byte(key))
	rec, err := scanObject(row, bucket, &state)
	if err == nil {
		rec.VersionID = shown(VersioningState(state), rec.VersionID)
		return rec, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return ObjectRecord{}, dbErr("get object", err)
	}
	if berr := bucketExists(ctx, c.r, bucket); berr != nil {
		return ObjectRecord{}, berr
	}
	m, found, err := currentMarker(ctx, c.r, bucket, key)
	if err != nil {
		return ObjectRecord{}, err
	}
	if found {
		return ObjectRecord{}, &DeleteMarkerError{Bucket: bucket, Key: key, VersionID: m.VersionID}
	}
	return ObjectRecord{}, fmt.Errorf("%w: %s/%s", ErrNoSuchKey, bucket, key)
}

// currentMarker returns the key's current delete marker, if its current
// version is one.
func currentMarker(ctx context.Context, q queryer, bucket, key string) (ObjectRecord, bool, error) {
	row := q.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM versions WHERE bucket = ? AND obj_key = ? AND noncurrent = 0`, bucket, []byte(key))
	rec, err := scanVersion(row, bucket)
	if errors.Is(err, sql.ErrNoRows) {
		return ObjectRecord{}, false, nil
	}
	if err != nil {
		return ObjectRecord{}, false, dbErr("get delete marker", err)
	}
	return rec, true, nil
}

// findVersion looks a version up by ID: in the live index (live true)
// or among the versions.
func findVersion(ctx context.Context, q queryer, bucket, key, versionID string) (rec ObjectRecord, live, found bool, err error) {
	row := q.QueryRowContext(ctx, `SELECT `+objectColumns+` FROM objects WHERE bucket = ? AND obj_key = ? AND version_id = ?`, bucket, []byte(key), versionID)
	rec, err = scanObject(row, bucket)
	if err == nil {
		rec.IsLatest = true
		return rec, true, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return rec, false, false, dbErr("get version", err)
	}
	row = q.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM versions WHERE bucket = ? AND obj_key = ? AND version_id = ?`, bucket, []byte(key), versionID)
	rec, err = scanVersion(row, bucket)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, false, false, nil
	}
	if err != nil {
		return rec, false, false, dbErr("get version", err)
	}
	return rec, false, true, nil
}

// GetObjectVersion implements [Catalog].
func (c *SQLiteCatalog) GetObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectRecord, error) {
	state, err := bucketState(ctx, c.r, bucket)
	if err != nil {
		return ObjectRecord{}, err
	}
	rec, _, found, err := findVersion(ctx, c.r, bucket, key, versionID)
	if err != nil {
		return ObjectRecord{}, err
	}
	if !found {
		return ObjectRecord{}, fmt.Errorf("%w: version %s of %s/%s", ErrNoSuchVersion, versionID, bucket, key)
	}
	rec.VersionID = shown(state, rec.VersionID)
	return rec, nil
}

// readLive reads the key's live row inside tx.
func readLive(ctx context.Context, tx *wtx, bucket, key string) (ObjectRecord, bool, error) {
	row := tx.QueryRowContext(ctx, `SELECT `+objectColumns+` FROM objects WHERE bucket = ? AND obj_key = ?`, bucket, []byte(key))
	rec, err := scanObject(row, bucket)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, dbErr("read object", err)
	}
	return rec, true, nil
}

// dropSegments drops a removed version's data inside tx: inline data is
// deleted with the row, and data files are journaled as garbage and
// returned, to be unlinked after the commit.
func dropSegments(ctx context.Context, tx *wtx, segs []Segment) ([]string, error) {
	var files []string
	for _, sg := range segs {
		if sg.Inline {
			if _, err := tx.ExecContext(ctx, `DELETE FROM inline_data WHERE id = ?`, sg.FileID); err != nil {
				return nil, dbErr("delete inline data", err)
			}
			continue
		}
		files = append(files, sg.FileID)
	}
	return files, journalGarbage(ctx, tx, files)
}

// takeObject deletes bucket/key's live row, if any, inside tx, journals
// its files as garbage and returns them (inline data goes with the row).
func takeObject(ctx context.Context, tx *wtx, bucket, key string) ([]string, error) {
	rec, found, err := readLive(ctx, tx, bucket, key)
	if err != nil || !found {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE bucket = ? AND obj_key = ?`, bucket, []byte(key)); err != nil {
		return nil, dbErr("delete object", err)
	}
	return dropSegments(ctx, tx, rec.Segments)
}

func journalGarbage(ctx context.Context, tx *wtx, ids []string) error {
	for _, id := range ids {
		// A hard-linked copy has its own ID, so an ID is never journaled
		// twice; the conflict clause only makes a retry harmless.
		if _, err := tx.ExecContext(ctx, `INSERT INTO garbage (file_id) VALUES (?) ON CONFLICT (file_id) DO NOTHING`, id); err != nil {
			return dbErr("journal garbage", err)
		}
	}
	return nil
}

func rowValues(rec ObjectRecord) []any {
	md5 := rec.MD5
	if md5 == nil {
		md5 = []byte{}
	}
	segs := rec.Segments
	if segs == nil {
		segs = []Segment{}
	}
	return []any{[]byte(rec.Key), rec.Size, rec.ModTime.UnixNano(), rec.ETag, md5,
		int64(rec.CRC64NVME), int64(rec.CRC64ECMA), rec.PartsCount,
		encodeJSON(rec.Meta), encodeJSON(segs), rec.VersionID, rec.VersionKey}
}

func insertObject(ctx context.Context, tx *wtx, rec ObjectRecord) error {
	args := append([]any{rec.Bucket}, rowValues(rec)...)
	_, err := tx.ExecContext(ctx, `INSERT INTO objects (bucket, `+objectColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return dbErr("insert object", err)
	}
	return nil
}

func insertVersion(ctx context.Context, tx *wtx, rec ObjectRecord) error {
	var noncurrent int64
	if !rec.NoncurrentSince.IsZero() {
		noncurrent = rec.NoncurrentSince.UnixNano()
	}
	args := append([]any{rec.Bucket}, rowValues(rec)...)
	args = append(args, boolInt(rec.DeleteMarker), noncurrent)
	_, err := tx.ExecContext(ctx, `INSERT INTO versions (bucket, `+versionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return dbErr("insert version", err)
	}
	return nil
}

// demote makes the key's current version noncurrent as of t: an object
// leaves the live index for the versions table; a current delete marker
// is marked noncurrent.
func demote(ctx context.Context, tx *wtx, bucket, key string, t time.Time) error {
	rec, found, err := readLive(ctx, tx, bucket, key)
	if err != nil {
		return err
	}
	if !found {
		if _, err := tx.ExecContext(ctx, `UPDATE versions SET noncurrent = ? WHERE bucket = ? AND obj_key = ? AND noncurrent = 0`,
			t.UnixNano(), bucket, []byte(key)); err != nil {
			return dbErr("demote delete marker", err)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE bucket = ? AND obj_key = ?`, bucket, []byte(key)); err != nil {
		return dbErr("demote object", err)
	}
	if rec.VersionKey == "" {
		// Written before versioning existed: it is older than any version
		// made since, which its modification time orders it by.
		rec.VersionKey = versionKeyAt(rec.ModTime, 0)
	}
	rec.NoncurrentSince = t
	return insertVersion(ctx, tx, rec)
}

// promote makes the newest remaining version of the key current, after
// the current one was removed.
func promote(ctx context.Context, tx *wtx, bucket, key string) error {
	row := tx.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM versions WHERE bucket = ? AND obj_key = ? ORDER BY sort_id LIMIT 1`, bucket, []byte(key))
	rec, err := scanVersion(row, bucket)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return dbErr("read newest version", err)
	}
	if rec.DeleteMarker {
		_, err := tx.ExecContext(ctx, `UPDATE versions SET noncurrent = 0 WHERE bucket = ? AND obj_key = ? AND sort_id = ?`, bucket, []byte(key), rec.VersionKey)
		if err != nil {
			return dbErr("promote delete marker", err)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM versions WHERE bucket = ? AND obj_key = ? AND sort_id = ?`, bucket, []byte(key), rec.VersionKey); err != nil {
		return dbErr("promote version", err)
	}
	rec.NoncurrentSince = time.Time{}
	return insertObject(ctx, tx, rec)
}

// removeNull removes the key's null version, wherever it is, and returns
// its files, journaled.
func removeNull(ctx context.Context, tx *wtx, bucket, key string) ([]string, error) {
	var garbage []string
	rec, found, err := readLive(ctx, tx, bucket, key)
	if err != nil {
		return nil, err
	}
	if found && rec.VersionID == NullVersionID {
		if garbage, err = takeObject(ctx, tx, bucket, key); err != nil {
			return nil, err
		}
	}
	row := tx.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM versions WHERE bucket = ? AND obj_key = ? AND version_id = ?`, bucket, []byte(key), NullVersionID)
	v, err := scanVersion(row, bucket)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return garbage, nil
	case err != nil:
		return nil, dbErr("read null version", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM versions WHERE bucket = ? AND obj_key = ? AND sort_id = ?`, bucket, []byte(key), v.VersionKey); err != nil {
		return nil, dbErr("delete null version", err)
	}
	ids, err := dropSegments(ctx, tx, v.Segments)
	return append(garbage, ids...), err
}

// newestKey returns k, or if an existing version of the key sorts before
// it (a clock that stepped back), a key that sorts before them all, so
// the newest version always sorts first.
func newestKey(ctx context.Context, tx *wtx, bucket, key, k string) (string, error) {
	var min sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT MIN(sort_id) FROM versions WHERE bucket = ? AND obj_key = ?`, bucket, []byte(key)).Scan(&min); err != nil {
		return "", dbErr("read versions", err)
	}
	if min.Valid && min.String != "" && k >= min.String {
		return keyBefore(min.String), nil
	}
	return k, nil
}

// putCurrent makes rec the key's current version as the bucket's state
// says, inside tx.
func putCurrent(ctx context.Context, tx *wtx, state VersioningState, rec ObjectRecord) (Change, error) {
	var ch Change
	var err error
	rec.DeleteMarker, rec.IsLatest, rec.NoncurrentSince = false, false, time.Time{}
	switch state {
	case Unversioned:
		if ch.Garbage, err = takeObject(ctx, tx, rec.Bucket, rec.Key); err != nil {
			return ch, err
		}
		rec.VersionID = NullVersionID
	default:
		if state == VersioningSuspended {
			if ch.Garbage, err = removeNull(ctx, tx, rec.Bucket, rec.Key); err != nil {
				return ch, err
			}
		}
		if err := demote(ctx, tx, rec.Bucket, rec.Key, rec.ModTime); err != nil {
			return ch, err
		}
		if rec.VersionKey, err = newestKey(ctx, tx, rec.Bucket, rec.Key, rec.VersionKey); err != nil {
			return ch, err
		}
		rec.VersionID = rec.VersionKey
		if state == VersioningSuspended {
			rec.VersionID = NullVersionID
		}
	}
	ch.VersionID = shown(state, rec.VersionID)
	return ch, insertObject(ctx, tx, rec)
}

// PutObject implements [Catalog].
func (c *SQLiteCatalog) PutObject(ctx context.Context, rec ObjectRecord) (ch Change, err error) {
	err = c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		state, err := bucketState(ctx, tx, rec.Bucket)
		if err != nil {
			return err
		}
		ch, err = putCurrent(ctx, tx, state, rec)
		return err
	})
	if err != nil {
		return Change{}, err
	}
	return ch, nil
}

// DeleteObject implements [Catalog].
func (c *SQLiteCatalog) DeleteObject(ctx context.Context, d DeleteRequest) (ch Change, err error) {
	err = c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		state, err := bucketState(ctx, tx, d.Bucket)
		if err != nil {
			return err
		}
		if d.IfCurrent {
			rec, found, err := readLive(ctx, tx, d.Bucket, d.Key)
			if err != nil {
				return err
			}
			if !found || rec.VersionKey != d.IfVersionKey {
				ch.Skipped = true
				return nil
			}
		}
		if state == Unversioned {
			ch.Garbage, err = takeObject(ctx, tx, d.Bucket, d.Key)
			return err
		}
		m := ObjectRecord{ObjectInfo: ObjectInfo{Bucket: d.Bucket, Key: d.Key, ModTime: d.Time, DeleteMarker: true}}
		if state == VersioningSuspended {
			if ch.Garbage, err = removeNull(ctx, tx, d.Bucket, d.Key); err != nil {
				return err
			}
		}
		if err := demote(ctx, tx, d.Bucket, d.Key, d.Time); err != nil {
			return err
		}
		if m.VersionKey, err = newestKey(ctx, tx, d.Bucket, d.Key, d.MarkerKey); err != nil {
			return err
		}
		m.VersionID = m.VersionKey
		if state == VersioningSuspended {
			m.VersionID = NullVersionID
		}
		ch.VersionID, ch.DeleteMarker = m.VersionID, true
		return insertVersion(ctx, tx, m)
	})
	if err != nil {
		return Change{}, err
	}
	return ch, nil
}

// DeleteVersion implements [Catalog].
func (c *SQLiteCatalog) DeleteVersion(ctx context.Context, d DeleteRequest) (ch Change, err error) {
	err = c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		state, err := bucketState(ctx, tx, d.Bucket)
		if err != nil {
			return err
		}
		rec, live, found, err := findVersion(ctx, tx, d.Bucket, d.Key, d.VersionID)
		if err != nil {
			return err
		}
		ch.VersionID = shown(state, d.VersionID)
		if !found {
			// S3 answers a DELETE of a version that is not there with
			// success, as it does for a missing key.
			ch.Skipped = true
			return nil
		}
		current := live || rec.NoncurrentSince.IsZero()
		switch d.Cond {
		case OnlyNoncurrent:
			if current {
				ch.Skipped = true
				return nil
			}
		case OnlyDanglingMarker:
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM versions WHERE bucket = ? AND obj_key = ? LIMIT 2) t`,
				d.Bucket, []byte(d.Key)).Scan(&n); err != nil {
				return dbErr("count versions", err)
			}
			if live || !rec.DeleteMarker || !current || n != 1 {
				ch.Skipped = true
				return nil
			}
		}
		ch.DeleteMarker = rec.DeleteMarker
		if live {
			_, err = tx.ExecContext(ctx, `DELETE FROM objects WHERE bucket = ? AND obj_key = ?`, d.Bucket, []byte(d.Key))
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM versions WHERE bucket = ? AND obj_key = ? AND sort_id = ?`, d.Bucket, []byte(d.Key), rec.VersionKey)
		}
		if err != nil {
			return dbErr("delete version", err)
		}
		if ch.Garbage, err = dropSegments(ctx, tx, rec.Segments); err != nil {
			return err
		}
		if current {
			return promote(ctx, tx, d.Bucket, d.Key)
		}
		return nil
	})
	if err != nil {
		return Change{}, err
	}
	return ch, nil
}

// SetObjectTags implements [Catalog].
func (c *SQLiteCatalog) SetObjectTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (id string, err error) {
	err = c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		state, err := bucketState(ctx, tx, bucket)
		if err != nil {
			return err
		}
		var rec ObjectRecord
		var live, found bool
		if versionID == "" {
			rec, found, err = readLive(ctx, tx, bucket, key)
			live = true
			if err == nil && !found {
				m, isMarker, merr := currentMarker(ctx, tx, bucket, key)
				if merr != nil {
					return merr
				}
				if isMarker {
					return &DeleteMarkerError{Bucket: bucket, Key: key, VersionID: shown(state, m.VersionID)}
				}
				return fmt.Errorf("%w: %s/%s", ErrNoSuchKey, bucket, key)
			}
		} else {
			rec, live, found, err = findVersion(ctx, tx, bucket, key, versionID)
			if err == nil && !found {
				return fmt.Errorf("%w: version %s of %s/%s", ErrNoSuchVersion, versionID, bucket, key)
			}
		}
		if err != nil {
			return err
		}
		if rec.DeleteMarker {
			return &DeleteMarkerError{Bucket: bucket, Key: key, VersionID: shown(state, rec.VersionID), ByID: true}
		}
		rec.Meta.Tags = tags
		meta := encodeJSON(normMeta(rec.Meta))
		if live {
			_, err = tx.ExecContext(ctx, `UPDATE objects SET meta = ? WHERE bucket = ? AND obj_key = ?`, meta, bucket, []byte(key))
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE versions SET meta = ? WHERE bucket = ? AND obj_key = ? AND sort_id = ?`, meta, bucket, []byte(key), rec.VersionKey)
		}
		if err != nil {
			return dbErr("set tags", err)
		}
		id = shown(state, rec.VersionID)
		return nil
	})
	return id, err
}

// rangeWhere appends r's bounds on obj_key (and idCol, for uploads and
// versions) to a WHERE clause, without ORDER BY or LIMIT. Empty bounds
// add no condition (an empty BLOB may bind as NULL, which compares as
// unknown). The row-value comparison lets SQLite seek the index.
func rangeWhere(r KeyRange, idCol string) (string, []any) {
	var sb strings.Builder
	var args []any
	switch {
	case r.From == "":
		// Every key is >= "" and keys are never empty.
	case r.Inclusive:
		sb.WriteString(` AND obj_key >= ?`)
		args = append(args, []byte(r.From))
	case idCol != "" && r.FromID != "":
		sb.WriteString(` AND (obj_key, ` + idCol + `) > (?, ?)`)
		args = append(args, []byte(r.From), r.FromID)
	default:
		sb.WriteString(` AND obj_key > ?`)
		args = append(args, []byte(r.From))
	}
	if r.To != "" {
		sb.WriteString(` AND obj_key < ?`)
		args = append(args, []byte(r.To))
	}
	return sb.String(), args
}

func limitClause(r KeyRange, args []any) (string, []any) {
	if r.Limit > 0 {
		return ` LIMIT ?`, append(args, r.Limit)
	}
	return "", args
}

// ScanObjects implements [Catalog]: it reads the live index only.
func (c *SQLiteCatalog) ScanObjects(ctx context.Context, bucket string, r KeyRange, fn func(ObjectRecord) bool) error {
	where, args := rangeWhere(r, "")
	limit, args := limitClause(r, append([]any{bucket}, args...))
	rows, err := c.r.QueryContext(ctx, `SELECT `+objectColumns+` FROM objects WHERE bucket = ?`+where+` ORDER BY obj_key`+limit, args...)
	if err != nil {
		return dbErr("list objects", err)
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := scanObject(rows, bucket)
		if err != nil {
			return dbErr("list objects", err)
		}
		if !fn(rec) {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return dbErr("list objects", err)
	}
	return nil
}

// ScanVersions implements [Catalog]: a merge, in (key, version key)
// order, of the live index and the versions table, each read through its
// primary key.
func (c *SQLiteCatalog) ScanVersions(ctx context.Context, bucket string, r KeyRange, fn func(ObjectRecord) bool) error {
	state, err := bucketState(ctx, c.r, bucket)
	if err != nil {
		return err
	}
	where, wargs := rangeWhere(r, "sort_id")
	args := append(append(append([]any{bucket}, wargs...), bucket), wargs...)
	limit, args := limitClause(r, args)
	q := `SELECT ` + objectColumns + `, 0 AS is_marker, 0 AS noncurrent FROM objects WHERE bucket = ?` + where +
		` UNION ALL SELECT ` + versionColumns + ` FROM versions WHERE bucket = ?` + where +
		` ORDER BY obj_key, sort_id` + limit
	rows, err := c.r.QueryContext(ctx, q, args...)
	if err != nil {
		return dbErr("list versions", err)
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := scanVersion(rows, bucket)
		if err != nil {
			return dbErr("list versions", err)
		}
		rec.VersionID = shown(state, rec.VersionID)
		if !fn(rec) {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return dbErr("list versions", err)
	}
	return nil
}
