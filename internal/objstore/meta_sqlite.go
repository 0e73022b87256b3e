package objstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// The schema keeps to SQL that PostgreSQL accepts too (BLOB becomes BYTEA).
// Object keys are BLOBs so that every engine compares them byte by byte
// (SQLite's BINARY collation on BLOBs is memcmp; PostgreSQL's BYTEA
// likewise), which is S3's UTF-8 binary listing order; TEXT would follow a
// locale's collation in PostgreSQL. Keys must therefore always be bound as
// []byte: SQLite orders every TEXT value before every BLOB.
const sqliteSchema = `
BEGIN;
CREATE TABLE IF NOT EXISTS buckets (
	name        TEXT PRIMARY KEY,
	created     BIGINT NOT NULL,
	public_read INTEGER NOT NULL,
	versioning  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS objects (
	bucket      TEXT NOT NULL,
	obj_key     BLOB NOT NULL,
	size        BIGINT NOT NULL,
	mtime       BIGINT NOT NULL,
	etag        TEXT NOT NULL,
	md5         BLOB,
	crc_nvme    BIGINT NOT NULL,
	crc_ecma    BIGINT NOT NULL,
	parts_count INTEGER NOT NULL,
	meta        TEXT NOT NULL,
	segments    TEXT NOT NULL,
	version_id  TEXT NOT NULL DEFAULT 'null',
	sort_id     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (bucket, obj_key)
);
CREATE TABLE IF NOT EXISTS versions (
	bucket      TEXT NOT NULL,
	obj_key     BLOB NOT NULL,
	sort_id     TEXT NOT NULL,
	version_id  TEXT NOT NULL,
	is_marker   INTEGER NOT NULL,
	noncurrent  BIGINT NOT NULL,
	size        BIGINT NOT NULL,
	mtime       BIGINT NOT NULL,
	etag        TEXT NOT NULL,
	md5         BLOB,
	crc_nvme    BIGINT NOT NULL,
	crc_ecma    BIGINT NOT NULL,
	parts_count INTEGER NOT NULL,
	meta        TEXT NOT NULL,
	segments    TEXT NOT NULL,
	PRIMARY KEY (bucket, obj_key, sort_id)
);
CREATE INDEX IF NOT EXISTS versions_by_id ON versions (bucket, obj_key, version_id);
CREATE TABLE IF NOT EXISTS bucket_configs (
	bucket TEXT NOT NULL,
	name   TEXT NOT NULL,
	doc    BLOB NOT NULL,
	PRIMARY KEY (bucket, name)
);
CREATE TABLE IF NOT EXISTS uploads (
	upload_id TEXT PRIMARY KEY,
	bucket    TEXT NOT NULL,
	obj_key   BLOB NOT NULL,
	initiated BIGINT NOT NULL,
	meta      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, obj_key, upload_id);
CREATE TABLE IF NOT EXISTS parts (
	upload_id   TEXT NOT NULL,
	part_number INTEGER NOT NULL,
	size        BIGINT NOT NULL,
	mtime       BIGINT NOT NULL,
	etag        TEXT NOT NULL,
	md5         BLOB NOT NULL,
	crc_nvme    BIGINT NOT NULL,
	crc_ecma    BIGINT NOT NULL,
	file_id     TEXT NOT NULL,
	PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE IF NOT EXISTS garbage (
	file_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS inline_data (
	id   TEXT PRIMARY KEY,
	data BLOB
);
COMMIT;
`

// SQLiteCatalog is the embedded [Catalog] engine: one SQLite database in
// WAL mode.
//
// Durability: synchronous=FULL, so every commit fsyncs the WAL and an
// acknowledged write survives power loss, as S3 promises. (NORMAL in WAL
// mode survives a process crash but may lose the last commits on power
// loss; the data files are fsynced before the commit anyway, so the extra
// fsync per write is the price of keeping the row with its data.)
//
// Concurrency: writes go through one connection, so write transactions
// queue instead of failing with SQLITE_BUSY; they begin IMMEDIATE to take
// the write lock up front. Writes that arrive while a commit is under way
// are committed together by the next transaction, each in a savepoint of
// its own (group commit): one WAL fsync serves them all, and each caller
// returns only once that commit is durable. Reads use a separate pool and
// run alongside writes, as WAL allows.
type SQLiteCatalog struct {
	w *sql.DB // one connection: all write transactions
	r *sql.DB // read-only pool

	// mu guards forget: garbage IDs whose files are gone, deleted from the
	// journal by the next write transaction instead of one of their own.
	mu     sync.Mutex
	forget []string

	// Group commit (see tx): write transactions waiting while one
	// commits are run together in the next one.
	queueMu  sync.Mutex
	queue    []*txJob
	commitMu sync.Mutex // held by the goroutine running a batch

	configs configCache

	// The queries of every GET and PUT, prepared once: parsing them on
	// every request cost more than running them.
	getObject, getBucket, readInline *sql.Stmt

	// Write statements, prepared on first use (see wtx).
	stmtMu    sync.Mutex
	stmts     map[string]*sql.Stmt
	toPrepare []string
}

