package s3api

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/objstore"
)

// lifecycleConfiguration is the S3 LifecycleConfiguration document, as
// PutBucketLifecycleConfiguration receives it (namespace optional) and
// GetBucketLifecycleConfiguration sends it. Numbers are strings so that a
// value that is not an integer and a value that is not positive can be
// told apart (MalformedXML and InvalidArgument, as in S3).
type lifecycleConfiguration struct {
	XMLName xml.Name        `xml:"LifecycleConfiguration"`
	Xmlns   string          `xml:"xmlns,attr,omitempty"`
	Rules   []lifecycleRule `xml:"Rule"`
}

type lifecycleRule struct {
	ID                             string                `xml:"ID,omitempty"`
	Filter                         *lifecycleFilter      `xml:"Filter,omitempty"`
	Prefix                         *string               `xml:"Prefix,omitempty"` // the pre-Filter form
	Status                         string                `xml:"Status"`
	Expiration                     *lifecycleExpiration  `xml:"Expiration,omitempty"`
	NoncurrentVersionExpiration    *noncurrentExpiration `xml:"NoncurrentVersionExpiration,omitempty"`
	AbortIncompleteMultipartUpload *abortIncomplete      `xml:"AbortIncompleteMultipartUpload,omitempty"`
	Transition                     *struct{}             `xml:"Transition,omitempty"`
	NoncurrentVersionTransition    *struct{}             `xml:"NoncurrentVersionTransition,omitempty"`
}

type lifecycleFilter struct {
	Prefix                *string       `xml:"Prefix,omitempty"`
	Tag                   *tagXML       `xml:"Tag,omitempty"`
	And                   *lifecycleAnd `xml:"And,omitempty"`
	ObjectSizeGreaterThan *string       `xml:"ObjectSizeGreaterThan,omitempty"`
	ObjectSizeLessThan    *string       `xml:"ObjectSizeLessThan,omitempty"`
}

type lifecycleAnd struct {
	Prefix                *string  `xml:"Prefix,omitempty"`
	Tags                  []tagXML `xml:"Tag"`
	ObjectSizeGreaterThan *string  `xml:"ObjectSizeGreaterThan,omitempty"`
	ObjectSizeLessThan    *string  `xml:"ObjectSizeLessThan,omitempty"`
}

type lifecycleExpiration struct {
	Days                      string `xml:"Days,omitempty"`
	Date                      string `xml:"Date,omitempty"`
	ExpiredObjectDeleteMarker string `xml:"ExpiredObjectDeleteMarker,omitempty"`
}

type noncurrentExpiration struct {
	NoncurrentDays          string `xml:"NoncurrentDays,omitempty"`
	NewerNoncurrentVersions string `xml:"NewerNoncurrentVersions,omitempty"`
}

type abortIncomplete struct {
	DaysAfterInitiation string `xml:"DaysAfterInitiation,omitempty"`
}

// ruleError is InvalidArgument naming the rule and the field.
func ruleError(id, field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	return errInvalidArgument("Lifecycle rule %q: %s: %s", id, field, msg).with("ArgumentName", field)
}

// malformedRule is MalformedXML naming the rule and what is wrong.
func malformedRule(id, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema: lifecycle rule %q: %s", id, fmt.Sprintf(format, args...))
}

// lifecycleDays parses a count of days: absent is 0; not an integer is
// MalformedXML; zero or negative is -1, which ValidateLifecycle rejects
// naming the field.
func lifecycleDays(id, field, v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, malformedRule(id, "%s %q is not an integer", field, v)
	}
	if n <= 0 {
		return -1, nil
	}
	return n, nil
}

