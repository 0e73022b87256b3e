package objstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
)

// Group commit. With synchronous=FULL every commit fsyncs the WAL, and
// commits are serial (one writer), so without batching a store commits no
// more writes per second than the disk completes fsyncs. Instead, a write
// transaction that arrives while another commits waits in a queue; the
// next committer takes the whole queue and runs each waiting write inside
// a SAVEPOINT of one transaction, so a failing write rolls back alone and
// the others commit with one fsync. Every caller returns only after the
// commit that holds its write is durable (or failed, when it gets the
// error): the promise is the same as one transaction per write, and the
// writes apply in queue order as if run one after the other.

// txJob is one caller's write transaction waiting for a commit.
type txJob struct {
	ctx  context.Context
	fn   func(context.Context, *wtx) error
	err  error
	done chan struct{} // closed once err is final
}

// errBatchAborted is what writes of a batch get when the transaction had
// to be abandoned because of another write in it.
var errBatchAborted = errors.New("catalog: transaction abandoned")

// tx runs fn in a write transaction, first applying pending ForgetGarbage
// calls, and returns once the transaction is committed durably or rolled
// back. fn gets a context that is never cancelled: a statement interrupted
// by a cancelled caller would make SQLite roll back the whole shared
// transaction, so ctx is only checked before fn starts.
func (c *SQLiteCatalog) tx(ctx context.Context, fn func(context.Context, *wtx) error) error {
	job := &txJob{ctx: ctx, fn: fn, done: make(chan struct{})}
	c.queueMu.Lock()
	c.queue = append(c.queue, job)
	c.queueMu.Unlock()

	// Whoever holds commitMu runs a batch; while it commits, writes
	// queue up behind it. The next holder takes them all, unless its own
	// write was already in the batch just committed.
	c.commitMu.Lock()
	select {
	case <-job.done:
		c.commitMu.Unlock()
		return job.err
	default:
	}
	c.queueMu.Lock()
	batch := c.queue
	c.queue = nil
	c.queueMu.Unlock()
	func() {
		defer c.commitMu.Unlock()
		c.runBatch(batch)
		c.prepareWaiting()
	}()
	<-job.done
	return job.err
}

// runBatch runs jobs in one transaction and sets each one's outcome.
func (c *SQLiteCatalog) runBatch(jobs []*txJob) {
	finished := 0
	finish := func(err error) {
		for _, j := range jobs[finished:] {
			if j.err == nil {
				j.err = err
			}
			close(j.done)
		}
		finished = len(jobs)
	}
	defer finish(errBatchAborted) // a panic in fn must not leave waiters

	c.mu.Lock()
	forget := c.forget
	c.forget = nil
	c.mu.Unlock()
	fail := func(err error) {
		c.mu.Lock()
		c.forget = append(c.forget, forget...)
		c.mu.Unlock()
		// Writes that had succeeded inside the transaction are lost
		// with it.
		for _, j := range jobs {
			if j.err == nil {
				j.err = err
			}
		}
		finish(err)
	}

	// The transaction is not any one caller's: it must not end when one
	// of them goes away.
	bg := context.Background()
	stx, err := c.w.BeginTx(bg, nil)
	tx := &wtx{Tx: stx, c: c}
	if err == nil {
		// A panicking write must not leave the only write connection
		// inside a transaction.
		defer func() {
			if r := recover(); r != nil {
				tx.Rollback()
				fail(errBatchAborted)
				panic(r)
			}
		}()
	}
	if err != nil {
		fail(fmt.Errorf("catalog: begin: %w", err))
		return
	}
	for _, id := range forget {
		if _, err := tx.ExecContext(bg, `DELETE FROM garbage WHERE file_id = ?`, id); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("catalog: forget garbage: %w", err))
			return
		}
	}
	if len(jobs) == 1 {
		j := jobs[0]
		if j.err = j.ctx.Err(); j.err == nil {
			j.err = j.fn(context.WithoutCancel(j.ctx), tx)
		}
		if j.err != nil {
			tx.Rollback()
			err := j.err
			j.err = nil // fail sets it back; forget is restored
			fail(err)
			return
		}
	} else {
		for _, j := range jobs {
			if err := c.runSaved(tx, j); err != nil {
				tx.Rollback()
				fail(err)
				return
			}
		}
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("catalog: commit: %w", err))
		return
	}
	finish(nil)
}

// runSaved runs one job of a batch inside a savepoint, rolling back to it
// if the job fails. The job's outcome goes to j.err; the error returned
// means the transaction itself is broken (SQLite rolled it back, or the
// savepoint could not be handled) and the whole batch must fail.
func (c *SQLiteCatalog) runSaved(tx *wtx, j *txJob) error {
	if j.err = j.ctx.Err(); j.err != nil {
		return nil
	}
	bg := context.Background()
	if _, err := tx.ExecContext(bg, `SAVEPOINT batch_write`); err != nil {
		return fmt.Errorf("catalog: savepoint: %w", err)
	}
	j.err = j.fn(context.WithoutCancel(j.ctx), tx)
	if j.err != nil {
		if _, err := tx.ExecContext(bg, `ROLLBACK TO batch_write`); err != nil {
			return fmt.Errorf("%w: roll back a failed write: %w", errBatchAborted, err)
		}
	}
	// RELEASE fails when SQLite has rolled the transaction back under a
	// write (an I/O or full-disk error): the batch is then lost.
	if _, err := tx.ExecContext(bg, `RELEASE batch_write`); err != nil {
		return fmt.Errorf("%w: release savepoint: %w", errBatchAborted, err)
	}
	return nil
}

// wtx is a write transaction whose statements are prepared once per
// catalog and reused: parsing the SQL of a PUT's half dozen statements
// anew on every write cost about an eighth of the server's CPU on small
// PUTs. Its methods shadow those of sql.Tx.
type wtx struct {
	*sql.Tx
	c *SQLiteCatalog
}

// maxCachedStmts bounds the statement cache; the write statements are
// constants, far fewer than this.
const maxCachedStmts = 128

// stmt returns query prepared on the write connection, or nil when it is
// not (yet) prepared. A statement cannot be prepared on the one write
// connection while a transaction holds it, so a new query is noted and
// prepared by prepareWaiting once the transaction is over.
func (c *SQLiteCatalog) stmt(query string) *sql.Stmt {
	c.stmtMu.Lock()
	defer c.stmtMu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts)+len(c.toPrepare) < maxCachedStmts && !slices.Contains(c.toPrepare, query) {
		c.toPrepare = append(c.toPrepare, query)
	}
	return nil
}

// prepareWaiting prepares the queries stmt noted. The caller holds
// commitMu, so no transaction holds the write connection.
func (c *SQLiteCatalog) prepareWaiting() {
	c.stmtMu.Lock()
	defer c.stmtMu.Unlock()
	for _, q := range c.toPrepare {
		st, err := c.w.Prepare(q)
		if err != nil {
			continue // it runs unprepared, which reports the error
		}
		if c.stmts == nil {
			c.stmts = make(map[string]*sql.Stmt)
		}
		c.stmts[q] = st
	}
	c.toPrepare = nil
}

// ExecContext is sql.Tx's, through the statement cache.
func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.c.stmt(query); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryRowContext is sql.Tx's, through the statement cache.
func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.c.stmt(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// QueryContext is sql.Tx's, through the statement cache.
func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.c.stmt(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}