var _ Catalog = (*SQLiteCatalog)(nil)

// OpenSQLiteCatalog opens (creating if needed) the catalog database at path.
func OpenSQLiteCatalog(path string) (*SQLiteCatalog, error) {
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open catalog: path %q must not contain '?'", path)
	}
	const common = "_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL"
	w, err := sql.Open("sqlite", path+"?"+common+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if _, err := w.Exec(sqliteSchema); err != nil {
		w.Close()
		return nil, fmt.Errorf("create catalog schema in %s: %w", path, err)
	}
	if err := migrateSQLite(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate catalog schema in %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	c := &SQLiteCatalog{w: w, r: r}
	if c.getObject, err = r.Prepare(getObjectQuery); err == nil {
		c.getBucket, err = r.Prepare(getBucketQuery)
	}
	if err == nil {
		c.readInline, err = r.Prepare(readInlineQuery)
	}
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("open catalog: prepare: %w", err)
	}
	return c, nil
}

// Close flushes the garbage journal and closes the database.
func (c *SQLiteCatalog) Close() error {
	err := c.tx(context.Background(), func(context.Context, *wtx) error { return nil })
	for _, st := range []*sql.Stmt{c.getObject, c.getBucket, c.readInline} {
		if serr := st.Close(); err == nil {
			err = serr
		}
	}
	c.stmtMu.Lock()
	for _, st := range c.stmts {
		if serr := st.Close(); err == nil {
			err = serr
		}
	}
	c.stmts = nil
	c.stmtMu.Unlock()
	if rerr := c.r.Close(); err == nil {
		err = rerr
	}
	if werr := c.w.Close(); err == nil {
		err = werr
	}
	return err
}

func dbErr(op string, err error) error {
	return fmt.Errorf("catalog: %s: %w", op, err)
}

// queryer is what reads need: the read pool, or a write transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func bucketExists(ctx context.Context, q queryer, name string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM buckets WHERE name = ?`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrNoSuchBucket, name)
	}
	if err != nil {
		return dbErr("get bucket", err)
	}
	return nil
}

// CreateBucket implements [Catalog].
func (c *SQLiteCatalog) CreateBucket(ctx context.Context, b Bucket) error {
	defer c.configs.drop(b.Name, "")
	return c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		if bucketExists(ctx, tx, b.Name) == nil {
			return fmt.Errorf("%w: %s", ErrBucketExists, b.Name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO buckets (name, created, public_read) VALUES (?, ?, ?)`,
			b.Name, b.Created.UnixNano(), boolInt(b.PublicRead))
		if err != nil {
			return dbErr("create bucket", err)
		}
		return nil
	})
}

// DeleteBucket implements [Catalog].
func (c *SQLiteCatalog) DeleteBucket(ctx context.Context, name string) error {
	defer c.configs.drop(name, "")
	return c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		if err := bucketExists(ctx, tx, name); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM objects WHERE bucket = ? LIMIT 1) t`, name).Scan(&n); err != nil {
			return dbErr("delete bucket", err)
		}
		if n > 0 {
			return fmt.Errorf("%w: %s holds objects", ErrBucketNotEmpty, name)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM versions WHERE bucket = ? LIMIT 1) t`, name).Scan(&n); err != nil {
			return dbErr("delete bucket", err)
		}
		if n > 0 {
			return fmt.Errorf("%w: %s holds object versions or delete markers; delete them by version ID first", ErrBucketNotEmpty, name)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM uploads WHERE bucket = ?`, name).Scan(&n); err != nil {
			return dbErr("delete bucket", err)
		}
		if n > 0 {
			return fmt.Errorf("%w: %s has %d multipart uploads in progress; abort them first", ErrBucketNotEmpty, name, n)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bucket_configs WHERE bucket = ?`, name); err != nil {
			return dbErr("delete bucket", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM buckets WHERE name = ?`, name); err != nil {
			return dbErr("delete bucket", err)
		}
		return nil
	})
}

const getBucketQuery = `SELECT created, public_read, versioning FROM buckets WHERE name = ?`

// GetBucket implements [Catalog].
func (c *SQLiteCatalog) GetBucket(ctx context.Context, name string) (Bucket, error) {
	var created int64
	var public int
	var versioning string
	err := c.getBucket.QueryRowContext(ctx, name).Scan(&created, &public, &versioning)
	if errors.Is(err, sql.ErrNoRows) {
		return Bucket{}, fmt.Errorf("%w: %s", ErrNoSuchBucket, name)
	}
	if err != nil {
		return Bucket{}, dbErr("get bucket", err)
	}
	return Bucket{Name: name, Created: fromNanos(created), PublicRead: public != 0, Versioning: VersioningState(versioning)}, nil
}

