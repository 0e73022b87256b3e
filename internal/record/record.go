// Package record records live streams into an S3 bucket as MP4 files, as
// SRS's dvr and nginx-rtmp's record do into a directory.
//
// A session's tags are remuxed by recmux into fragmented MP4, spooled to a
// local file fragment by fragment, and uploaded when the file ends (at its
// maximum duration, a codec change, or the end of the publish) with a header
// that makes it seekable. A crash loses only the fragment being built (about
// a second) plus what the operating system had not written: Recover uploads
// what a previous run left in the spool.
//
// Targets are checked by writing a probe object (Check, and at every
// publish); a target that refuses writes shows in each session's status
// with the cause, e.g. "access denied on bucket rec (AccessDenied: ...)"
// (case C35). Publishing and playback never wait for the store.
//
// It is an engine: no listeners. The daemon hands it each publish session
// as a Source.
package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/flv"
)

// Defaults for zero fields.
const (
	DefaultMaxDuration   = time.Hour
	DefaultHistory       = 50
	DefaultUploadTimeout = 30 * time.Minute
	DefaultProbeTimeout  = 15 * time.Second
	DefaultUploads       = 4
	DefaultProbeInterval = time.Minute
)

// Config is one app's recording.
type Config struct {
	Target
	// MaxDuration splits files. If zero, DefaultMaxDuration is used.
	MaxDuration time.Duration
}

// Session names one publish session.
type Session struct {
	App, Stream string
	// ID is the publish session's ID.
	ID      string
	Started time.Time
}

func (s Session) key() string { return s.App + "/" + s.Stream }

// Source is a publish session's tags, read in order. Read returns io.EOF
// when the publish has ended; any other error ends the recording with
// that error as its cause.
type Source interface {
	Read(ctx context.Context) (flv.Tag, error)
	Close()
}

// Recorder records the sessions of the apps it is configured for. Set the
// fields before the first call; Close waits for every recording and upload.
type Recorder struct {
	// Apps maps an app name to its recording; apps not in it are not
	// recorded.
	Apps map[string]Config
	// SpoolDir holds files being recorded and files that failed to
	// upload. Required.
	SpoolDir string
	// Logger receives recording events. Nil means discard.
	Logger *slog.Logger
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// History is how many finished files per stream the listing keeps.
	// If zero, DefaultHistory is used.
	History int
	// UploadTimeout bounds one file's upload. If zero,
	// DefaultUploadTimeout is used.
	UploadTimeout time.Duration
	// ProbeInterval is how often a recording session re-checks that its
	// target takes writes, so a permission revoked or a bucket deleted
	// mid-recording shows in the status before the file ends. If zero,
	// DefaultProbeInterval is used.
	ProbeInterval time.Duration

	once    sync.Once
	ctx     context.Context // cancelled by Close, after recordings ended
	cancel  context.CancelFunc
	uploads chan struct{} // a semaphore of DefaultUploads upload slots
	wg      sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	clients  map[string]*minio.Client
	checks   map[string]*check       // by Target.id
	sessions map[string]*session     // recording now, by "app/stream"
	files    map[string][]FileStatus // finished files by "app/stream", oldest first
}

// check is a target's latest write check.
type check struct {
	err error
	at  time.Time
}

func (r *Recorder) init() {
	r.once.Do(func() {
		r.ctx, r.cancel = context.WithCancel(context.Background())
		r.uploads = make(chan struct{}, DefaultUploads)
		r.clients = map[string]*minio.Client{}
		r.checks = map[string]*check{}
		r.sessions = map[string]*session{}
		r.files = map[string][]FileStatus{}
	})
}

func (r *Recorder) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Recorder) client(t Target) (*minio.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[t.id()]; ok {
		return c, nil
	}
	c, err := newClient(t)
	if err != nil {
		return nil, err
	}
	r.clients[t.id()] = c
	return c, nil
}

