package daemon

import (
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/strata-cdn/strata/internal/edge"
)

// accessLog is the edge's access log writer and the goroutine that reopens
// its file on SIGHUP (after a rotation moved it).
type accessLog struct {
	w    *edge.AccessLogWriter
	hup  chan os.Signal
	done chan struct{}
}

// openAccessLog opens edge.access_log: a path (default
// <data_dir>/logs/edge-access.log), "-" for standard error, or "off".
func (d *Daemon) openAccessLog() error {
	opts := edge.AccessLogOptions{Node: d.cfg.NodeID, Logger: d.log.With("service", "edge-access-log")}
	var w *edge.AccessLogWriter
	switch p := d.cfg.Edge.AccessLog; p {
	case "off":
		return nil
	case "-":
		w = edge.NewAccessLogWriter(os.Stderr, opts)
	default:
		if p == "" {
			p = filepath.Join(d.cfg.DataDir, "logs", "edge-access.log")
		}
		var err error
		if w, err = edge.OpenAccessLog(p, opts); err != nil {
			return err
		}
		d.log.Info("edge access log", "path", p)
	}
	l := &accessLog{w: w, hup: make(chan os.Signal, 1), done: make(chan struct{})}
	signal.Notify(l.hup, syscall.SIGHUP)
	go func() {
		defer close(l.done)
		for range l.hup {
			if err := w.Reopen(); err != nil {
				d.log.Error("reopen the edge access log", "err", err)
			}
		}
	}()
	d.accessLog = l
	return nil
}

// logFunc is the edge's AccessLog: nil when the log is off.
func (l *accessLog) logFunc() func(*edge.AccessRecord) {
	if l == nil {
		return nil
	}
	return l.w.Log
}

// closeAccessLog stops the SIGHUP goroutine and writes what is queued; it
// runs after the edge closed, so fill records of background fetches are
// in.
func (d *Daemon) closeAccessLog() {
	l := d.accessLog
	if l == nil {
		return
	}
	d.accessLog = nil
	signal.Stop(l.hup)
	close(l.hup)
	<-l.done
	if err := l.w.Close(); err != nil {
		d.log.Error("close the edge access log", "err", err)
	}
	if n := l.w.Dropped(); n > 0 {
		d.log.Warn("the edge access log dropped records (the disk did not keep up)", "dropped", n)
	}
}