// ListBuckets implements [Catalog].
func (c *SQLiteCatalog) ListBuckets(ctx context.Context) ([]Bucket, error) {
	rows, err := c.r.QueryContext(ctx, `SELECT name, created, public_read, versioning FROM buckets ORDER BY name`)
	if err != nil {
		return nil, dbErr("list buckets", err)
	}
	defer rows.Close()
	var out []Bucket
	for rows.Next() {
		var b Bucket
		var created int64
		var public int
		var versioning string
		if err := rows.Scan(&b.Name, &created, &public, &versioning); err != nil {
			return nil, dbErr("list buckets", err)
		}
		b.Created, b.PublicRead, b.Versioning = fromNanos(created), public != 0, VersioningState(versioning)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("list buckets", err)
	}
	return out, nil
}

// SetBucketPublicRead implements [Catalog].
func (c *SQLiteCatalog) SetBucketPublicRead(ctx context.Context, name string, public bool) error {
	return c.tx(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE buckets SET public_read = ? WHERE name = ?`, boolInt(public), name)
		if err != nil {
			return dbErr("set bucket public-read", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", ErrNoSuchBucket, name)
		}
		return nil
	})
}

// ListParts implements [Catalog].
func (c *SQLiteCatalog) ListParts(ctx context.Context, bucket, key, uploadID string, after, limit int) ([]PartRecord, error) {
	query := `SELECT p.part_number, p.size, p.mtime, p.etag, p.md5, p.crc_nvme, p.crc_ecma, p.file_id
		FROM parts p JOIN uploads u ON u.upload_id = p.upload_id
		WHERE p.upload_id = ? AND u.bucket = ? AND u.obj_key = ? AND p.part_number > ?
		ORDER BY p.part_number`
	args := []any{uploadID, bucket, []byte(key), after}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := c.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbErr("list parts", err)
	}
	defer rows.Close()
	var out []PartRecord
	for rows.Next() {
		var p PartRecord
		var mtime, nvme, ecma int64
		if err := rows.Scan(&p.PartNumber, &p.Size, &mtime, &p.ETag, &p.MD5, &nvme, &ecma, &p.FileID); err != nil {
			return nil, dbErr("list parts", err)
		}
		p.ModTime, p.CRC64NVME, p.CRC64ECMA = fromNanos(mtime), uint64(nvme), uint64(ecma)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("list parts", err)
	}
	return out, nil
}

// PendingGarbage implements [Catalog].
func (c *SQLiteCatalog) PendingGarbage(ctx context.Context) ([]string, error) {
	return c.strings(ctx, `SELECT file_id FROM garbage`)
}

// ForgetGarbage implements [Catalog]: the IDs are deleted from the journal
// by the next write transaction (or Close), saving a commit per overwrite.
func (c *SQLiteCatalog) ForgetGarbage(ctx context.Context, ids []string) error {
	c.mu.Lock()
	c.forget = append(c.forget, ids...)
	c.mu.Unlock()
	return nil
}

// ReferencedFiles implements [Catalog].
func (c *SQLiteCatalog) ReferencedFiles(ctx context.Context, fn func(id string)) error {
	ids, err := c.strings(ctx, `SELECT file_id FROM parts`)
	if err != nil {
		return err
	}
	for _, id := range ids {
		fn(id)
	}
	for _, table := range []string{"objects", "versions"} {
		if err := c.segmentFiles(ctx, table, fn); err != nil {
			return err
		}
	}
	return nil
}

func (c *SQLiteCatalog) segmentFiles(ctx context.Context, table string, fn func(id string)) error {
	rows, err := c.r.QueryContext(ctx, `SELECT segments FROM `+table)
	if err != nil {
		return dbErr("referenced files", err)
	}
	defer rows.Close()
	for rows.Next() {
		var enc string
		if err := rows.Scan(&enc); err != nil {
			return dbErr("referenced files", err)
		}
		segs, err := decodeSegments(enc)
		if err != nil {
			return err
		}
		for _, s := range segs {
			if !s.Inline {
				fn(s.FileID)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return dbErr("referenced files", err)
	}
	return nil
}

func (c *SQLiteCatalog) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := c.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbErr("query", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, dbErr("query", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("query", err)
	}
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // Meta and []Segment always marshal
	}
	return string(b)
}

func decodeMeta(s string) (Meta, error) {
	var m Meta
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return Meta{}, fmt.Errorf("catalog: decode metadata: %w", err)
	}
	return normMeta(m), nil
}

func decodeSegments(s string) ([]Segment, error) {
	var segs []Segment
	if err := json.Unmarshal([]byte(s), &segs); err != nil {
		return nil, fmt.Errorf("catalog: decode segments: %w", err)
	}
	return segs, nil
}
