package objstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SetBucketVersioning implements [Catalog].
func (c *SQLiteCatalog) SetBucketVersioning(ctx context.Context, name string, state VersioningState) error {
	return c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE buckets SET versioning = ? WHERE name = ?`, string(state), name)
		if err != nil {
			return dbErr("set bucket versioning", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", ErrNoSuchBucket, name)
		}
		return nil
	})
}

// PutBucketConfig implements [Catalog].
func (c *SQLiteCatalog) PutBucketConfig(ctx context.Context, bucket, name string, doc []byte) error {
	defer c.configs.drop(bucket, name)
	return c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		if err := bucketExists(ctx, tx, bucket); err != nil {
			return err
		}
		if doc == nil {
			doc = []byte{}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO bucket_configs (bucket, name, doc) VALUES (?, ?, ?)
			ON CONFLICT (bucket, name) DO UPDATE SET doc = excluded.doc`, bucket, name, doc)
		if err != nil {
			return dbErr("put bucket "+name, err)
		}
		return nil
	})
}

// GetBucketConfig implements [Catalog]. Documents, and their absence from
// an existing bucket, are cached (see configCache).
func (c *SQLiteCatalog) GetBucketConfig(ctx context.Context, bucket, name string) ([]byte, error) {
	e, ok, gen := c.configs.get(bucket, name)
	if ok {
		if e.none {
			return nil, noConfigError(bucket, name)
		}
		return e.doc, nil
	}
	var doc []byte
	err := c.r.QueryRowContext(ctx, `SELECT doc FROM bucket_configs WHERE bucket = ? AND name = ?`, bucket, name).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		if berr := bucketExists(ctx, c.r, bucket); berr != nil {
			return nil, berr
		}
		c.configs.put(bucket, name, configEntry{none: true}, gen)
		return nil, noConfigError(bucket, name)
	}
	if err != nil {
		return nil, dbErr("get bucket "+name, err)
	}
	if doc == nil {
		doc = []byte{}
	}
	c.configs.put(bucket, name, configEntry{doc: doc}, gen)
	return doc, nil
}

func noConfigError(bucket, name string) error {
	return fmt.Errorf("%w: bucket %s has no %s configuration", ErrNoSuchBucketConfig, bucket, name)
}

// DeleteBucketConfig implements [Catalog].
func (c *SQLiteCatalog) DeleteBucketConfig(ctx context.Context, bucket, name string) error {
	defer c.configs.drop(bucket, name)
	return c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		if err := bucketExists(ctx, tx, bucket); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bucket_configs WHERE bucket = ? AND name = ?`, bucket, name); err != nil {
			return dbErr("delete bucket "+name, err)
		}
		return nil
	})
}
