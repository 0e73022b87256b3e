package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/flv"
)

// fakeSource is a publish fed by the test: tags sent on ch, io.EOF when
// ch is closed.
type fakeSource struct {
	ch     chan flv.Tag
	video  bool
	once   sync.Once
	closed chan struct{}
}

func newFakeSource(video bool) *fakeSource {
	return &fakeSource{ch: make(chan flv.Tag, 1024), video: video, closed: make(chan struct{})}
}

func (s *fakeSource) Read(ctx context.Context) (flv.Tag, error) {
	select {
	case t, ok := <-s.ch:
		if !ok {
			return flv.Tag{}, io.EOF
		}
		return t, nil
	case <-ctx.Done():
		return flv.Tag{}, ctx.Err()
	}
}

func (s *fakeSource) HasVideo(ctx context.Context) (bool, error) { return s.video, nil }

func (s *fakeSource) Close() { s.once.Do(func() { close(s.closed) }) }

// fakeStore records the keys written; err fails checks and writes.
type fakeStore struct {
	mu   sync.Mutex
	keys []string
	err  error
}

func (s *fakeStore) Put(ctx context.Context, key string, body []byte, contentType string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if contentType != "image/jpeg" || !bytes.HasPrefix(body, []byte{0xff, 0xd8}) {
		return fmt.Errorf("put %s: %q with %d bytes, want a JPEG", key, contentType, len(body))
	}
	s.keys = append(s.keys, key)
	return nil
}

func (s *fakeStore) Check(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *fakeStore) String() string { return "s3://snaps/{app}/{stream}/ at http://store.test" }

func (s *fakeStore) written() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

func (s *fakeStore) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// fakeEncoder returns a tiny JPEG; gate, when set, holds each call.
type fakeEncoder struct {
	mu       sync.Mutex
	calls    int
	inFlight int
	maxIn    int
	err      error
	gate     chan struct{}
}

func (e *fakeEncoder) Ready() error { return nil }

func (e *fakeEncoder) JPEG(ctx context.Context, f Frame, width int) ([]byte, error) {
	e.mu.Lock()
	e.calls++
	e.inFlight++
	e.maxIn = max(e.maxIn, e.inFlight)
	gate, err := e.gate, e.err
	e.mu.Unlock()
	if gate != nil {
		<-gate
	}
	e.mu.Lock()
	e.inFlight--
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(f.Data, []byte{0, 0, 0, 1, 0x67}) {
		return nil, errors.New("frame does not start with an SPS")
	}
	return []byte{0xff, 0xd8, 0xff, 0xd9}, nil
}

// streamTags returns testdata/h264.flv's sequence header and keyframes.
func streamTags(t *testing.T) (seq flv.Tag, keys []flv.Tag) {
	t.Helper()
	for _, tg := range tagsOf(t, "h264.flv") {
		if tg.Type != flv.TagVideo {
			continue
		}
		v, err := flv.ParseVideo(tg.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case v.PacketType == flv.VideoSequenceHeader:
			seq = tg
		case v.KeyFrame:
			keys = append(keys, tg)
		}
	}
	if len(keys) < 3 {
		t.Fatalf("testdata/h264.flv has %d keyframes, want 3 or more", len(keys))
	}
	return seq, keys
}

// logBuffer is a JSON log the test reads.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var testSession = Session{App: "live", Stream: "cam", ID: "s1", Started: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}

func closeTaker(t *testing.T, tk *Taker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tk.Close(ctx)
}