// parseLifecycle turns a LifecycleConfiguration body into engine rules.
// Structural problems are MalformedXML, unsupported features
// NotImplemented; value checks are left to objstore.ValidateLifecycle.
func parseLifecycle(data []byte) ([]objstore.LifecycleRule, error) {
	var cfg lifecycleConfiguration
	if err := xml.Unmarshal(data, &cfg); err != nil {
		return nil, errMalformedXML(err)
	}
	if len(cfg.Rules) == 0 {
		return nil, errMalformedXML(errors.New("no Rule elements"))
	}
	rules := make([]objstore.LifecycleRule, 0, len(cfg.Rules))
	for _, x := range cfg.Rules {
		r := objstore.LifecycleRule{ID: x.ID}
		switch x.Status {
		case "Enabled":
			r.Enabled = true
		case "Disabled":
		default:
			return nil, malformedRule(x.ID, "Status must be Enabled or Disabled, not %q", x.Status)
		}
		if x.Transition != nil || x.NoncurrentVersionTransition != nil {
			return nil, newError(http.StatusNotImplemented, "NotImplemented",
				"Lifecycle rule %q: transitions to other storage classes are not supported by Strata, which has one storage class.", x.ID)
		}
		if err := parseFilter(x, &r); err != nil {
			return nil, err
		}
		var err error
		if e := x.Expiration; e != nil {
			if r.ExpirationDays, err = lifecycleDays(x.ID, "Expiration.Days", e.Days); err != nil {
				return nil, err
			}
			if d := strings.TrimSpace(e.Date); d != "" {
				t, perr := time.Parse(time.RFC3339Nano, d)
				if perr != nil {
					return nil, ruleError(x.ID, "Expiration.Date", "%q is not an ISO 8601 date and time (e.g. 2030-01-01T00:00:00Z)", d)
				}
				r.ExpirationDate = t.UTC()
			}
			switch strings.TrimSpace(e.ExpiredObjectDeleteMarker) {
			case "", "false":
			case "true":
				r.ExpiredObjectDeleteMarker = true
			default:
				return nil, malformedRule(x.ID, "ExpiredObjectDeleteMarker must be true or false, not %q", e.ExpiredObjectDeleteMarker)
			}
			if r.ExpirationDays == 0 && r.ExpirationDate.IsZero() && !r.ExpiredObjectDeleteMarker {
				return nil, malformedRule(x.ID, "Expiration needs Days, Date or ExpiredObjectDeleteMarker")
			}
		}
		if n := x.NoncurrentVersionExpiration; n != nil {
			if r.NoncurrentDays, err = lifecycleDays(x.ID, "NoncurrentVersionExpiration.NoncurrentDays", n.NoncurrentDays); err != nil {
				return nil, err
			}
			if r.NewerNoncurrentVersions, err = lifecycleDays(x.ID, "NoncurrentVersionExpiration.NewerNoncurrentVersions", n.NewerNoncurrentVersions); err != nil {
				return nil, err
			}
			if r.NoncurrentDays == 0 {
				return nil, ruleError(x.ID, "NoncurrentVersionExpiration.NoncurrentDays", "is required")
			}
		}
		if a := x.AbortIncompleteMultipartUpload; a != nil {
			if r.AbortIncompleteUploadDays, err = lifecycleDays(x.ID, "AbortIncompleteMultipartUpload.DaysAfterInitiation", a.DaysAfterInitiation); err != nil {
				return nil, err
			}
			if r.AbortIncompleteUploadDays == 0 {
				return nil, ruleError(x.ID, "AbortIncompleteMultipartUpload.DaysAfterInitiation", "is required")
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// parseFilter reads a rule's Filter (or its older top-level Prefix).
func parseFilter(x lifecycleRule, r *objstore.LifecycleRule) error {
	f := x.Filter
	if f != nil && x.Prefix != nil {
		return malformedRule(x.ID, "give either Filter or Prefix, not both")
	}
	if f == nil {
		if x.Prefix != nil {
			r.Prefix = *x.Prefix
		}
		return nil
	}
	if f.ObjectSizeGreaterThan != nil || f.ObjectSizeLessThan != nil ||
		f.And != nil && (f.And.ObjectSizeGreaterThan != nil || f.And.ObjectSizeLessThan != nil) {
		return newError(http.StatusNotImplemented, "NotImplemented",
			"Lifecycle rule %q: filters by object size are not supported by Strata; filter by Prefix and Tag.", x.ID)
	}
	n := 0
	for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.And != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return malformedRule(x.ID, "a Filter holds one of Prefix, Tag and And; use And to combine them")
	}
	var tags []tagXML
	switch {
	case f.Prefix != nil:
		r.Prefix = *f.Prefix
	case f.Tag != nil:
		tags = []tagXML{*f.Tag}
	case f.And != nil:
		if f.And.Prefix != nil {
			r.Prefix = *f.And.Prefix
		}
		tags = f.And.Tags
	}
	if len(tags) > 0 {
		m := make(map[string]string, len(tags))
		for _, t := range tags {
			if _, dup := m[t.Key]; dup {
				return ruleError(x.ID, "Filter.Tag", "the tag key %q appears twice", t.Key)
			}
			m[t.Key] = t.Value
		}
		r.Tags = m
	}
	return nil
}

// lifecycleXML renders engine rules as S3 sends them back.
func lifecycleXML(rules []objstore.LifecycleRule) lifecycleConfiguration {
	out := lifecycleConfiguration{Xmlns: s3Namespace}
	for _, r := range rules {
		x := lifecycleRule{ID: r.ID, Status: "Disabled", Filter: &lifecycleFilter{}}
		if r.Enabled {
			x.Status = "Enabled"
		}
		prefix := r.Prefix
		tags := sortedTags(r.Tags)
		switch {
		case len(tags) == 0:
			x.Filter.Prefix = &prefix
		case len(tags) == 1 && prefix == "":
			x.Filter.Tag = &tags[0]
		default:
			x.Filter.And = &lifecycleAnd{Tags: tags}
			if prefix != "" {
				x.Filter.And.Prefix = &prefix
			}
		}
		if r.ExpirationDays > 0 || !r.ExpirationDate.IsZero() || r.ExpiredObjectDeleteMarker {
			x.Expiration = &lifecycleExpiration{}
			if r.ExpirationDays > 0 {
				x.Expiration.Days = strconv.Itoa(r.ExpirationDays)
			}
			if !r.ExpirationDate.IsZero() {
				x.Expiration.Date = r.ExpirationDate.UTC().Format("2006-01-02T15:04:05.000Z")
			}
			if r.ExpiredObjectDeleteMarker {
				x.Expiration.ExpiredObjectDeleteMarker = "true"
			}
		}
		if r.NoncurrentDays > 0 {
			x.NoncurrentVersionExpiration = &noncurrentExpiration{NoncurrentDays: strconv.Itoa(r.NoncurrentDays)}
			if r.NewerNoncurrentVersions > 0 {
				x.NoncurrentVersionExpiration.NewerNoncurrentVersions = strconv.Itoa(r.NewerNoncurrentVersions)
			}
		}
		if r.AbortIncompleteUploadDays > 0 {
			x.AbortIncompleteMultipartUpload = &abortIncomplete{DaysAfterInitiation: strconv.Itoa(r.AbortIncompleteUploadDays)}
		}
		out.Rules = append(out.Rules, x)
	}
	return out
}

func errNoSuchLifecycle() *apiError {
	return newError(http.StatusNotFound, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist.")
}

func (req *request) putBucketLifecycle() error {
	data, err := req.readSmallBody()
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return errMalformedXML(errors.New("empty body"))
	}
	rules, err := parseLifecycle(data)
	if err != nil {
		return err
	}
	if err := req.h.Store.PutBucketLifecycle(req.ctx, req.bucket, rules); err != nil {
		return err
	}
	req.w.Header().Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (req *request) getBucketLifecycle() error {
	rules, err := req.h.Store.GetBucketLifecycle(req.ctx, req.bucket)
	if errors.Is(err, objstore.ErrNoSuchBucketConfig) {
		return errNoSuchLifecycle().withCause(err)
	}
	if err != nil {
		return err
	}
	req.writeXML(http.StatusOK, lifecycleXML(rules))
	return nil
}

func (req *request) deleteBucketLifecycle() error {
	if err := req.h.Store.DeleteBucketLifecycle(req.ctx, req.bucket); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}
