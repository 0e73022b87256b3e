package objstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

const objectColumns = `obj_key, size, mtime, etag, md5, crc_nvme, crc_ecma, parts_count, meta, segments`

type scanner interface{ Scan(dest ...any) error }

func scanObject(sc scanner, bucket string) (ObjectRecord, error) {
	var rec ObjectRecord
	var key []byte
	var mtime, nvme, ecma int64
	var meta, segs string
	if err := sc.Scan(&key, &rec.Size, &mtime, &rec.ETag, &rec.MD5, &nvme, &ecma, &rec.PartsCount, &meta, &segs); err != nil {
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

// GetObject implements [Catalog].
func (c *SQLiteCatalog) GetObject(ctx context.Context, bucket, key string) (ObjectRecord, error) {
	row := c.r.QueryRowContext(ctx, `SELECT `+objectColumns+` FROM objects WHERE bucket = ? AND obj_key = ?`, bucket, []byte(key))
	rec, err := scanObject(row, bucket)
	if errors.Is(err, sql.ErrNoRows) {
		if berr := bucketExists(ctx, c.r, bucket); berr != nil {
			return ObjectRecord{}, berr
		}
		return ObjectRecord{}, fmt.Errorf("%w: %s/%s", ErrNoSuchKey, bucket, key)
	}
	if err != nil {
		return ObjectRecord{}, dbErr("get object", err)
	}
	return rec, nil
}

// takeObject deletes bucket/key's row, if any, inside tx, journals its
// files as garbage and returns them.
func takeObject(ctx context.Context, tx *sql.Tx, bucket, key string) ([]string, error) {
	var enc string
	err := tx.QueryRowContext(ctx, `SELECT segments FROM objects WHERE bucket = ? AND obj_key = ?`, bucket, []byte(key)).Scan(&enc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbErr("read object", err)
	}
	segs, err := decodeSegments(enc)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE bucket = ? AND obj_key = ?`, bucket, []byte(key)); err != nil {
		return nil, dbErr("delete object", err)
	}
	ids := make([]string, len(segs))
	for i, s := range segs {
		ids[i] = s.FileID
	}
	return ids, journalGarbage(ctx, tx, ids)
}

func journalGarbage(ctx context.Context, tx *sql.Tx, ids []string) error {
	for _, id := range ids {
		// A hard-linked copy has its own ID, so an ID is never journaled
		// twice; the conflict clause only makes a retry harmless.
		if _, err := tx.ExecContext(ctx, `INSERT INTO garbage (file_id) VALUES (?) ON CONFLICT (file_id) DO NOTHING`, id); err != nil {
			return dbErr("journal garbage", err)
		}
	}
	return nil
}

func insertObject(ctx context.Context, tx *sql.Tx, rec ObjectRecord) error {
	md5 := rec.MD5
	if md5 == nil {
		md5 = []byte{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO objects (bucket, `+objectColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.Bucket, []byte(rec.Key), rec.Size, rec.ModTime.UnixNano(), rec.ETag, md5,
		int64(rec.CRC64NVME), int64(rec.CRC64ECMA), rec.PartsCount,
		encodeJSON(rec.Meta), encodeJSON(rec.Segments))
	if err != nil {
		return dbErr("insert object", err)
	}
	return nil
}

// PutObject implements [Catalog].
func (c *SQLiteCatalog) PutObject(ctx context.Context, rec ObjectRecord) (garbage []string, err error) {
	err = c.tx(ctx, func(tx *sql.Tx) error {
		if err := bucketExists(ctx, tx, rec.Bucket); err != nil {
			return err
		}
		if garbage, err = takeObject(ctx, tx, rec.Bucket, rec.Key); err != nil {
			return err
		}
		return insertObject(ctx, tx, rec)
	})
	if err != nil {
		return nil, err
	}
	return garbage, nil
}

// DeleteObject implements [Catalog].
func (c *SQLiteCatalog) DeleteObject(ctx context.Context, bucket, key string) (garbage []string, err error) {
	err = c.tx(ctx, func(tx *sql.Tx) error {
		if err := bucketExists(ctx, tx, bucket); err != nil {
			return err
		}
		garbage, err = takeObject(ctx, tx, bucket, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	return garbage, nil
}

// rangeWhere appends r's bounds on obj_key (and upload_id, for uploads) to
// a WHERE clause. Empty bounds add no condition (an empty BLOB may bind as
// NULL, which compares as unknown).
func rangeWhere(r KeyRange, uploads bool) (string, []any) {
	var sb strings.Builder
	var args []any
	switch {
	case r.From == "":
		// Every key is >= "" and keys are never empty.
	case r.Inclusive:
		sb.WriteString(` AND obj_key >= ?`)
		args = append(args, []byte(r.From))
	case uploads && r.FromID != "":
		sb.WriteString(` AND (obj_key > ? OR (obj_key = ? AND upload_id > ?))`)
		args = append(args, []byte(r.From), []byte(r.From), r.FromID)
	default:
		sb.WriteString(` AND obj_key > ?`)
		args = append(args, []byte(r.From))
	}
	if r.To != "" {
		sb.WriteString(` AND obj_key < ?`)
		args = append(args, []byte(r.To))
	}
	if uploads {
		sb.WriteString(` ORDER BY obj_key, upload_id`)
	} else {
		sb.WriteString(` ORDER BY obj_key`)
	}
	if r.Limit > 0 {
		sb.WriteString(` LIMIT ?`)
		args = append(args, r.Limit)
	}
	return sb.String(), args
}

// ScanObjects implements [Catalog].
func (c *SQLiteCatalog) ScanObjects(ctx context.Context, bucket string, r KeyRange, fn func(ObjectRecord) bool) error {
	where, args := rangeWhere(r, false)
	rows, err := c.r.QueryContext(ctx, `SELECT `+objectColumns+` FROM objects WHERE bucket = ?`+where, append([]any{bucket}, args...)...)
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

// CreateUpload implements [Catalog].
func (c *SQLiteCatalog) CreateUpload(ctx context.Context, u Upload) error {
	return c.tx(ctx, func(tx *sql.Tx) error {
		if err := bucketExists(ctx, tx, u.Bucket); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO uploads (upload_id, bucket, obj_key, initiated, meta) VALUES (?, ?, ?, ?, ?)`,
			u.UploadID, u.Bucket, []byte(u.Key), u.Initiated.UnixNano(), encodeJSON(u.Meta))
		if err != nil {
			return dbErr("create upload", err)
		}
		return nil
	})
}

func getUpload(ctx context.Context, q queryer, bucket, key, uploadID string) (Upload, error) {
	u := Upload{Bucket: bucket, Key: key, UploadID: uploadID}
	var initiated int64
	var meta string
	err := q.QueryRowContext(ctx, `SELECT initiated, meta FROM uploads WHERE upload_id = ? AND bucket = ? AND obj_key = ?`,
		uploadID, bucket, []byte(key)).Scan(&initiated, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, fmt.Errorf("%w: %s for %s/%s", ErrNoSuchUpload, uploadID, bucket, key)
	}
	if err != nil {
		return Upload{}, dbErr("get upload", err)
	}
	u.Initiated = fromNanos(initiated)
	u.Meta, err = decodeMeta(meta)
	return u, err
}

// GetUpload implements [Catalog].
func (c *SQLiteCatalog) GetUpload(ctx context.Context, bucket, key, uploadID string) (Upload, error) {
	return getUpload(ctx, c.r, bucket, key, uploadID)
}

// PutPart implements [Catalog].
func (c *SQLiteCatalog) PutPart(ctx context.Context, bucket, key, uploadID string, p PartRecord) (garbage []string, err error) {
	err = c.tx(ctx, func(tx *sql.Tx) error {
		if _, err := getUpload(ctx, tx, bucket, key, uploadID); err != nil {
			return err
		}
		var old string
		err := tx.QueryRowContext(ctx, `SELECT file_id FROM parts WHERE upload_id = ? AND part_number = ?`, uploadID, p.PartNumber).Scan(&old)
		switch {
		case err == nil:
			garbage = []string{old}
			if err := journalGarbage(ctx, tx, garbage); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM parts WHERE upload_id = ? AND part_number = ?`, uploadID, p.PartNumber); err != nil {
				return dbErr("replace part", err)
			}
		case !errors.Is(err, sql.ErrNoRows):
			return dbErr("read part", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO parts (upload_id, part_number, size, mtime, etag, md5, crc_nvme, crc_ecma, file_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			uploadID, p.PartNumber, p.Size, p.ModTime.UnixNano(), p.ETag, p.MD5, int64(p.CRC64NVME), int64(p.CRC64ECMA), p.FileID)
		if err != nil {
			return dbErr("insert part", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return garbage, nil
}

// dropUpload deletes an upload and its parts inside tx and returns the
// parts' files that keep is false for, journaled as garbage.
func dropUpload(ctx context.Context, tx *sql.Tx, uploadID string, keep func(id string) bool) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT file_id FROM parts WHERE upload_id = ?`, uploadID)
	if err != nil {
		return nil, dbErr("read parts", err)
	}
	var drop []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, dbErr("read parts", err)
		}
		if !keep(id) {
			drop = append(drop, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbErr("read parts", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM parts WHERE upload_id = ?`, uploadID); err != nil {
		return nil, dbErr("delete parts", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE upload_id = ?`, uploadID); err != nil {
		return nil, dbErr("delete upload", err)
	}
	return drop, journalGarbage(ctx, tx, drop)
}

// CompleteUpload implements [Catalog].
func (c *SQLiteCatalog) CompleteUpload(ctx context.Context, uploadID string, rec ObjectRecord) (garbage []string, err error) {
	err = c.tx(ctx, func(tx *sql.Tx) error {
		if _, err := getUpload(ctx, tx, rec.Bucket, rec.Key, uploadID); err != nil {
			return err
		}
		used := make(map[string]bool, len(rec.Segments))
		for _, s := range rec.Segments {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM parts WHERE upload_id = ? AND file_id = ?`, uploadID, s.FileID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: a listed part was replaced while the upload was being completed", ErrInvalidPart)
			}
			if err != nil {
				return dbErr("read part", err)
			}
			used[s.FileID] = true
		}
		unused, err := dropUpload(ctx, tx, uploadID, func(id string) bool { return used[id] })
		if err != nil {
			return err
		}
		replaced, err := takeObject(ctx, tx, rec.Bucket, rec.Key)
		if err != nil {
			return err
		}
		garbage = append(unused, replaced...)
		return insertObject(ctx, tx, rec)
	})
	if err != nil {
		return nil, err
	}
	return garbage, nil
}

// AbortUpload implements [Catalog].
func (c *SQLiteCatalog) AbortUpload(ctx context.Context, bucket, key, uploadID string) (garbage []string, err error) {
	err = c.tx(ctx, func(tx *sql.Tx) error {
		if _, err := getUpload(ctx, tx, bucket, key, uploadID); err != nil {
			return err
		}
		garbage, err = dropUpload(ctx, tx, uploadID, func(string) bool { return false })
		return err
	})
	if err != nil {
		return nil, err
	}
	return garbage, nil
}

// ScanUploads implements [Catalog].
func (c *SQLiteCatalog) ScanUploads(ctx context.Context, bucket string, r KeyRange, fn func(Upload) bool) error {
	where, args := rangeWhere(r, true)
	rows, err := c.r.QueryContext(ctx, `SELECT upload_id, obj_key, initiated, meta FROM uploads WHERE bucket = ?`+where,
		append([]any{bucket}, args...)...)
	if err != nil {
		return dbErr("list uploads", err)
	}
	defer rows.Close()
	for rows.Next() {
		u := Upload{Bucket: bucket}
		var key []byte
		var initiated int64
		var meta string
		if err := rows.Scan(&u.UploadID, &key, &initiated, &meta); err != nil {
			return dbErr("list uploads", err)
		}
		u.Key, u.Initiated = string(key), fromNanos(initiated)
		if u.Meta, err = decodeMeta(meta); err != nil {
			return err
		}
		if !fn(u) {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return dbErr("list uploads", err)
	}
	return nil
}
