package objstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// CreateUpload implements [Catalog].
func (c *SQLiteCatalog) CreateUpload(ctx context.Context, u Upload) error {
	return c.tx(ctx, func(ctx context.Context, tx *wtx) error {
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
	err = c.tx(ctx, func(ctx context.Context, tx *wtx) error {
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
func dropUpload(ctx context.Context, tx *wtx, uploadID string, keep func(id string) bool) ([]string, error) {
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
func (c *SQLiteCatalog) CompleteUpload(ctx context.Context, uploadID string, rec ObjectRecord) (ch Change, err error) {
	err = c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		if _, err := getUpload(ctx, tx, rec.Bucket, rec.Key, uploadID); err != nil {
			return err
		}
		state, err := bucketState(ctx, tx, rec.Bucket)
		if err != nil {
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
		if ch, err = putCurrent(ctx, tx, state, rec); err != nil {
			return err
		}
		ch.Garbage = append(unused, ch.Garbage...)
		return nil
	})
	if err != nil {
		return Change{}, err
	}
	return ch, nil
}

// AbortUpload implements [Catalog].
func (c *SQLiteCatalog) AbortUpload(ctx context.Context, bucket, key, uploadID string) (garbage []string, err error) {
	err = c.tx(ctx, func(ctx context.Context, tx *wtx) error {
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
	where, args := rangeWhere(r, "upload_id")
	limit, args := limitClause(r, append([]any{bucket}, args...))
	rows, err := c.r.QueryContext(ctx, `SELECT upload_id, obj_key, initiated, meta FROM uploads WHERE bucket = ?`+where+
		` ORDER BY obj_key, upload_id`+limit, args...)
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
