package objstore

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testDay = time.Hour

func lifecycleStore(t *testing.T) (*Store, *Lifecycle) {
	t.Helper()
	s, _ := newTestStore(t, Options{LifecycleDay: testDay, MinPartSize: 1})
	return s, &Lifecycle{Store: s}
}

func mustRules(t *testing.T, s *Store, bucket string, rules ...LifecycleRule) {
	t.Helper()
	if err := s.PutBucketLifecycle(context.Background(), bucket, rules); err != nil {
		t.Fatalf("PutBucketLifecycle: %v", err)
	}
}

func runOnce(t *testing.T, l *Lifecycle, at time.Time) PassResult {
	t.Helper()
	res, err := l.RunOnce(context.Background(), at)
	if err != nil {
		t.Fatalf("RunOnce(%v): %v", at, err)
	}
	return res
}

func ruleStats(l *Lifecycle, bucket, rule string) LifecycleRuleStats {
	for _, r := range l.Stats().Rules {
		if r.Bucket == bucket && r.RuleID == rule {
			return r
		}
	}
	return LifecycleRuleStats{Bucket: bucket, RuleID: rule}
}

func TestLifecycleExpiresUnversioned(t *testing.T) {
	s, l := lifecycleStore(t)
	mustBucket(t, s, "bk1")
	for _, k := range []string{"logs/a", "logs/b", "keep/c"} {
		put(t, s, "bk1", k, []byte(k))
	}
	mustRules(t, s, "bk1", LifecycleRule{ID: "logs", Enabled: true, Prefix: "logs/", ExpirationDays: 1})
	t0 := time.Now()
	runOnce(t, l, t0.Add(testDay/2))
	if diff := cmp.Diff([]string{"keep/c", "logs/a", "logs/b"}, listKeysOf(t, s, "bk1")); diff != "" {
		t.Errorf("before a day (-want +got):\n%s", diff)
	}
	res := runOnce(t, l, t0.Add(2*testDay))
	if diff := cmp.Diff([]string{"keep/c"}, listKeysOf(t, s, "bk1")); diff != "" {
		t.Errorf("after a day (-want +got):\n%s", diff)
	}
	if got := listVersions(t, s, "bk1", ListVersionsOptions{Prefix: "logs/"}); len(got) != 0 {
		t.Errorf("unversioned expiry left versions %+v", got)
	}
	if !res.Complete || res.Acted != 2 {
		t.Errorf("pass = %+v, want complete with 2 actions", res)
	}
	st := l.Stats()
	if st.Passes != 2 || !st.LastComplete || st.LastRun.IsZero() || st.LastError != "" {
		t.Errorf("stats = %+v", st)
	}
	if got := ruleStats(l, "bk1", "logs"); got.ObjectsExpired != 2 {
		t.Errorf("rule stats = %+v, want 2 expired", got)
	}
}

// TestLifecycleVersionedCleanup_C27: expiry in a versioned bucket adds a
// delete marker; noncurrent expiry removes the old version; then the
// marker is dangling and ExpiredObjectDeleteMarker removes it.
func TestLifecycleVersionedCleanup_C27(t *testing.T) {
	s, l := lifecycleStore(t)
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)
	put(t, s, "ver", "k", []byte("x"))
	put(t, s, "ver", "live", []byte("y"))
	mustRules(t, s, "ver",
		LifecycleRule{ID: "expire", Enabled: true, Prefix: "k", ExpirationDays: 1, NoncurrentDays: 1},
		LifecycleRule{ID: "markers", Enabled: true, ExpiredObjectDeleteMarker: true})
	t0 := time.Now()
	runOnce(t, l, t0.Add(2*testDay))
	got := listVersions(t, s, "ver", ListVersionsOptions{Prefix: "k"})
	if len(got) != 2 || !got[0].Marker || !got[0].Latest || got[1].Marker {
		t.Fatalf("after expiry: %+v, want a current delete marker over the old version", got)
	}
	if diff := cmp.Diff([]string{"live"}, listKeysOf(t, s, "ver")); diff != "" {
		t.Errorf("live keys (-want +got):\n%s", diff)
	}
	// The old version became noncurrent at t0+2d: not yet a day old.
	runOnce(t, l, t0.Add(2*testDay+testDay/2))
	if got := listVersions(t, s, "ver", ListVersionsOptions{Prefix: "k"}); len(got) != 2 {
		t.Fatalf("noncurrent version removed too early: %+v", got)
	}
	runOnce(t, l, t0.Add(4*testDay))
	runOnce(t, l, t0.Add(4*testDay))
	if got := listVersions(t, s, "ver", ListVersionsOptions{}); !cmp.Equal(got, []versionLine{{"live", got[0].ID, false, true}}) {
		t.Errorf("after cleanup: %+v, want only the live key", got)
	}
	if st := ruleStats(l, "ver", "expire"); st.ObjectsExpired != 1 || st.VersionsRemoved != 1 {
		t.Errorf("expire rule stats = %+v, want 1 expired, 1 version removed", st)
	}
	if st := ruleStats(l, "ver", "markers"); st.DeleteMarkersRemoved != 1 {
		t.Errorf("markers rule stats = %+v, want 1 marker removed", st)
	}
}

