package objstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Inline data lives in a table of its own, inline_data, keyed by the
// segment's ID: the objects table (the live index that listings read)
// keeps rows of the same size whether the data is inline or not, so
// listing cost is unchanged (case C27). Rows are inserted in the
// transaction that commits the version and deleted in the one that drops
// it (dropSegments), so, unlike data files, inline data needs no garbage
// journal and no cleanup at Open.

var _ InlineCatalog = (*SQLiteCatalog)(nil)

const readInlineQuery = `SELECT data FROM inline_data WHERE id = ?`

// PutInlineObject implements [InlineCatalog].
func (c *SQLiteCatalog) PutInlineObject(ctx context.Context, rec ObjectRecord, data []byte) (ch Change, err error) {
	id, ok := inlineID(rec.Segments)
	if !ok || int64(len(data)) != rec.Size {
		return Change{}, fmt.Errorf("catalog: put inline object %s/%s: the record needs one inline segment of the data's %d bytes", rec.Bucket, rec.Key, len(data))
	}
	err = c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		state, err := bucketState(ctx, tx, rec.Bucket)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inline_data (id, data) VALUES (?, ?)`, id, data); err != nil {
			return dbErr("insert inline data", err)
		}
		ch, err = putCurrent(ctx, tx, state, rec)
		return err
	})
	if err != nil {
		return Change{}, err
	}
	return ch, nil
}

// ReadInline implements [InlineCatalog].
func (c *SQLiteCatalog) ReadInline(ctx context.Context, id string) ([]byte, error) {
	var data []byte
	err := c.readInline.QueryRowContext(ctx, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNoInlineData, id)
	}
	if err != nil {
		return nil, dbErr("read inline data", err)
	}
	if data == nil {
		data = []byte{} // an empty object's data may bind as NULL
	}
	return data, nil
}

// inlineID returns the ID of segs' inline data, if segs is one inline
// segment (the only form inline data takes).
func inlineID(segs []Segment) (string, bool) {
	if len(segs) != 1 || !segs[0].Inline {
		return "", false
	}
	return segs[0].FileID, true
}
