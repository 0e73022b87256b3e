package edge

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAccessLogQueue is the queue length of an AccessLogWriter whose
// options give none.
const DefaultAccessLogQueue = 8192

// maxRecordBuffer bounds the encoding buffer an AccessLogWriter keeps
// between records; a larger record gets a buffer of its own.
const maxRecordBuffer = 64 << 10

// AccessLogOptions configure an AccessLogWriter.
type AccessLogOptions struct {
	// Queue bounds the records waiting to be written. If zero,
	// DefaultAccessLogQueue.
	Queue int
	// Node names the node in the writer's own "drop" records.
	Node string
	// Logger receives write and reopen failures. If nil, they are
	// discarded.
	Logger *slog.Logger
}

// AccessLogWriter writes access records as JSON lines, one per record,
// from a goroutine of its own, so that serving never waits for the disk.
// Its queue is bounded: when it is full (the disk cannot keep up) Log drops
// the record and counts it; the writer then writes a record of kind "drop"
// saying how many were lost, so the log itself shows the gap.
type AccessLogWriter struct {
	opts   AccessLogOptions
	open   func() (io.WriteCloser, error)
	q      chan *AccessRecord
	reopen chan chan error
	done   chan struct{}
	log    *slog.Logger

	dropped atomic.Uint64 // records dropped since the start
	pending atomic.Int64  // dropped records not yet reported in the log

	mu     sync.RWMutex // guards closed against Log sending on a closed q
	closed bool
}

// NewAccessLogWriter writes to w; Reopen is a no-op for it and Close does
// not close w.
func NewAccessLogWriter(w io.Writer, opts AccessLogOptions) *AccessLogWriter {
	return startAccessLog(func() (io.WriteCloser, error) { return nopCloser{w}, nil }, nil, opts)
}

// OpenAccessLog appends to the file at path, creating it and its directory.
// Reopen closes and opens it again (after a log rotation moved it).
func OpenAccessLog(path string, opts AccessLogOptions) (*AccessLogWriter, error) {
	open := func() (io.WriteCloser, error) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("access log directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open access log: %w", err)
		}
		return f, nil
	}
	f, err := open()
	if err != nil {
		return nil, err
	}
	return startAccessLog(open, f, opts), nil
}

func startAccessLog(open func() (io.WriteCloser, error), first io.WriteCloser, opts AccessLogOptions) *AccessLogWriter {
	if opts.Queue <= 0 {
		opts.Queue = DefaultAccessLogQueue
	}
	l := &AccessLogWriter{
		opts: opts, open: open,
		q:      make(chan *AccessRecord, opts.Queue),
		reopen: make(chan chan error),
		done:   make(chan struct{}),
		log:    opts.Logger,
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if first == nil {
		first, _ = open() // nopCloser never fails
	}
	go l.run(first)
	return l
}

// Log queues rec for writing, or drops it when the queue is full or the
// writer is closed. It never blocks. It is the edge.Handler's AccessLog.
func (l *AccessLogWriter) Log(rec *AccessRecord) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.dropped.Add(1)
		return
	}
	select {
	case l.q <- rec:
	default:
		l.dropped.Add(1)
		l.pending.Add(1)
	}
}

// Dropped returns how many records were dropped since the start.
func (l *AccessLogWriter) Dropped() uint64 { return l.dropped.Load() }

// Reopen closes the file and opens it again, for log rotation (SIGHUP).
func (l *AccessLogWriter) Reopen() error {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil
	}
	res := make(chan error, 1)
	l.reopen <- res
	l.mu.RUnlock()
	return <-res
}

// Close writes what is queued and stops the writer.
func (l *AccessLogWriter) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.q)
	}
	l.mu.Unlock()
	<-l.done
	return nil
}

// run is the writer's goroutine: it owns the file and its buffer.
func (l *AccessLogWriter) run(f io.WriteCloser) {
	defer close(l.done)
	bw := bufio.NewWriterSize(f, 64<<10)
	failing := false
	check := func(err error) {
		if err != nil && !failing {
			l.log.Error("edge: cannot write the access log; records are lost until it works again", "err", err)
		}
		failing = err != nil
	}
	// buf is reused for every record: encoding one allocates nothing.
	buf := make([]byte, 0, 1024)
	write := func(rec *AccessRecord) {
		b, err := appendAccessRecord(buf[:0], rec)
		if err != nil {
			l.log.Error("edge: cannot encode an access record", "err", err)
			return
		}
		b = append(b, '\n')
		_, err = bw.Write(b)
		check(err)
		if cap(b) <= maxRecordBuffer {
			buf = b
		}
	}
	flush := func() {
		if n := l.pending.Swap(0); n > 0 {
			write(&AccessRecord{Time: time.Now(), Kind: AccessKindDrop, Node: l.opts.Node, Dropped: n})
		}
		check(bw.Flush())
	}
	for {
		select {
		case rec, ok := <-l.q:
			if !ok {
				flush()
				if err := f.Close(); err != nil {
					l.log.Error("edge: close the access log", "err", err)
				}
				return
			}
			write(rec)
			if len(l.q) == 0 {
				// Let the goroutines that are ready run first: under
				// load they queue more records, which then share one
				// write(2); on an idle node this returns at once.
				runtime.Gosched()
			}
			if len(l.q) == 0 {
				flush()
			}
		case res := <-l.reopen:
			flush()
			if err := f.Close(); err != nil {
				l.log.Error("edge: close the access log", "err", err)
			}
			nf, err := l.open()
			if err != nil {
				l.log.Error("edge: reopen the access log; records are lost until it works", "err", err)
				nf = nopCloser{io.Discard}
			}
			f = nf
			bw.Reset(f)
			res <- err
		}
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