// TestTakesFirstKeyframeThenEveryInterval_C35: the first keyframe is
// taken at once, then the latest one every interval; an interval without
// a new keyframe waits for the next one. Each snapshot is written under
// its time and as latest.jpg.
func TestTakesFirstKeyframeThenEveryInterval_C35(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seq, keys := streamTags(t)
		st, enc := &fakeStore{}, &fakeEncoder{}
		tk := &Taker{Apps: map[string]Config{"live": {Store: st, Prefix: "{app}/{stream}/", Interval: 10 * time.Second}}, Encoder: enc}
		defer closeTaker(t, tk)
		if err := tk.Start(); err != nil {
			t.Fatal(err)
		}
		src := newFakeSource(true)
		if !tk.Take(testSession, src) {
			t.Fatal("Take = false for an app with snapshots")
		}
		if tk.Take(Session{App: "other", Stream: "x", ID: "s2"}, newFakeSource(true)) {
			t.Error("Take = true for an app without snapshots")
		}
		synctest.Wait()
		if st, _ := tk.Status("live", "cam", "s1"); st.State != StateWaiting || st.Error != "" {
			t.Errorf("before any keyframe: %+v, want waiting without error", st)
		}
		src.ch <- seq
		src.ch <- keys[0]
		synctest.Wait()
		want := []string{"live/cam/20000101-000000.000.jpg", "live/cam/latest.jpg"}
		if diff := cmp.Diff(want, st.written()); diff != "" {
			t.Fatalf("keys after the first keyframe (-want +got):\n%s", diff)
		}
		src.ch <- keys[1]
		time.Sleep(10 * time.Second)
		synctest.Wait()
		want = append(want, "live/cam/20000101-000010.000.jpg", "live/cam/latest.jpg")
		if diff := cmp.Diff(want, st.written()); diff != "" {
			t.Fatalf("keys after one interval (-want +got):\n%s", diff)
		}
		time.Sleep(15 * time.Second) // a tick at 20s finds no new keyframe
		synctest.Wait()
		if n := len(st.written()); n != 4 {
			t.Fatalf("%d keys after an interval without a keyframe, want 4", n)
		}
		src.ch <- keys[2] // at 25s: taken at once
		synctest.Wait()
		want = append(want, "live/cam/20000101-000025.000.jpg", "live/cam/latest.jpg")
		if diff := cmp.Diff(want, st.written()); diff != "" {
			t.Fatalf("keys after a late keyframe (-want +got):\n%s", diff)
		}
		got, ok := tk.Status("live", "cam", "s1")
		wantSt := Status{State: StateOK, Target: st.String(), IntervalSeconds: 10, Count: 3, Latest: "live/cam/latest.jpg",
			Last: &Shot{Key: "live/cam/20000101-000025.000.jpg", Time: time.Now(), Size: 4}}
		if diff := cmp.Diff(wantSt, got); !ok || diff != "" {
			t.Errorf("status (-want +got):\n%s", diff)
		}
		if _, ok := tk.Status("live", "cam", "older-session"); ok {
			t.Error("Status answered for another publish session")
		}
		close(src.ch)
		synctest.Wait()
		if _, ok := tk.Status("live", "cam", "s1"); ok {
			t.Error("a session that ended still has a status")
		}
		select {
		case <-src.closed:
		default:
			t.Error("the source was not closed")
		}
	})
}

// TestOverwriteWritesLatestOnly_C35: with Overwrite, each snapshot
// replaces PREFIX + latest.jpg and nothing else is written.
func TestOverwriteWritesLatestOnly_C35(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seq, keys := streamTags(t)
		st := &fakeStore{}
		tk := &Taker{Apps: map[string]Config{"live": {Store: st, Prefix: "shots/{session}/", Interval: time.Second, Overwrite: true}},
			Encoder: &fakeEncoder{}}
		defer closeTaker(t, tk)
		src := newFakeSource(true)
		tk.Take(testSession, src)
		src.ch <- seq
		src.ch <- keys[0]
		synctest.Wait()
		src.ch <- keys[1]
		time.Sleep(time.Second)
		synctest.Wait()
		if diff := cmp.Diff([]string{"shots/s1/latest.jpg", "shots/s1/latest.jpg"}, st.written()); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		close(src.ch)
	})
}

// TestTargetRefusalInStatus_C35: a target that refuses writes is logged
// at ERROR at start-up and shows, with the store's cause, in the status
// of each publish; once it takes writes again, so does the status.
func TestTargetRefusalInStatus_C35(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seq, keys := streamTags(t)
		denied := errors.New("access denied on bucket snaps (AccessDenied: Access Denied.)")
		st := &fakeStore{err: denied}
		var logs logBuffer
		tk := &Taker{Apps: map[string]Config{"live": {Store: st, Prefix: "{app}/{stream}/", Interval: 10 * time.Second}},
			Encoder: &fakeEncoder{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), ProbeInterval: time.Minute}
		defer closeTaker(t, tk)
		tk.Start()
		synctest.Wait()
		if l := logs.String(); !strings.Contains(l, `"level":"ERROR","msg":"snapshot target is not writable: snapshots of this app will fail until it is fixed","app":"live"`) ||
			!strings.Contains(l, denied.Error()) {
			t.Errorf("start-up log does not name the app and the cause:\n%s", l)
		}
		src := newFakeSource(true)
		tk.Take(testSession, src)
		src.ch <- seq
		src.ch <- keys[0]
		synctest.Wait()
		if got, _ := tk.Status("live", "cam", "s1"); got.State != StateFailed || got.Error != denied.Error() || got.Count != 0 {
			t.Errorf("status = %+v, want failed: %v", got, denied)
		}
		st.fail(nil)
		time.Sleep(time.Minute) // the next write check passes
		synctest.Wait()
		if got, _ := tk.Status("live", "cam", "s1"); got.State != StateOK || got.Error != "" {
			t.Errorf("status after the target was fixed = %+v, want ok", got)
		}
		close(src.ch)
	})
}

// TestAudioOnlySaysNoVideo_C35: a publish without video says why no
// snapshot comes, and makes no image.
func TestAudioOnlySaysNoVideo_C35(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		enc := &fakeEncoder{}
		tk := &Taker{Apps: map[string]Config{"radio": {Store: &fakeStore{}, Interval: time.Second}}, Encoder: enc}
		defer closeTaker(t, tk)
		src := newFakeSource(false)
		tk.Take(Session{App: "radio", Stream: "fm", ID: "r1"}, src)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		got, _ := tk.Status("radio", "fm", "r1")
		if got.State != StateFailed || got.Error != "stream radio/fm has no video track; no snapshots" {
			t.Errorf("status = %+v, want failed: stream radio/fm has no video track; no snapshots", got)
		}
		if enc.calls != 0 {
			t.Errorf("%d images made of an audio-only stream", enc.calls)
		}
		close(src.ch)
	})
}

