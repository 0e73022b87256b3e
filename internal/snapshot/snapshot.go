// Package snapshot takes JPEG snapshots of live streams into an S3 bucket,
// as SRS's http_hooks + ffmpeg snapshot and the cloud live services'
// screenshot (截图) features do.
//
// A session keeps its stream's latest video keyframe; every interval (and
// at the first keyframe of a publish) it turns that keyframe into an
// Annex-B frame with its parameter sets, has an Encoder (ffmpeg, as a
// subprocess) decode it into a JPEG, and writes the image to the bucket as
// PREFIX + 20060102-150405.000.jpg and PREFIX + latest.jpg. One image is
// made at a time per stream; the tags are read by one goroutine and the
// images made by another, so a slow encoder or store never holds up the
// stream's reader, and publishing and playback never wait for either.
//
// What stops snapshots shows in each session's status with its cause
// (case C35): a target that refuses writes ("access denied on bucket B
// (...)"), checked with a probe object at start, at every publish and
// every minute; ffmpeg missing or failing, with its error line; no video
// track; no keyframe yet.
//
// It is an engine: no listeners. The daemon hands it each publish session
// as a Source and each app's bucket as a Store.
package snapshot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/strata-cdn/strata/internal/flv"
)

// Defaults for zero fields.
const (
	DefaultInterval      = 10 * time.Second
	DefaultProbeInterval = time.Minute
	DefaultProbeTimeout  = 15 * time.Second
	DefaultUploadTimeout = 30 * time.Second
)

// LatestName is the object, under the prefix, that always holds a
// stream's latest snapshot.
const LatestName = "latest.jpg"

// Store is where an app's snapshots go; *record.Bucket is one.
type Store interface {
	// Put writes body as key; the error names the bucket and the cause.
	Put(ctx context.Context, key string, body []byte, contentType string) error
	// Check writes and deletes a probe object: it reports whether the
	// target takes writes (case C35).
	Check(ctx context.Context) error
	// String names the target in reports: "s3://bucket/prefix at endpoint".
	String() string
}

// Config is one app's snapshots.
type Config struct {
	Store Store
	// Prefix is put before every key; {app}, {stream}, {session} and
	// {date} (the publish's UTC start date, 2006-01-02) are replaced.
	Prefix string
	// Interval is the time between snapshots. If zero, DefaultInterval
	// is used.
	Interval time.Duration
	// Width scales images to this width, keeping the aspect ratio; zero
	// keeps the stream's size.
	Width int
	// Overwrite writes only PREFIX + latest.jpg, replaced at every
	// snapshot; otherwise each snapshot is also kept under its time.
	Overwrite bool
}

// Session names one publish session.
type Session struct {
	App, Stream string
	// ID is the publish session's ID.
	ID      string
	Started time.Time
}

func (s Session) key() string { return s.App + "/" + s.Stream }

// Source is a publish session's video tags, read in order. Read returns
// io.EOF when the publish has ended; any other error ends the session's
// snapshots with that error as its cause.
type Source interface {
	Read(ctx context.Context) (flv.Tag, error)
	// HasVideo waits until the publish's track set is known and reports
	// whether it has video.
	HasVideo(ctx context.Context) (bool, error)
	Close()
}

// Taker takes the snapshots of the apps it is configured for. Set the
// fields before the first call; Close waits for every session.
type Taker struct {
	// Apps maps an app name to its snapshots; apps not in it have none.
	Apps map[string]Config
	// Encoder makes the images. Nil means FFmpeg{}.
	Encoder Encoder
	// Logger receives snapshot events. Nil means discard.
	Logger *slog.Logger
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// ProbeInterval is how often a session re-checks that its target
	// takes writes. If zero, DefaultProbeInterval is used.
	ProbeInterval time.Duration
	// UploadTimeout bounds one image's upload. If zero,
	// DefaultUploadTimeout is used.
	UploadTimeout time.Duration
	// Concurrency bounds the images being made at once across all
	// streams (each stream makes one at a time); a stream whose turn has
	// not come waits, its reader unaffected. If zero, the number of CPUs
	// (at least 2) is used.
	Concurrency int

	once   sync.Once
	ctx    context.Context // cancelled by Close, after the sessions ended
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{} // a semaphore of Concurrency encoder slots

	mu       sync.Mutex          // guards the fields below
	checks   map[string]*check   // the latest write check, by app
	sessions map[string]*session // by "app/stream"
}

// check is a target's latest write check.
type check struct {
	err error
	at  time.Time
}

