package record

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/minio/minio-go/v7"

	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/objstore"
	"github.com/strata-cdn/strata/internal/s3api"
)

const (
	testKey    = "recorder"
	testSecret = "recorder-secret"
)

// store starts Strata's S3 API on 127.0.0.1:0 over a fresh store with
// bucket "rec", and returns its endpoint.
func store(t *testing.T) string {
	t.Helper()
	return storeWith(t, nil)
}

// storeWith is store whose credentials are refused while *revoked is set.
func storeWith(t *testing.T, revoked *atomic.Bool) string {
	t.Helper()
	st, err := objstore.Open(t.TempDir(), objstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateBucket(context.Background(), "rec"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&s3api.Handler{Store: st, Credentials: func(ak string) (string, bool) {
		return testSecret, ak == testKey && (revoked == nil || !revoked.Load())
	}})
	t.Cleanup(srv.Close)
	return srv.URL
}

func target(endpoint string) Target {
	return Target{Endpoint: endpoint, AccessKey: testKey, SecretKey: testSecret, Region: "us-east-1", Bucket: "rec", Prefix: "{app}/{stream}/"}
}

// tagSource replays tags, then io.EOF; Close is recorded.
type tagSource struct {
	tags   []flv.Tag
	gate   chan struct{} // when set, Read waits for it before io.EOF
	closed chan struct{}
}

func newSource(tags []flv.Tag) *tagSource {
	return &tagSource{tags: tags, closed: make(chan struct{})}
}

func (s *tagSource) Read(ctx context.Context) (flv.Tag, error) {
	if len(s.tags) > 0 {
		t := s.tags[0]
		s.tags = s.tags[1:]
		return t, nil
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return flv.Tag{}, ctx.Err()
		}
	}
	return flv.Tag{}, io.EOF
}

func (s *tagSource) Close() { close(s.closed) }

