package objstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	fn   func(context.Context, *sql.Tx) error
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
func (c *SQLiteCatalog) tx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
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
	tx, err := c.w.BeginTx(bg, nil)
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
func (c *SQLiteCatalog) runSaved(tx *sql.Tx, j *txJob) error {
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
