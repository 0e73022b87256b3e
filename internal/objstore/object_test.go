package objstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPutGetRoundTrip(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustBucket(t, s, "bkt1")
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 1000, 300 << 10} {
		data := randBytes(rng, n)
		meta := Meta{ContentType: "video/mp4", CacheControl: "max-age=60", User: map[string]string{"a": "1"}}
		info, err := s.PutObject(context.Background(), "bkt1", "k", bytes.NewReader(data), PutOptions{Size: -1, Meta: meta})
		if err != nil {
			t.Fatalf("PutObject(%d bytes): %v", n, err)
		}
		nvme, ecma := crcs(data)
		want := ObjectInfo{
			Bucket: "bkt1", Key: "k", Size: int64(n), ModTime: info.ModTime,
			ETag: hex.EncodeToString(md5sum(data)), MD5: md5sum(data),
			CRC64NVME: nvme, CRC64ECMA: ecma, Meta: meta,
		}
		if diff := cmp.Diff(want, info); diff != "" {
			t.Errorf("PutObject info (-want +got):\n%s", diff)
		}
		st, err := s.StatObject(context.Background(), "bkt1", "k")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("StatObject (-want +got):\n%s", diff)
		}
		got, _ := readAll(t, s, "bkt1", "k")
		if !bytes.Equal(got, data) {
			t.Errorf("read back %d bytes, want the %d written", len(got), n)
		}
	}
}

func TestPutErrors(t *testing.T) {
	s, dir := newTestStore(t, Options{MaxObjectSize: 1000})
	mustBucket(t, s, "bkt1")
	ctx := context.Background()
	data := []byte("hello, world")
	tests := []struct {
		name   string
		bucket string
		key    string
		body   io.Reader
		opts   PutOptions
		want   error
	}{
		{"short body", "bkt1", "k", bytes.NewReader(data), PutOptions{Size: 13}, ErrIncompleteBody},
		{"long body", "bkt1", "k", bytes.NewReader(data), PutOptions{Size: 11}, ErrIncompleteBody},
		{"bad md5", "bkt1", "k", bytes.NewReader(data), PutOptions{Size: 12, ContentMD5: md5sum([]byte("x"))}, ErrBadDigest},
		{"announced too large", "bkt1", "k", bytes.NewReader(data), PutOptions{Size: 1001}, ErrEntityTooLarge},
		{"streamed too large", "bkt1", "k", strings.NewReader(strings.Repeat("x", 5000)), PutOptions{Size: -1}, ErrEntityTooLarge},
		{"no bucket", "nope", "k", bytes.NewReader(data), PutOptions{Size: 12}, ErrNoSuchBucket},
		{"empty key", "bkt1", "", bytes.NewReader(data), PutOptions{Size: 12}, ErrInvalidKey},
		{"bad utf8 key", "bkt1", "a\xffb", bytes.NewReader(data), PutOptions{Size: 12}, ErrInvalidKey},
		{"long key", "bkt1", strings.Repeat("k", 1025), bytes.NewReader(data), PutOptions{Size: 12}, ErrInvalidKey},
	}
	for _, tt := range tests {
		_, err := s.PutObject(ctx, tt.bucket, tt.key, tt.body, tt.opts)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: PutObject error = %v, want %v", tt.name, err, tt.want)
		}
	}
	var tl *TooLargeError
	_, err := s.PutObject(ctx, "bkt1", "k", strings.NewReader(strings.Repeat("x", 5000)), PutOptions{Size: -1})
	if !errors.As(err, &tl) || tl.What != "object" || tl.Limit != 1000 {
		t.Errorf("too large error = %#v, want What object, Limit 1000", err)
	}
	if _, err := s.StatObject(ctx, "bkt1", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("StatObject after failed puts: %v, want ErrNoSuchKey", err)
	}
	if data, tmp := dataFiles(t, dir); len(data)+len(tmp) != 0 {
		t.Errorf("files left by failed puts: data %v, tmp %v", data, tmp)
	}
	// A good MD5 is accepted.
	if _, err := s.PutObject(ctx, "bkt1", "k", bytes.NewReader(data), PutOptions{Size: 12, ContentMD5: md5sum(data)}); err != nil {
		t.Errorf("PutObject with correct Content-MD5: %v", err)
	}
}