// TestLifecycleDanglingMarkersOnly_C27: markers over older versions stay;
// markers that are the only version go.
func TestLifecycleDanglingMarkersOnly_C27(t *testing.T) {
	s, l := lifecycleStore(t)
	ctx := context.Background()
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)
	put(t, s, "ver", "has-version", []byte("x"))
	s.DeleteObject(ctx, "ver", "has-version")
	for _, k := range []string{"gone1", "gone2", "gone3"} {
		s.DeleteObject(ctx, "ver", k)
	}
	mustRules(t, s, "ver", LifecycleRule{ID: "eodm", Enabled: true, ExpiredObjectDeleteMarker: true})
	runOnce(t, l, time.Now())
	got := listVersions(t, s, "ver", ListVersionsOptions{})
	if len(got) != 2 || got[0].Key != "has-version" || !got[0].Marker {
		t.Errorf("after pass: %+v, want only has-version's marker and version", got)
	}
	if st := ruleStats(l, "ver", "eodm"); st.DeleteMarkersRemoved != 3 {
		t.Errorf("stats = %+v, want 3 markers removed", st)
	}
}

func TestLifecycleNewerNoncurrentAndTags(t *testing.T) {
	s, l := lifecycleStore(t)
	ctx := context.Background()
	mustBucket(t, s, "ver")
	mustVersioning(t, s, "ver", VersioningEnabled)
	var ids []string
	for _, d := range []string{"1", "2", "3", "4", "5"} {
		ids = append(ids, put(t, s, "ver", "k", []byte(d)).VersionID)
	}
	if _, err := s.PutObject(ctx, "ver", "tmp", bytesReader("t"), PutOptions{Size: 1, Meta: Meta{Tags: map[string]string{"class": "tmp"}}}); err != nil {
		t.Fatal(err)
	}
	put(t, s, "ver", "other", []byte("o"))
	mustRules(t, s, "ver",
		LifecycleRule{ID: "keep2", Enabled: true, Prefix: "k", NoncurrentDays: 1, NewerNoncurrentVersions: 2},
		LifecycleRule{ID: "tmp", Enabled: true, Tags: map[string]string{"class": "tmp"}, ExpirationDays: 1})
	runOnce(t, l, time.Now().Add(3*testDay))
	var got []string
	for _, v := range listVersions(t, s, "ver", ListVersionsOptions{Prefix: "k"}) {
		got = append(got, v.ID)
	}
	if diff := cmp.Diff([]string{ids[4], ids[3], ids[2]}, got); diff != "" {
		t.Errorf("versions kept (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"k", "other"}, listKeysOf(t, s, "ver")); diff != "" {
		t.Errorf("live keys: the tagged object must expire, the other stay (-want +got):\n%s", diff)
	}
}

func TestLifecycleExpirationDateAndDisabled(t *testing.T) {
	s, l := lifecycleStore(t)
	mustBucket(t, s, "bk1")
	put(t, s, "bk1", "a", []byte("a"))
	put(t, s, "bk1", "b/x", []byte("b"))
	date := time.Now().UTC().Truncate(24 * time.Hour).Add(48 * time.Hour)
	mustRules(t, s, "bk1",
		LifecycleRule{ID: "date", Enabled: true, Prefix: "a", ExpirationDate: date},
		LifecycleRule{ID: "off", Enabled: false, Prefix: "b/", ExpirationDays: 1})
	runOnce(t, l, date.Add(-time.Second))
	if diff := cmp.Diff([]string{"a", "b/x"}, listKeysOf(t, s, "bk1")); diff != "" {
		t.Errorf("before the date (-want +got):\n%s", diff)
	}
	runOnce(t, l, date)
	if diff := cmp.Diff([]string{"b/x"}, listKeysOf(t, s, "bk1")); diff != "" {
		t.Errorf("on the date, disabled rule idle (-want +got):\n%s", diff)
	}
}

func TestLifecycleAbortsIncompleteUploads(t *testing.T) {
	s, l := lifecycleStore(t)
	ctx := context.Background()
	mustBucket(t, s, "bk1")
	old, err := s.CreateMultipartUpload(ctx, "bk1", "big", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadPart(ctx, "bk1", "big", old, 1, bytesReader("part"), PutOptions{Size: 4}); err != nil {
		t.Fatal(err)
	}
	other, _ := s.CreateMultipartUpload(ctx, "bk1", "keep/big", Meta{})
	mustRules(t, s, "bk1", LifecycleRule{ID: "abort", Enabled: true, Prefix: "big", AbortIncompleteUploadDays: 1})
	runOnce(t, l, time.Now().Add(2*testDay))
	if _, err := s.ListParts(ctx, "bk1", "big", old, 0, 0); !errors.Is(err, ErrNoSuchUpload) {
		t.Errorf("old upload after pass: %v, want ErrNoSuchUpload", err)
	}
	if _, err := s.ListParts(ctx, "bk1", "keep/big", other, 0, 0); err != nil {
		t.Errorf("upload outside the prefix: %v", err)
	}
	if st := ruleStats(l, "bk1", "abort"); st.UploadsAborted != 1 {
		t.Errorf("stats = %+v, want 1 upload aborted", st)
	}
}

// TestLifecycleBoundedPasses: with MaxActions 2, six expired objects in
// two buckets take three passes, each resuming where the last stopped
// (and a fourth finds that nothing is left).
func TestLifecycleBoundedPasses(t *testing.T) {
	s, l := lifecycleStore(t)
	l.MaxActions = 2
	mustBucket(t, s, "bk1")
	mustBucket(t, s, "bk2")
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		put(t, s, "bk1", k, []byte(k))
	}
	put(t, s, "bk2", "z", []byte("z"))
	mustRules(t, s, "bk1", LifecycleRule{ID: "all", Enabled: true, ExpirationDays: 1})
	mustRules(t, s, "bk2", LifecycleRule{ID: "all", Enabled: true, ExpirationDays: 1})
	at := time.Now().Add(2 * testDay)
	var acted []int
	for i := 0; i < 5; i++ {
		res := runOnce(t, l, at)
		acted = append(acted, res.Acted)
		if res.Complete {
			break
		}
	}
	if diff := cmp.Diff([]int{2, 2, 2, 0}, acted); diff != "" {
		t.Errorf("actions per pass (-want +got):\n%s", diff)
	}
	if keys := listKeysOf(t, s, "bk1"); len(keys) != 0 {
		t.Errorf("b1 keys left: %q", keys)
	}
	if keys := listKeysOf(t, s, "bk2"); len(keys) != 0 {
		t.Errorf("b2 keys left: %q", keys)
	}
}

// TestLifecycleScheduler runs the background loop on synctest's clock: one
// pass per Interval, none after Close.
func TestLifecycleScheduler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var passes atomic.Int32
		l := &Lifecycle{Interval: time.Minute}
		l.pass = func(ctx context.Context, now time.Time) { passes.Add(1) }
		l.Start()
		l.Start() // a second Start does nothing
		time.Sleep(3*time.Minute + time.Second)
		synctest.Wait()
		if got := passes.Load(); got != 3 {
			t.Errorf("passes after 3 intervals = %d, want 3", got)
		}
		l.Close()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if got := passes.Load(); got != 3 {
			t.Errorf("passes after Close = %d, want still 3", got)
		}
	})
	l := &Lifecycle{Store: &Store{lifecycleDay: 120 * time.Millisecond}}
	if got, want := l.interval(), 10*time.Millisecond; got != want {
		t.Errorf("interval with a 2s day = %v, want %v", got, want)
	}
	l = &Lifecycle{Store: &Store{lifecycleDay: 24 * time.Hour}}
	if got, want := l.interval(), time.Hour; got != want {
		t.Errorf("interval with a real day = %v, want %v", got, want)
	}
	(&Lifecycle{}).Close() // Close without Start returns
}