// CheckApp checks that app's target is writable (case C35): it writes and
// deletes a probe object. The result shows in the app's session statuses
// until the next check.
func (r *Recorder) CheckApp(ctx context.Context, app string) error {
	r.init()
	cfg, ok := r.Apps[app]
	if !ok {
		return fmt.Errorf("app %q does not record", app)
	}
	c, err := r.client(cfg.Target)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, DefaultProbeTimeout)
		err = probe(ctx, c, cfg.Target, probeObject, probeBody)
		cancel()
	}
	r.mu.Lock()
	r.checks[cfg.Target.id()] = &check{err: err, at: r.now()}
	r.mu.Unlock()
	return err
}

// Check checks every app's target and returns the errors by app.
func (r *Recorder) Check(ctx context.Context) map[string]error {
	out := map[string]error{}
	apps := make([]string, 0, len(r.Apps))
	for a := range r.Apps {
		apps = append(apps, a)
	}
	sort.Strings(apps)
	for _, a := range apps {
		if err := r.CheckApp(ctx, a); err != nil {
			out[a] = err
		}
	}
	return out
}

// Records reports whether app's sessions are recorded.
func (r *Recorder) Records(app string) bool {
	_, ok := r.Apps[app]
	return ok
}

// Record starts recording a session of an app that records, reading src
// until it ends; it reports false (and closes src) for other apps. It does
// not block.
func (r *Recorder) Record(s Session, src Source) bool {
	r.init()
	cfg, ok := r.Apps[s.App]
	if !ok || r.ctx.Err() != nil {
		src.Close()
		return false
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = DefaultMaxDuration
	}
	ss := &session{r: r, cfg: cfg, s: s, src: src, log: r.log().With("stream", s.key(), "session", s.ID),
		ended: make(chan struct{})}
	r.mu.Lock()
	r.sessions[s.key()] = ss
	r.mu.Unlock()
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		r.watchTarget(ss)
	}()
	go func() {
		defer r.wg.Done()
		ss.run()
	}()
	return true
}

// watchTarget checks the session's target at publish, so a fixed
// permission shows at once and a broken one before the first file ends,
// then every ProbeInterval until the session ends. It logs changes only.
func (r *Recorder) watchTarget(ss *session) {
	every := r.ProbeInterval
	if every <= 0 {
		every = DefaultProbeInterval
	}
	var last error
	for first := true; ; first = false {
		err := r.CheckApp(r.ctx, ss.s.App)
		switch {
		case err != nil && (first || last == nil || last.Error() != err.Error()):
			ss.log.Error("recording target is not writable; files are kept in the spool until it is",
				"target", ss.cfg.Target.String(), "err", err.Error())
		case err == nil && last != nil:
			ss.log.Info("recording target is writable again", "target", ss.cfg.Target.String())
		}
		last = err
		t := time.NewTimer(every)
		select {
		case <-ss.ended:
			t.Stop()
			return
		case <-r.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Close waits for the recordings to end (their sources must end: stop the
// publishers first) and their uploads to finish; when ctx ends first, it
// cancels the uploads, whose files stay in the spool for Recover.
func (r *Recorder) Close(ctx context.Context) {
	r.init()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		r.log().Warn("recording uploads cut short by shutdown; their files stay in the spool and are uploaded at the next start", "spool", r.SpoolDir)
	}
	r.cancel()
	<-done
}

// finish records a file's final status in the listing.
func (r *Recorder) finish(key string, f FileStatus) {
	n := r.History
	if n <= 0 {
		n = DefaultHistory
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	list := append(r.files[key], f)
	if len(list) > n {
		list = list[len(list)-n:]
	}
	r.files[key] = list
}

// ended removes a session that stopped recording once its uploads are
// done; until then its files are listed.
func (r *Recorder) ended(ss *session) {
	if !ss.idle() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions[ss.s.key()] == ss {
		delete(r.sessions, ss.s.key())
	}
}

// readTags reads src into fn until src ends.
func readTags(ctx context.Context, src Source, fn func(flv.Tag) error) error {
	for {
		t, err := src.Read(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
	}
}
