package record

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/recmux"
)

// session records one publish session; it is the recmux.Sink of its
// Muxer. The spool fields are used by the session's goroutine only.
type session struct {
	r   *Recorder
	cfg Config
	s   Session
	src Source
	log *slog.Logger
	m   *recmux.Muxer
	// ended is closed when the publish has ended and its last file is
	// handed to the uploader.
	ended chan struct{}

	// The file being spooled.
	data, meta *os.File
	base       string // spool path without extension
	frags      []recmux.FragmentInfo
	size       int64
	tracks     int // tracks written to the meta file
	cur        *FileStatus

	mu        sync.Mutex    // guards the fields below
	files     []*FileStatus // this session's files, oldest first
	notes     []string      // the session's notes (codecs MP4 cannot carry)
	failure   string        // why the recording stopped, if it did
	uploadErr error         // the latest upload's outcome
	uploadAt  time.Time
	uploading int  // uploads in flight
	done      bool // the publish ended
}

// idle reports whether the session has ended and uploaded everything.
func (ss *session) idle() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.done && ss.uploading == 0
}

// spoolLine is one line of a spool file's meta file (JSON lines): the file
// first, then its tracks whenever they change, its fragments, its end.
type spoolLine struct {
	File   *spoolFile           `json:"file,omitempty"`
	Tracks []recmux.Track       `json:"tracks,omitempty"`
	Frag   *recmux.FragmentInfo `json:"frag,omitempty"`
	End    *recmux.FileSummary  `json:"end,omitempty"`
}

// spoolFile identifies a spooled file.
type spoolFile struct {
	App     string    `json:"app"`
	Stream  string    `json:"stream"`
	Session string    `json:"session"`
	Seq     int       `json:"seq"`
	Bucket  string    `json:"bucket"`
	Key     string    `json:"key"`
	Started time.Time `json:"started"`
	Reason  string    `json:"reason"`
}

func (ss *session) run() {
	defer ss.r.ended(ss)
	defer ss.src.Close()
	ss.m = recmux.New(ss, recmux.Options{MaxDuration: ss.cfg.MaxDuration})
	err := readTags(ss.r.ctx, ss.src, func(t flv.Tag) error { return ss.m.WriteTag(t) })
	reason := "publish ended"
	if err != nil {
		reason = "recording stopped: " + err.Error()
		ss.fail(reason)
	}
	if err := ss.m.Close(reason); err != nil {
		ss.fail("recording stopped: " + err.Error())
	}
	ss.closeSpool()
	ss.mu.Lock()
	ss.notes = ss.m.SessionNotes()
	ss.done = true
	ss.mu.Unlock()
	close(ss.ended)
}

func (ss *session) fail(reason string) {
	ss.log.Error("recording failed", "err", reason)
	ss.mu.Lock()
	if ss.failure == "" {
		ss.failure = reason
	}
	ss.mu.Unlock()
}

// StartFile opens the spool files of a new file.
func (ss *session) StartFile(f recmux.FileStart) error {
	start := ss.s.Started.Add(f.At)
	key := ss.cfg.Target.objectKey(ss.s, f.Seq, start)
	ss.base = filepath.Join(ss.r.SpoolDir, fmt.Sprintf("%s-%03d", ss.s.ID, f.Seq))
	if err := os.MkdirAll(ss.r.SpoolDir, 0o755); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	var err error
	if ss.data, err = os.Create(ss.base + ".mp4"); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if ss.meta, err = os.Create(ss.base + ".json"); err != nil {
		ss.data.Close()
		return fmt.Errorf("spool: %w", err)
	}
	ss.frags, ss.size, ss.tracks = nil, 0, 0
	ss.cur = &FileStatus{
		Stream: ss.s.key(), Session: ss.s.ID, Seq: f.Seq, Bucket: ss.cfg.Bucket, Key: key,
		State: StateRecording, Started: start, StartReason: f.Reason,
	}
	ss.mu.Lock()
	ss.files = append(ss.files, ss.cur)
	ss.mu.Unlock()
	ss.log.Info("recording file started", "key", key, "bucket", ss.cfg.Bucket, "reason", f.Reason)
	return ss.writeMeta(spoolLine{File: &spoolFile{App: ss.s.App, Stream: ss.s.Stream, Session: ss.s.ID, Seq: f.Seq,
		Bucket: ss.cfg.Bucket, Key: key, Started: start, Reason: f.Reason}})
}

