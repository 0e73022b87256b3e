package objstore

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// lifecycleConfigName is the bucket configuration document that holds a
// bucket's lifecycle rules.
const lifecycleConfigName = "lifecycle"

// Limits on lifecycle configurations, as S3 has them.
const (
	MaxLifecycleRules          = 1000
	MaxLifecycleRuleIDLength   = 255
	MaxNewerNoncurrentVersions = 100
)

// LifecycleRule is one rule of a bucket's lifecycle configuration (S3's
// LifecycleConfiguration Rule). Counts of days are in lifecycle days
// (Options.LifecycleDay). A zero count means the action is absent; a
// negative one is invalid (it stands for a value the client sent that was
// not a positive integer, so validation can say so).
type LifecycleRule struct {
	ID      string
	Enabled bool
	// Prefix and Tags filter the objects the rule applies to: the key
	// starts with Prefix and the object has every tag in Tags.
	Prefix string
	Tags   map[string]string `json:",omitempty"`

	// Expiration of current versions: after ExpirationDays days from
	// creation, or from ExpirationDate on. In a versioned bucket it adds
	// a delete marker, in an unversioned one it deletes.
	ExpirationDays int
	ExpirationDate time.Time
	// ExpiredObjectDeleteMarker removes delete markers that are a key's
	// only version (case C27).
	ExpiredObjectDeleteMarker bool

	// NoncurrentDays removes noncurrent versions that many days after
	// they became noncurrent, keeping the NewerNoncurrentVersions newest.
	NoncurrentDays          int
	NewerNoncurrentVersions int

	// AbortIncompleteUploadDays aborts multipart uploads that many days
	// after they were initiated.
	AbortIncompleteUploadDays int
}