// TestNoKeyframeAndEncoderFailures_C35: a stream whose keyframe has not
// come after an interval, a missing ffmpeg and a failing encoder each show
// in the status with their cause.
func TestNoKeyframeAndEncoderFailures_C35(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seq, keys := streamTags(t)
		enc := &fakeEncoder{err: fmt.Errorf("%w (exit status 1): Invalid data found when processing input", ErrEncode)}
		tk := &Taker{Apps: map[string]Config{"live": {Store: &fakeStore{}, Interval: 5 * time.Second}}, Encoder: enc}
		defer closeTaker(t, tk)
		src := newFakeSource(true)
		tk.Take(testSession, src)
		src.ch <- seq
		time.Sleep(5 * time.Second)
		synctest.Wait()
		got, _ := tk.Status("live", "cam", "s1")
		if got.State != StateFailed || !strings.HasPrefix(got.Error, "no video keyframe received since the publish started") {
			t.Errorf("status without a keyframe = %+v, want failed: no video keyframe ...", got)
		}
		src.ch <- keys[0]
		synctest.Wait()
		got, _ = tk.Status("live", "cam", "s1")
		if got.State != StateFailed || got.Error != enc.err.Error() {
			t.Errorf("status when the encoder fails = %+v, want failed: %v", got, enc.err)
		}
		close(src.ch)
	})

	synctest.Test(t, func(t *testing.T) {
		tk := &Taker{Apps: map[string]Config{"live": {Store: &fakeStore{}}}, Encoder: FFmpeg{Path: "/nonexistent/ffmpeg"}}
		defer closeTaker(t, tk)
		if err := tk.Start(); !errors.Is(err, ErrNoFFmpeg) {
			t.Errorf("Start = %v, want ErrNoFFmpeg", err)
		}
		src := newFakeSource(true)
		tk.Take(testSession, src)
		synctest.Wait()
		got, _ := tk.Status("live", "cam", "s1")
		if got.State != StateFailed || !strings.HasPrefix(got.Error, "ffmpeg not found") || got.IntervalSeconds != 10 {
			t.Errorf("status without ffmpeg = %+v, want failed: ffmpeg not found ..., every 10s", got)
		}
		close(src.ch)
	})
}

// TestSlowEncoderDoesNotHoldTheReader_C35: while an image is being made,
// the sessions keep reading their streams (so the hub never drops them),
// and never make more images at once than Concurrency allows.
func TestSlowEncoderDoesNotHoldTheReader_C35(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seq, keys := streamTags(t)
		enc := &fakeEncoder{gate: make(chan struct{})}
		tk := &Taker{Apps: map[string]Config{"live": {Store: &fakeStore{}, Interval: time.Second}}, Encoder: enc, Concurrency: 1}
		defer closeTaker(t, tk)
		srcs := []*fakeSource{newFakeSource(true), newFakeSource(true)}
		for i, src := range srcs {
			tk.Take(Session{App: "live", Stream: fmt.Sprint("cam", i), ID: fmt.Sprint("s", i)}, src)
			src.ch <- seq
		}
		for i := range 500 {
			for _, src := range srcs {
				src.ch <- keys[i%len(keys)]
			}
			if i%50 == 0 {
				time.Sleep(time.Second)
			}
		}
		synctest.Wait()
		for i, src := range srcs {
			if n := len(src.ch); n != 0 {
				t.Errorf("stream %d: %d tags left unread while the encoder was busy", i, n)
			}
		}
		close(enc.gate)
		synctest.Wait()
		if enc.maxIn != 1 || enc.calls < 4 {
			t.Errorf("encoder: %d calls, at most %d at once; want several, one at a time", enc.calls, enc.maxIn)
		}
		for _, src := range srcs {
			close(src.ch)
		}
	})
}

// TestReaderFailureStays_C35: a reader dropped by the hub stops the
// session's snapshots, and its status keeps saying why.
func TestReaderFailureStays_C35(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tk := &Taker{Apps: map[string]Config{"live": {Store: &fakeStore{}}}, Encoder: &fakeEncoder{}}
		defer closeTaker(t, tk)
		tk.Take(testSession, failingSource{})
		synctest.Wait()
		got, ok := tk.Status("live", "cam", "s1")
		if !ok || got.State != StateFailed || got.Error != "snapshots stopped: reader too slow" {
			t.Errorf("status = %+v, %v; want failed: snapshots stopped: reader too slow", got, ok)
		}
	})
}

type failingSource struct{}

func (failingSource) Read(ctx context.Context) (flv.Tag, error) {
	return flv.Tag{}, errors.New("reader too slow")
}
func (failingSource) HasVideo(ctx context.Context) (bool, error) { return true, nil }
func (failingSource) Close()                                     {}