func TestValidateLifecycle(t *testing.T) {
	ok := LifecycleRule{ID: "r", Enabled: true, ExpirationDays: 1}
	midnight := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		rules []LifecycleRule
		field string // "" means valid
	}{
		{"valid", []LifecycleRule{ok}, ""},
		{"valid all actions", []LifecycleRule{{ID: "a", ExpirationDate: midnight, NoncurrentDays: 3, NewerNoncurrentVersions: 2, AbortIncompleteUploadDays: 7}}, ""},
		{"no rules", nil, "Rule"},
		{"duplicate ID", []LifecycleRule{ok, ok}, "ID"},
		{"long ID", []LifecycleRule{{ID: string(make([]byte, 256)), ExpirationDays: 1}}, "ID"},
		{"no action", []LifecycleRule{{ID: "r"}}, "Rule"},
		{"days not positive", []LifecycleRule{{ID: "r", ExpirationDays: -1}}, "Expiration.Days"},
		{"date not midnight", []LifecycleRule{{ID: "r", ExpirationDate: midnight.Add(time.Hour)}}, "Expiration.Date"},
		{"days and date", []LifecycleRule{{ID: "r", ExpirationDays: 1, ExpirationDate: midnight}}, "Expiration"},
		{"days and marker", []LifecycleRule{{ID: "r", ExpirationDays: 1, ExpiredObjectDeleteMarker: true}}, "Expiration"},
		{"marker with tags", []LifecycleRule{{ID: "r", ExpiredObjectDeleteMarker: true, Tags: map[string]string{"a": "b"}}}, "Expiration.ExpiredObjectDeleteMarker"},
		{"noncurrent days", []LifecycleRule{{ID: "r", NoncurrentDays: -1}}, "NoncurrentVersionExpiration.NoncurrentDays"},
		{"newer too many", []LifecycleRule{{ID: "r", NoncurrentDays: 1, NewerNoncurrentVersions: 101}}, "NoncurrentVersionExpiration.NewerNoncurrentVersions"},
		{"newer without days", []LifecycleRule{{ID: "r", NewerNoncurrentVersions: 1, ExpirationDays: 1}}, "NoncurrentVersionExpiration.NoncurrentDays"},
		{"abort days", []LifecycleRule{{ID: "r", AbortIncompleteUploadDays: -1}}, "AbortIncompleteMultipartUpload.DaysAfterInitiation"},
		{"abort with tags", []LifecycleRule{{ID: "r", AbortIncompleteUploadDays: 1, Tags: map[string]string{"a": "b"}}}, "AbortIncompleteMultipartUpload"},
		{"empty tag key", []LifecycleRule{{ID: "r", ExpirationDays: 1, Tags: map[string]string{"": "b"}}}, "Filter.Tag.Key"},
	}
	for _, tt := range tests {
		err := ValidateLifecycle(tt.rules)
		var le *LifecycleError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: ValidateLifecycle = %v, want nil", tt.name, err)
		case tt.field != "" && (!errors.As(err, &le) || !errors.Is(err, ErrInvalidLifecycle)):
			t.Errorf("%s: ValidateLifecycle = %v, want a LifecycleError", tt.name, err)
		case tt.field != "" && le.Field != tt.field:
			t.Errorf("%s: error field = %q, want %q (%v)", tt.name, le.Field, tt.field, err)
		}
	}
}