// matches reports whether the rule applies to key with tags.
func (r LifecycleRule) matches(key string, tags map[string]string) bool {
	if !strings.HasPrefix(key, r.Prefix) {
		return false
	}
	for k, v := range r.Tags {
		if got, ok := tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (r LifecycleRule) expires() bool {
	return r.ExpirationDays > 0 || !r.ExpirationDate.IsZero()
}

// ValidateLifecycle checks rules as S3 checks a lifecycle configuration.
// The error is a *LifecycleError naming the rule and the field.
func ValidateLifecycle(rules []LifecycleRule) error {
	if len(rules) == 0 || len(rules) > MaxLifecycleRules {
		return &LifecycleError{Field: "Rule", Reason: fmt.Sprintf("a configuration must have between 1 and %d rules; it has %d", MaxLifecycleRules, len(rules))}
	}
	seen := make(map[string]bool, len(rules))
	for _, r := range rules {
		bad := func(field, format string, args ...any) error {
			return &LifecycleError{RuleID: r.ID, Field: field, Reason: fmt.Sprintf(format, args...)}
		}
		switch {
		case len(r.ID) > MaxLifecycleRuleIDLength:
			return bad("ID", "must be at most %d characters long", MaxLifecycleRuleIDLength)
		case r.ID != "" && seen[r.ID]:
			return bad("ID", "rule IDs must be unique; more than one rule has this ID")
		}
		seen[r.ID] = true
		for k, v := range r.Tags {
			if k == "" || len(k) > 128 {
				return bad("Filter.Tag.Key", "a tag key must be 1 to 128 characters long (got %q)", k)
			}
			if len(v) > 256 {
				return bad("Filter.Tag.Value", "the value of tag %q is over 256 characters", k)
			}
		}
		nexp := 0
		if r.ExpirationDays != 0 {
			nexp++
		}
		if !r.ExpirationDate.IsZero() {
			nexp++
		}
		if r.ExpiredObjectDeleteMarker {
			nexp++
		}
		switch {
		case r.ExpirationDays < 0:
			return bad("Expiration.Days", "must be a positive integer")
		case !r.ExpirationDate.IsZero() && !r.ExpirationDate.Equal(r.ExpirationDate.UTC().Truncate(24*time.Hour)):
			return bad("Expiration.Date", "must be at midnight GMT (got %s)", r.ExpirationDate.UTC().Format(time.RFC3339))
		case nexp > 1:
			return bad("Expiration", "give exactly one of Days, Date and ExpiredObjectDeleteMarker")
		case r.ExpiredObjectDeleteMarker && len(r.Tags) > 0:
			return bad("Expiration.ExpiredObjectDeleteMarker", "cannot be specified with tags in the filter")
		case r.NoncurrentDays < 0:
			return bad("NoncurrentVersionExpiration.NoncurrentDays", "must be a positive integer")
		case r.NewerNoncurrentVersions < 0 || r.NewerNoncurrentVersions > MaxNewerNoncurrentVersions:
			return bad("NoncurrentVersionExpiration.NewerNoncurrentVersions", "must be an integer between 1 and %d", MaxNewerNoncurrentVersions)
		case r.NewerNoncurrentVersions > 0 && r.NoncurrentDays == 0:
			return bad("NoncurrentVersionExpiration.NoncurrentDays", "is required with NewerNoncurrentVersions")
		case r.AbortIncompleteUploadDays < 0:
			return bad("AbortIncompleteMultipartUpload.DaysAfterInitiation", "must be a positive integer")
		case r.AbortIncompleteUploadDays > 0 && len(r.Tags) > 0:
			return bad("AbortIncompleteMultipartUpload", "cannot be specified with tags in the filter")
		case nexp == 0 && r.NoncurrentDays == 0 && r.AbortIncompleteUploadDays == 0:
			return bad("Rule", "at least one action (Expiration, NoncurrentVersionExpiration, AbortIncompleteMultipartUpload) needs to be specified")
		}
	}
	return nil
}

// PutBucketLifecycle validates rules (ValidateLifecycle) and makes them
// the bucket's lifecycle configuration, replacing any previous one. Rules
// without an ID get a random one, as in S3. It fails with ErrNoSuchBucket
// or a *LifecycleError.
func (s *Store) PutBucketLifecycle(ctx context.Context, bucket string, rules []LifecycleRule) error {
	if err := ValidateLifecycle(rules); err != nil {
		return err
	}
	rules = append([]LifecycleRule(nil), rules...)
	for i := range rules {
		if rules[i].ID == "" {
			var b [10]byte
			rand.Read(b[:])
			rules[i].ID = base32.StdEncoding.EncodeToString(b[:])
		}
		if !rules[i].ExpirationDate.IsZero() {
			rules[i].ExpirationDate = rules[i].ExpirationDate.UTC()
		}
	}
	doc, err := json.Marshal(rules)
	if err != nil {
		return fmt.Errorf("encode lifecycle: %w", err)
	}
	return s.cat.PutBucketConfig(ctx, bucket, lifecycleConfigName, doc)
}

// GetBucketLifecycle returns a bucket's lifecycle rules. It fails with
// ErrNoSuchBucket, or ErrNoSuchBucketConfig when the bucket has none.
func (s *Store) GetBucketLifecycle(ctx context.Context, bucket string) ([]LifecycleRule, error) {
	doc, err := s.cat.GetBucketConfig(ctx, bucket, lifecycleConfigName)
	if err != nil {
		return nil, err
	}
	var rules []LifecycleRule
	if err := json.Unmarshal(doc, &rules); err != nil {
		return nil, fmt.Errorf("decode lifecycle of bucket %s: %w", bucket, err)
	}
	return rules, nil
}

// DeleteBucketLifecycle removes a bucket's lifecycle configuration. It
// fails with ErrNoSuchBucket.
func (s *Store) DeleteBucketLifecycle(ctx context.Context, bucket string) error {
	return s.cat.DeleteBucketConfig(ctx, bucket, lifecycleConfigName)
}

// bucketRules returns a bucket's enabled rules; none when it has no
// configuration.
func (s *Store) bucketRules(ctx context.Context, bucket string) ([]LifecycleRule, error) {
	rules, err := s.GetBucketLifecycle(ctx, bucket)
	if errors.Is(err, ErrNoSuchBucketConfig) || errors.Is(err, ErrNoSuchBucket) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var on []LifecycleRule
	for _, r := range rules {
		if r.Enabled {
			on = append(on, r)
		}
	}
	return on, nil
}