func readTagsFile(t *testing.T, name string) []flv.Tag {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "recmux", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	tags, err := flv.ReadTags(b)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

// monoThenStereo is 3s of mono AAC then 3s of stereo in one publish.
func monoThenStereo(t *testing.T) []flv.Tag {
	tags := readTagsFile(t, "av-1ch.flv")
	for _, tg := range readTagsFile(t, "av-2ch.flv") {
		tg.Timestamp += 3000
		tags = append(tags, tg)
	}
	return tags
}

func closeRecorder(t *testing.T, r *Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.Close(ctx)
}

func testSession(id string) Session {
	return Session{App: "live", Stream: "cam", ID: id, Started: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// A publish whose AAC config changes is uploaded as two files, each a
// valid MP4, listed with why the second began (case C33).
func TestRecordUploadsFilePerConfig_C33(t *testing.T) {
	ep := store(t)
	r := &Recorder{Apps: map[string]Config{"live": {Target: target(ep)}}, SpoolDir: t.TempDir()}
	src := newSource(monoThenStereo(t))
	if !r.Record(testSession("s1"), src) {
		t.Fatal("Record = false for an app that records")
	}
	if r.Record(Session{App: "other", Stream: "x", ID: "s2"}, newSource(nil)) {
		t.Error("Record = true for an app that does not record")
	}
	closeRecorder(t, r)
	<-src.closed
	list := r.Recordings()
	if len(list) != 1 || list[0].Stream != "live/cam" || len(list[0].Files) != 2 {
		t.Fatalf("Recordings = %+v, want two files of live/cam", list)
	}
	c, err := newClient(target(ep))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range list[0].Files {
		wantKey := "live/cam/20260301-1200" + []string{"00", "03"}[i] + "_s1_00" + string(rune('1'+i)) + ".mp4"
		if f.State != StateUploaded || f.Key != wantKey {
			t.Errorf("file %d = %+v, want uploaded as %s", i+1, f, wantKey)
		}
		obj, err := c.GetObject(context.Background(), "rec", f.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj)
		if err != nil {
			t.Fatalf("get %s: %v", f.Key, err)
		}
		if int64(len(b)) != f.Size {
			t.Errorf("%s is %d bytes, listed %d", f.Key, len(b), f.Size)
		}
		var init fmp4.Init
		if err := init.Unmarshal(bytes.NewReader(b)); err != nil || len(init.Tracks) != 2 {
			t.Errorf("%s: init %+v, %v; want two tracks", f.Key, init.Tracks, err)
		}
	}
	if got := list[0].Files[1].StartReason; !strings.Contains(got, "audio config changed: 1 ch → 2 ch") {
		t.Errorf("second file starts because %q, want the audio config change", got)
	}
	if left, _ := filepath.Glob(filepath.Join(r.SpoolDir, "*")); len(left) != 0 {
		t.Errorf("spool keeps %v after successful uploads", left)
	}
}

// The write check names the bucket and the store's error code (case C35).
func TestCheckNamesCause_C35(t *testing.T) {
	ep := store(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	wrongKey, noBucket, down := target(ep), target(ep), target(closed)
	wrongKey.SecretKey = "wrong"
	noBucket.Bucket = "missing"
	cases := []struct {
		name string
		t    Target
		kind error
		text string
	}{
		{"writable", target(ep), nil, ""},
		{"wrong secret", wrongKey, ErrAccessDenied, "access denied on bucket rec (SignatureDoesNotMatch: "},
		{"missing bucket", noBucket, ErrNoBucket, "bucket missing does not exist at " + ep + " (NoSuchBucket: "},
		{"unreachable", down, ErrUnreachable, "cannot reach the store at " + closed + " for bucket rec"},
	}
	for _, tc := range cases {
		r := &Recorder{Apps: map[string]Config{"live": {Target: tc.t}}, SpoolDir: t.TempDir()}
		err := r.CheckApp(context.Background(), "live")
		if !errors.Is(err, tc.kind) || (tc.kind == nil) != (err == nil) {
			t.Errorf("%s: CheckApp = %v, want %v", tc.name, err, tc.kind)
			continue
		}
		if err != nil && !strings.HasPrefix(err.Error(), tc.text) {
			t.Errorf("%s: error %q, want it to start %q", tc.name, err, tc.text)
		}
	}
}

// A session whose target refuses writes shows failed with the cause while
// it records; its file stays in the spool and a later Start uploads it
// once the target takes writes (case C35).
func TestFailedUploadKeptAndRecovered_C35(t *testing.T) {
	ep := store(t)
	spool := t.TempDir()
	bad := target(ep)
	bad.SecretKey = "wrong"
	r := &Recorder{Apps: map[string]Config{"live": {Target: bad}}, SpoolDir: spool}
	src := newSource(readTagsFile(t, "av-1ch.flv"))
	src.gate = make(chan struct{})
	r.Record(testSession("s1"), src)
	var st SessionStatus
	for range 1000 {
		st, _ = r.Status("live", "cam", "s1")
		if st.State == StateFailed {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st.State != StateFailed || !strings.Contains(st.Error, "access denied on bucket rec") {
		t.Fatalf("status while recording = %+v, want failed: access denied on bucket rec", st)
	}
	close(src.gate)
	closeRecorder(t, r)
	list := r.Recordings()
	if len(list) != 1 || list[0].Files[0].State != StateFailed || list[0].Files[0].Spool == "" {
		t.Fatalf("Recordings = %+v, want one failed file kept in the spool", list)
	}
	// A crash mid-fragment leaves bytes no index line names.
	f, err := os.OpenFile(list[0].Files[0].Spool, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half a fragment"))
	f.Close()

	r2 := &Recorder{Apps: map[string]Config{"live": {Target: target(ep)}}, SpoolDir: spool}
	r2.Start()
	closeRecorder(t, r2)
	list = r2.Recordings()
	if len(list) != 1 || list[0].Files[0].State != StateUploaded || !(list[0].Files[0].DurationSeconds > 2.8) {
		t.Fatalf("after Start: %+v, want the spooled file uploaded, about 3s", list)
	}
	if left, _ := filepath.Glob(filepath.Join(spool, "*")); len(left) != 0 {
		t.Errorf("spool keeps %v after recovery", left)
	}
}

func TestObjectKeyAndPrefix(t *testing.T) {
	tg := Target{Prefix: "rec/{app}/{date}/{stream}-{session}/"}
	s := Session{App: "live", Stream: "cam", ID: "ab12", Started: time.Date(2026, 3, 1, 23, 59, 0, 0, time.FixedZone("x", -3600))}
	got := tg.objectKey(s, 7, s.Started)
	if want := "rec/live/2026-03-02/cam-ab12/20260302-005900_ab12_007.mp4"; got != want {
		t.Errorf("objectKey = %q, want %q", got, want)
	}
	if got, want := tg.staticPrefix(), "rec/"; got != want {
		t.Errorf("staticPrefix = %q, want %q", got, want)
	}
}

// Credentials revoked mid-recording show in the session's status at the
// next re-check, before the file ends (case C35).
func TestRevokedMidRecordingShows_C35(t *testing.T) {
	var revoked atomic.Bool
	ep := storeWith(t, &revoked)
	r := &Recorder{Apps: map[string]Config{"live": {Target: target(ep)}}, SpoolDir: t.TempDir(), ProbeInterval: 20 * time.Millisecond}
	src := newSource(readTagsFile(t, "av-1ch.flv"))
	src.gate = make(chan struct{})
	r.Record(testSession("s1"), src)
	wait := func(state string) SessionStatus {
		t.Helper()
		var st SessionStatus
		for range 1000 {
			st, _ = r.Status("live", "cam", "s1")
			if st.State == state && (state != StateRecording || len(st.Files) > 0) {
				return st
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("status = %+v, want %s", st, state)
		return st
	}
	wait(StateRecording)
	revoked.Store(true)
	if st := wait(StateFailed); !strings.HasPrefix(st.Error, "access denied on bucket rec (InvalidAccessKeyId: ") {
		t.Errorf("status after revoking = %+v, want access denied on bucket rec (InvalidAccessKeyId: ...)", st)
	}
	revoked.Store(false)
	wait(StateRecording)
	close(src.gate)
	closeRecorder(t, r)
}
