package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Errors callers branch on; a *TargetError wraps one of them.
var (
	// ErrAccessDenied: the store refused the credentials or the write.
	ErrAccessDenied = errors.New("access denied")
	// ErrNoBucket: the bucket does not exist.
	ErrNoBucket = errors.New("no such bucket")
	// ErrUnreachable: the store did not answer.
	ErrUnreachable = errors.New("store unreachable")
	// ErrStore: the store answered with another error.
	ErrStore = errors.New("store error")
)

// Target is where an app's recordings go: a bucket of an S3 endpoint.
type Target struct {
	// Endpoint is the S3 endpoint's URL, http://host:port or https://host.
	Endpoint             string
	AccessKey, SecretKey string
	// Region is the region requests are signed for.
	Region string
	Bucket string
	// Prefix is put before every object key; {app}, {stream}, {session}
	// and {date} (the session's UTC start date, 2006-01-02) are replaced.
	Prefix string
}

// String names the target in reports: "s3://bucket/prefix at endpoint".
func (t Target) String() string {
	return "s3://" + t.Bucket + "/" + t.Prefix + " at " + t.Endpoint
}

// id identifies the target's client and probe state.
func (t Target) id() string {
	return t.Endpoint + "\x00" + t.AccessKey + "\x00" + t.Region + "\x00" + t.Bucket + "\x00" + t.staticPrefix()
}

// staticPrefix is the part of Prefix before its first placeholder.
func (t Target) staticPrefix() string {
	p, _, _ := strings.Cut(t.Prefix, "{")
	return p
}

// expandPrefix fills Prefix's placeholders for one session.
func (t Target) expandPrefix(s Session) string {
	return strings.NewReplacer("{app}", s.App, "{stream}", s.Stream, "{session}", s.ID,
		"{date}", s.Started.UTC().Format("2006-01-02")).Replace(t.Prefix)
}

// objectKey names the seq'th file of session s, started at start:
// PREFIX + 20060102-150405_SESSION_001.mp4 (UTC), so a listing sorts by time.
func (t Target) objectKey(s Session, seq int, start time.Time) string {
	return fmt.Sprintf("%s%s_%s_%03d.mp4", t.expandPrefix(s), start.UTC().Format("20060102-150405"), s.ID, seq)
}

// TargetError says why a write to a target failed, in one sentence that
// names the bucket: "access denied on bucket rec (AccessDenied: ...)".
type TargetError struct {
	Kind error // ErrAccessDenied, ErrNoBucket, ErrUnreachable or ErrStore
	Text string
	Err  error
}

// Error returns the one-sentence cause.
func (e *TargetError) Error() string { return e.Text }

// Unwrap returns the kind and the client's error.
func (e *TargetError) Unwrap() []error { return []error{e.Kind, e.Err} }

// classify turns a client error into a TargetError.
func classify(t Target, err error) error {
	if err == nil {
		return nil
	}
	var te *TargetError
	if errors.As(err, &te) {
		return err
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "":
		if errors.Is(err, context.Canceled) {
			return err
		}
		return &TargetError{Kind: ErrUnreachable, Err: err,
			Text: fmt.Sprintf("cannot reach the store at %s for bucket %s (%v)", t.Endpoint, t.Bucket, err)}
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled", "AccountProblem", "InvalidToken", "ExpiredToken":
		return &TargetError{Kind: ErrAccessDenied, Err: err,
			Text: fmt.Sprintf("access denied on bucket %s (%s: %s)", t.Bucket, resp.Code, resp.Message)}
	case "NoSuchBucket":
		return &TargetError{Kind: ErrNoBucket, Err: err,
			Text: fmt.Sprintf("bucket %s does not exist at %s (%s: %s)", t.Bucket, t.Endpoint, resp.Code, resp.Message)}
	}
	return &TargetError{Kind: ErrStore, Err: err,
		Text: fmt.Sprintf("writing to bucket %s failed (%s: %s)", t.Bucket, resp.Code, resp.Message)}
}

// newClient returns an S3 client for t.
func newClient(t Target) (*minio.Client, error) {
	u, err := url.Parse(t.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("record endpoint %q: want http://host:port or https://host", t.Endpoint)
	}
	return minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(t.AccessKey, t.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       t.Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   2,
	})
}

// probeObject is the object the recorder's write check PUTs and DELETEs.
const probeObject = ".strata-record-write-check"

// probeBody is the content of the recorder's probe object.
const probeBody = "strata checks that recordings can be written here\n"

// probe checks that t is writable: it PUTs a small object named object
// under the prefix's fixed part and DELETEs it.
func probe(ctx context.Context, c *minio.Client, t Target, object, body string) error {
	key := t.staticPrefix() + object
	if _, err := c.PutObject(ctx, t.Bucket, key, strings.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "text/plain"}); err != nil {
		return classify(t, err)
	}
	if err := c.RemoveObject(ctx, t.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return classify(t, err)
	}
	return nil
}

// Bucket writes small objects to a target and checks that the target
// takes writes, with the recorder's client settings and error causes
// ("access denied on bucket B (...)"). Snapshots write through it.
type Bucket struct {
	t      Target
	c      *minio.Client
	object string // the probe object's name
	body   string // the probe object's content
}

// OpenBucket returns a Bucket for t whose write check PUTs and DELETEs
// probeObject under the prefix's fixed part (its part before the first
// placeholder); empty means the recorder's .strata-record-write-check.
func OpenBucket(t Target, probeObject string) (*Bucket, error) {
	c, err := newClient(t)
	if err != nil {
		return nil, err
	}
	b := &Bucket{t: t, c: c, object: probeObject, body: "strata checks that it can write here\n"}
	if b.object == "" {
		b.object, b.body = probeObject, probeBody
	}
	return b, nil
}

// Target returns the bucket's target.
func (b *Bucket) Target() Target { return b.t }

// String names the target: "s3://bucket/prefix at endpoint".
func (b *Bucket) String() string { return b.t.String() }

// Check writes and deletes the probe object (case C35); the error is a
// *TargetError naming the bucket.
func (b *Bucket) Check(ctx context.Context) error {
	return probe(ctx, b.c, b.t, b.object, b.body)
}

// Put writes body as key in the target's bucket (key is the whole key:
// the caller expands the prefix); the error is a *TargetError naming the
// bucket.
func (b *Bucket) Put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := b.c.PutObject(ctx, b.t.Bucket, key, bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: contentType})
	return classify(b.t, err)
}
