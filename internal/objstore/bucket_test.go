package objstore

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckBucketName(t *testing.T) {
	tests := []struct {
		name string
		rule string // "" = valid; else a word from the error
	}{
		{"abc", ""},
		{"my-bucket.example.com", ""},
		{"a1b", ""},
		{strings.Repeat("a", 63), ""},
		{"ab", "3 to 63"},
		{strings.Repeat("a", 64), "3 to 63"},
		{"My-Bucket", "lowercase"},
		{"my_bucket", "lowercase"},
		{"-abc", "begin and end"},
		{"abc.", "begin and end"},
		{"a..b", "adjacent dots"},
		{"192.168.1.1", "IP address"},
		{"xn--abc", "xn--"},
		{"mybucket-s3alias", "s3alias"},
	}
	for _, tt := range tests {
		err := CheckBucketName(tt.name)
		if tt.rule == "" {
			if err != nil {
				t.Errorf("CheckBucketName(%q) = %v, want nil", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidBucketName) || !strings.Contains(err.Error(), tt.rule) {
			t.Errorf("CheckBucketName(%q) = %v, want ErrInvalidBucketName mentioning %q", tt.name, err, tt.rule)
		}
	}
}

func TestBuckets(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	for _, b := range []string{"zeta", "alpha", "mid.dle"} {
		mustBucket(t, s, b)
	}
	if err := s.CreateBucket(ctx, "alpha"); !errors.Is(err, ErrBucketExists) {
		t.Errorf("CreateBucket twice: %v, want ErrBucketExists", err)
	}
	if err := s.CreateBucket(ctx, "Bad"); !errors.Is(err, ErrInvalidBucketName) {
		t.Errorf("CreateBucket(Bad): %v, want ErrInvalidBucketName", err)
	}
	bs, err := s.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
		if b.Created.IsZero() || b.PublicRead {
			t.Errorf("bucket %+v: want a creation time and private", b)
		}
	}
	if got := strings.Join(names, ","); got != "alpha,mid.dle,zeta" {
		t.Errorf("ListBuckets = %s, want alpha,mid.dle,zeta", got)
	}
	if err := s.SetBucketPublicRead(ctx, "alpha", true); err != nil {
		t.Fatal(err)
	}
	if b, err := s.GetBucket(ctx, "alpha"); err != nil || !b.PublicRead {
		t.Errorf("GetBucket after SetBucketPublicRead = %+v, %v", b, err)
	}
	if err := s.SetBucketPublicRead(ctx, "nope", true); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("SetBucketPublicRead(nope): %v, want ErrNoSuchBucket", err)
	}
	put(t, s, "alpha", "k", []byte("x"))
	if err := s.DeleteBucket(ctx, "alpha"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Errorf("DeleteBucket with an object: %v, want ErrBucketNotEmpty", err)
	}
	if err := s.DeleteObject(ctx, "alpha", "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "alpha"); err != nil {
		t.Errorf("DeleteBucket of empty bucket: %v", err)
	}
	if _, err := s.GetBucket(ctx, "alpha"); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("GetBucket after delete: %v, want ErrNoSuchBucket", err)
	}
	if err := s.DeleteBucket(ctx, "alpha"); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("DeleteBucket twice: %v, want ErrNoSuchBucket", err)
	}
	if _, err := s.StatObject(ctx, "alpha", "k"); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("StatObject in deleted bucket: %v, want ErrNoSuchBucket", err)
	}
}

func TestOpenLocksDir(t *testing.T) {
	_, dir := newTestStore(t, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrStoreLocked) {
		t.Errorf("second Open of one directory: %v, want ErrStoreLocked", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustBucket(t, s, "bkt1")
	put(t, s, "bkt1", "k", []byte("persist"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := readAll(t, s, "bkt1", "k"); string(got) != "persist" {
		t.Errorf("after reopen read %q, want %q", got, "persist")
	}
}

// bucketNameRE is the S3 naming rule's shape, for the fuzz model.
var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func FuzzCheckBucketName(f *testing.F) {
	for _, s := range []string{"abc", "a..b", "192.168.0.1", "xn--a", "a-s3alias", "A", "::1x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		_, ipErr := netip.ParseAddr(name)
		want := bucketNameRE.MatchString(name) && !strings.Contains(name, "..") && ipErr != nil &&
			!strings.HasPrefix(name, "xn--") && !strings.HasPrefix(name, "sthree-") &&
			!strings.HasSuffix(name, "-s3alias") && !strings.HasSuffix(name, "--ol-s3")
		err := CheckBucketName(name)
		if (err == nil) != want {
			t.Fatalf("CheckBucketName(%q) = %v, want valid = %v", name, err, want)
		}
		if err != nil && !errors.Is(err, ErrInvalidBucketName) {
			t.Fatalf("CheckBucketName(%q) = %v, does not wrap ErrInvalidBucketName", name, err)
		}
	})
}

func FuzzCheckKey(f *testing.F) {
	for _, s := range []string{"a", "", "a\xffb", "日本/東京", strings.Repeat("k", 1025)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		want := key != "" && len(key) <= MaxKeyLength && utf8.ValidString(key)
		if err := CheckKey(key); (err == nil) != want || err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("CheckKey(%q) = %v, want valid = %v", key, err, want)
		}
	})
}