func (t *Taker) init() {
	t.once.Do(func() {
		t.ctx, t.cancel = context.WithCancel(context.Background())
		n := t.Concurrency
		if n <= 0 {
			n = max(2, runtime.NumCPU())
		}
		t.slots = make(chan struct{}, n)
		t.checks = map[string]*check{}
		t.sessions = map[string]*session{}
	})
}

func (t *Taker) log() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}

func (t *Taker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Taker) encoder() Encoder {
	if t.Encoder == nil {
		return FFmpeg{}
	}
	return t.Encoder
}

// apps returns the configured app names, sorted.
func (t *Taker) apps() []string {
	out := make([]string, 0, len(t.Apps))
	for a := range t.Apps {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Start says loudly (at ERROR) what will keep every snapshot from being
// taken: a missing encoder at once, and, in the background, each app's
// target that refuses writes (case C35). It returns the encoder's error.
func (t *Taker) Start() error {
	t.init()
	if len(t.Apps) == 0 {
		return nil
	}
	err := t.encoder().Ready()
	if err != nil {
		t.log().Error("snapshots cannot be taken: "+err.Error(), "apps", strings.Join(t.apps(), ","), "err", err.Error())
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for app, err := range t.Check(t.ctx) {
			t.log().Error("snapshot target is not writable: snapshots of this app will fail until it is fixed",
				"app", app, "target", t.Apps[app].Store.String(), "err", err.Error())
		}
	}()
	return err
}

// CheckApp checks that app's target is writable (case C35). The result
// shows in the app's session statuses until the next check or upload.
func (t *Taker) CheckApp(ctx context.Context, app string) error {
	t.init()
	cfg, ok := t.Apps[app]
	if !ok {
		return fmt.Errorf("app %q takes no snapshots", app)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultProbeTimeout)
	err := cfg.Store.Check(ctx)
	cancel()
	t.mu.Lock()
	t.checks[app] = &check{err: err, at: t.now()}
	t.mu.Unlock()
	return err
}

// Check checks every app's target and returns the errors by app.
func (t *Taker) Check(ctx context.Context) map[string]error {
	out := map[string]error{}
	for _, a := range t.apps() {
		if err := t.CheckApp(ctx, a); err != nil {
			out[a] = err
		}
	}
	return out
}

// Takes reports whether app's sessions have snapshots.
func (t *Taker) Takes(app string) bool {
	_, ok := t.Apps[app]
	return ok
}

// Take starts taking snapshots of a session of an app that has them,
// reading src until it ends; it reports false (and closes src) for other
// apps. It does not block.
func (t *Taker) Take(s Session, src Source) bool {
	t.init()
	cfg, ok := t.Apps[s.App]
	if !ok || t.ctx.Err() != nil {
		src.Close()
		return false
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	ss := newSession(t, cfg, s, src)
	t.mu.Lock()
	t.sessions[s.key()] = ss
	t.mu.Unlock()
	t.wg.Add(3)
	go func() {
		defer t.wg.Done()
		ss.read()
	}()
	go func() {
		defer t.wg.Done()
		ss.shoot()
	}()
	go func() {
		defer t.wg.Done()
		t.watchTarget(ss)
	}()
	return true
}

// watchTarget checks the session's target at publish, then every
// ProbeInterval until the session ends. It logs changes only.
func (t *Taker) watchTarget(ss *session) {
	every := t.ProbeInterval
	if every <= 0 {
		every = DefaultProbeInterval
	}
	var last error
	for first := true; ; first = false {
		err := t.CheckApp(ss.ctx, ss.s.App)
		switch {
		case ss.ctx.Err() != nil:
			return
		case err != nil && (first || last == nil || last.Error() != err.Error()):
			ss.log.Error("snapshot target is not writable", "target", ss.cfg.Store.String(), "err", err.Error())
		case err == nil && last != nil:
			ss.log.Info("snapshot target is writable again", "target", ss.cfg.Store.String())
		}
		last = err
		tm := time.NewTimer(every)
		select {
		case <-ss.ctx.Done():
			tm.Stop()
			return
		case <-tm.C:
		}
	}
}

// ended removes a session whose snapshots have ended. One whose reader
// failed stays, so its status says why until the stream's next publish
// replaces it (Status matches the publish session's ID).
func (t *Taker) ended(ss *session) {
	ss.mu.Lock()
	failed := ss.failure != ""
	ss.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sessions[ss.s.key()] == ss && !failed {
		delete(t.sessions, ss.s.key())
	}
}

// Close waits for the sessions to end (their sources must end: stop the
// publishers first); when ctx ends first, it cancels the images being
// made and uploaded.
func (t *Taker) Close(ctx context.Context) {
	t.init()
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.log().Warn("snapshots cut short by shutdown")
	}
	t.cancel()
	<-done
}