func (ss *session) writeMeta(l spoolLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := ss.meta.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// WriteFragment appends a fragment to the spool, then indexes it: the
// index never names bytes the data file may lack.
func (ss *session) WriteFragment(data []byte, info recmux.FragmentInfo) error {
	if _, err := ss.data.Write(data); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	cur, _ := ss.m.Current()
	if len(cur.Tracks) != ss.tracks {
		if err := ss.writeMeta(spoolLine{Tracks: cur.Tracks}); err != nil {
			return err
		}
		ss.tracks = len(cur.Tracks)
	}
	if err := ss.writeMeta(spoolLine{Frag: &info}); err != nil {
		return err
	}
	ss.frags = append(ss.frags, info)
	ss.size += int64(len(data))
	ss.mu.Lock()
	ss.cur.fill(cur)
	ss.cur.Size = ss.size
	ss.mu.Unlock()
	return nil
}

// EndFile closes the spool files and uploads the file in the background.
func (ss *session) EndFile(sum recmux.FileSummary) error {
	err := ss.writeMeta(spoolLine{End: &sum})
	ss.closeSpool()
	if err != nil {
		return err
	}
	hdr, err := recmux.Header(sum.Tracks, ss.frags)
	if err != nil {
		return fmt.Errorf("file header: %w", err)
	}
	f := ss.cur
	base, size := ss.base, ss.size
	ss.mu.Lock()
	f.fill(sum)
	f.EndReason = sum.EndReason
	f.Size = int64(len(hdr)) + size
	f.State = StateUploading
	ss.uploading++
	ss.mu.Unlock()
	ss.log.Info("recording file ended", "key", f.Key, "reason", sum.EndReason,
		"duration", sum.Duration.Round(time.Millisecond).String(), "notes", sum.Notes)
	ss.r.wg.Add(1)
	go func() {
		defer ss.r.wg.Done()
		err := ss.r.upload(ss.cfg, f.Key, hdr, base, size)
		defer ss.r.ended(ss)
		ss.mu.Lock()
		ss.uploading--
		ss.uploadErr, ss.uploadAt = err, ss.r.now()
		if err != nil {
			f.State, f.Error, f.Spool = StateFailed, err.Error(), base+".mp4"
		} else {
			f.State = StateUploaded
		}
		final := *f
		ss.mu.Unlock()
		if err != nil {
			ss.log.Error("recording upload failed; the file stays in the spool and is uploaded at the next start",
				"key", f.Key, "bucket", ss.cfg.Bucket, "spool", base+".mp4", "err", err.Error())
		} else {
			ss.log.Info("recording uploaded", "key", f.Key, "bucket", ss.cfg.Bucket, "size", final.Size)
		}
		ss.r.finish(ss.s.key(), final)
	}()
	return nil
}

func (ss *session) closeSpool() {
	if ss.data != nil {
		ss.data.Close()
		ss.data = nil
	}
	if ss.meta != nil {
		ss.meta.Close()
		ss.meta = nil
	}
}

// upload PUTs header + the spooled fragments as key, then removes the
// spool files.
func (r *Recorder) upload(cfg Config, key string, hdr []byte, base string, size int64) error {
	select {
	case r.uploads <- struct{}{}:
		defer func() { <-r.uploads }()
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
	c, err := r.client(cfg.Target)
	if err != nil {
		return err
	}
	f, err := os.Open(base + ".mp4")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	timeout := r.UploadTimeout
	if timeout <= 0 {
		timeout = DefaultUploadTimeout
	}
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	body := io.MultiReader(bytes.NewReader(hdr), io.LimitReader(bufio.NewReaderSize(f, 1<<20), size))
	_, err = c.PutObject(ctx, cfg.Bucket, key, body, int64(len(hdr))+size, minio.PutObjectOptions{
		ContentType: "video/mp4",
		PartSize:    16 << 20,
	})
	if err != nil {
		return classify(cfg.Target, err)
	}
	os.Remove(base + ".mp4")
	os.Remove(base + ".json")
	return nil
}