// countingReader is an endless reader that counts what was read from it.
type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// TestPutStopsReadingAtLimit_C25: a body over the limit is refused as soon
// as the limit is passed, not after reading it all.
func TestPutStopsReadingAtLimit_C25(t *testing.T) {
	s, _ := newTestStore(t, Options{MaxObjectSize: 10000})
	mustBucket(t, s, "bkt1")
	r := &countingReader{}
	_, err := s.PutObject(context.Background(), "bkt1", "k", r, PutOptions{Size: -1})
	if !errors.Is(err, ErrEntityTooLarge) {
		t.Fatalf("PutObject of endless body: %v, want ErrEntityTooLarge", err)
	}
	if r.n > 10001 {
		t.Errorf("read %d bytes from the body, want at most limit+1 = 10001", r.n)
	}
}

func TestPutCancelled(t *testing.T) {
	s, dir := newTestStore(t, Options{})
	mustBucket(t, s, "bkt1")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, 1000))
		cancel()
		pw.Write(make([]byte, 1000)) // unblocks the reader's in-flight Read
		pw.Close()
	}()
	_, err := s.PutObject(ctx, "bkt1", "k", pr, PutOptions{Size: -1})
	pr.Close() // ends the writer if PutObject stopped before its second write
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("PutObject with cancelled context: %v, want context.Canceled", err)
	}
	if data, tmp := dataFiles(t, dir); len(data)+len(tmp) != 0 {
		t.Errorf("files left: data %v, tmp %v", data, tmp)
	}
}

func TestReadAtSemantics(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustBucket(t, s, "bkt1")
	data := []byte("0123456789")
	put(t, s, "bkt1", "k", data)
	o, err := s.OpenObject(context.Background(), "bkt1", "k")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	tests := []struct {
		off     int64
		n       int
		want    string
		wantEOF bool
	}{
		{0, 10, "0123456789", false},
		{0, 4, "0123", false},
		{6, 4, "6789", false},
		{6, 5, "6789", true},
		{9, 1, "9", false},
		{10, 1, "", true},
		{20, 1, "", true},
		{3, 0, "", false},
	}
	for _, tt := range tests {
		p := make([]byte, tt.n)
		n, err := o.ReadAt(p, tt.off)
		if got := string(p[:n]); got != tt.want || (err == io.EOF) != tt.wantEOF || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt(%d bytes at %d) = %q, %v; want %q, EOF %v", tt.n, tt.off, got, err, tt.want, tt.wantEOF)
		}
	}
	if _, err := o.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset succeeded")
	}
	if got, _ := io.ReadAll(o.NewReader(2, 3)); string(got) != "234" {
		t.Errorf("NewReader(2, 3) read %q, want %q", got, "234")
	}
}