func TestBucketLifecycleStored(t *testing.T) {
	s, _ := lifecycleStore(t)
	ctx := context.Background()
	mustBucket(t, s, "bk1")
	if _, err := s.GetBucketLifecycle(ctx, "bk1"); !errors.Is(err, ErrNoSuchBucketConfig) {
		t.Errorf("GetBucketLifecycle before put = %v, want ErrNoSuchBucketConfig", err)
	}
	rules := []LifecycleRule{{ID: "a", Enabled: true, Prefix: "p/", Tags: map[string]string{"k": "v"}, ExpirationDays: 3}, {Enabled: true, NoncurrentDays: 2}}
	mustRules(t, s, "bk1", rules...)
	got, err := s.GetBucketLifecycle(ctx, "bk1")
	if err != nil {
		t.Fatal(err)
	}
	if got[1].ID == "" {
		t.Errorf("a rule without ID got none")
	}
	rules[1].ID = got[1].ID
	if diff := cmp.Diff(rules, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := s.DeleteBucketLifecycle(ctx, "bk1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBucketLifecycle(ctx, "bk1"); !errors.Is(err, ErrNoSuchBucketConfig) {
		t.Errorf("GetBucketLifecycle after delete = %v, want ErrNoSuchBucketConfig", err)
	}
	if err := s.PutBucketLifecycle(ctx, "nope", rules); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("PutBucketLifecycle(missing bucket) = %v", err)
	}
}