func TestOverwriteWhileReading(t *testing.T) {
	// Data files, which the test counts: inline objects have none.
	s, dir := newTestStore(t, Options{InlineMax: -1})
	mustBucket(t, s, "bkt1")
	ctx := context.Background()
	old := bytes.Repeat([]byte("old!"), 1000)
	put(t, s, "bkt1", "k", old)
	o, err := s.OpenObject(ctx, "bkt1", "k")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	put(t, s, "bkt1", "k", []byte("new"))
	got, err := io.ReadAll(o.NewReader(0, -1))
	if err != nil || !bytes.Equal(got, old) {
		t.Errorf("reading an object open before overwrite: %d bytes, %v; want the %d old bytes", len(got), err, len(old))
	}
	o2, err := s.OpenObject(ctx, "bkt1", "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, "bkt1", "k"); err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(o2.NewReader(0, -1))
	o2.Close()
	if err != nil || string(got) != "new" {
		t.Errorf("reading an object open before delete: %q, %v; want %q", got, err, "new")
	}
	if _, err := s.OpenObject(ctx, "bkt1", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("OpenObject after delete: %v, want ErrNoSuchKey", err)
	}
	if err := s.DeleteObject(ctx, "bkt1", "k"); err != nil {
		t.Errorf("deleting a missing key: %v, want nil", err)
	}
	if data, _ := dataFiles(t, dir); len(data) != 0 {
		t.Errorf("data files left after delete: %v", data)
	}
}

func TestCopyObject(t *testing.T) {
	// Data files, which the test counts: inline objects have none.
	s, dir := newTestStore(t, Options{InlineMax: -1})
	mustBucket(t, s, "bkt1")
	mustBucket(t, s, "bkt2")
	ctx := context.Background()
	data := []byte("copy me")
	src, err := s.PutObject(ctx, "bkt1", "src", bytes.NewReader(data), PutOptions{Size: -1, Meta: Meta{ContentType: "text/plain"}})
	if err != nil {
		t.Fatal(err)
	}

	// COPY directive: metadata travels with the data.
	dst, err := s.CopyObject(ctx, "bkt1", "src", "bkt2", "dst", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := src
	want.Bucket, want.Key, want.ModTime = "bkt2", "dst", dst.ModTime
	if diff := cmp.Diff(want, dst); diff != "" {
		t.Errorf("CopyObject info (-want +got):\n%s", diff)
	}
	if got, _ := readAll(t, s, "bkt2", "dst"); !bytes.Equal(got, data) {
		t.Errorf("copy reads %q, want %q", got, data)
	}

	// Onto itself with REPLACE: S3 clients change metadata this way.
	newMeta := Meta{ContentType: "application/json", User: map[string]string{"v": "2"}}
	self, err := s.CopyObject(ctx, "bkt1", "src", "bkt1", "src", CopyOptions{ReplaceMeta: true, Meta: newMeta})
	if err != nil {
		t.Fatalf("copy onto itself: %v", err)
	}
	if diff := cmp.Diff(newMeta, self.Meta); diff != "" {
		t.Errorf("metadata after self-copy (-want +got):\n%s", diff)
	}
	if self.ETag != src.ETag || self.CRC64NVME != src.CRC64NVME || self.CRC64ECMA != src.CRC64ECMA {
		t.Errorf("self-copy changed ETag/CRCs: %+v, want those of %+v", self, src)
	}
	got, info := readAll(t, s, "bkt1", "src")
	if !bytes.Equal(got, data) || info.Meta.ContentType != "application/json" {
		t.Errorf("after self-copy: %q with %+v", got, info.Meta)
	}
	if _, err := s.CopyObject(ctx, "bkt1", "missing", "bkt1", "x", CopyOptions{}); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("copy of missing key: %v, want ErrNoSuchKey", err)
	}
	if _, err := s.CopyObject(ctx, "bkt1", "src", "nope", "x", CopyOptions{}); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("copy into missing bucket: %v, want ErrNoSuchBucket", err)
	}
	if data, tmp := dataFiles(t, dir); len(data) != 2 || len(tmp) != 0 {
		t.Errorf("data files = %v, tmp = %v; want 2 data files (src, dst)", data, tmp)
	}
}

// TestConcurrentSameKey has many goroutines overwrite and read one key;
// every read must see one whole version, never a mix. Run with -race.
func TestConcurrentSameKey(t *testing.T) {
	// Data files, which the test counts: inline objects have none.
	s, dir := newTestStore(t, Options{InlineMax: -1})
	mustBucket(t, s, "bkt1")
	ctx := context.Background()
	put(t, s, "bkt1", "k", bytes.Repeat([]byte{'@'}, 4096))
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				body := bytes.Repeat([]byte{byte('a' + w)}, 4096+w*100+i)
				if _, err := s.PutObject(ctx, "bkt1", "k", bytes.NewReader(body), PutOptions{Size: int64(len(body))}); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				o, err := s.OpenObject(ctx, "bkt1", "k")
				if err != nil {
					errc <- err
					return
				}
				b, err := io.ReadAll(o.NewReader(0, -1))
				o.Close()
				if err != nil {
					errc <- err
					return
				}
				if int64(len(b)) != o.Info.Size || !bytes.Equal(md5sum(b), o.Info.MD5) {
					errc <- errors.New("read a version that does not match its metadata")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if data, _ := dataFiles(t, dir); len(data) != 1 {
		t.Errorf("%d data files after concurrent overwrites, want 1: %v", len(data), data)
	}
}
