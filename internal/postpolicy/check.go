package postpolicy

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Form is what a POST upload submitted, as far as the policy judges it.
type Form struct {
	// Bucket is the bucket the form was posted to (from the URL); the
	// "$bucket" conditions are checked against it.
	Bucket string
	// Fields are the form's fields other than the file, keyed by lower-case
	// name. "key" holds the key as submitted, before ${filename} is
	// replaced.
	Fields map[string]string
	// Filename is the file part's filename, which replaces ${filename} in
	// the key.
	Filename string
}

// Key returns the object key of the form: the "key" field with every
// "${filename}" replaced by the file's name, as S3 does.
func (f Form) Key() string {
	return Key(f.Fields["key"], f.Filename)
}

// Key replaces every "${filename}" in a key template with filename.
func Key(template, filename string) string {
	return strings.ReplaceAll(template, "${filename}", filename)
}

// exemptFields never need a condition: S3 excludes the signature, the
// file, the policy itself and every x-ignore-* field from the rule that
// each form field must appear in the conditions.
func exempt(name string) bool {
	switch name {
	case "x-amz-signature", "file", "policy", "bucket":
		return true
	}
	return strings.HasPrefix(name, "x-ignore-")
}

// ConditionError reports a form that a condition does not allow. It
// matches ErrConditionFailed.
type ConditionError struct {
	Condition Condition
	// Field is the form field checked; Value is what it held, and Missing
	// is true when the form did not have it.
	Field   string
	Value   string
	Missing bool
	// Template is the key as submitted when it differed from Value
	// because ${filename} was replaced.
	Template string
}

func (e *ConditionError) Error() string {
	what := fmt.Sprintf("%s is %q", e.Field, e.Value)
	switch {
	case e.Missing:
		what = fmt.Sprintf("the form has no %q field", e.Field)
	case e.Template != "":
		what = fmt.Sprintf("%s is %q (from %q with ${filename} replaced)", e.Field, e.Value, e.Template)
	}
	return fmt.Sprintf("condition %s failed: %s", e.Condition, what)
}

// Is reports whether target is ErrConditionFailed.
func (e *ConditionError) Is(target error) bool { return target == ErrConditionFailed }

// ExpiredError reports a policy used after its expiration. It matches
// ErrExpired.
type ExpiredError struct {
	Expiration, Now time.Time
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("the policy expired at %s, %s before this request (%s)",
		e.Expiration.UTC().Format(time.RFC3339), e.Now.Sub(e.Expiration).Round(time.Second), e.Now.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrExpired.
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }

// ExtraFieldError reports form fields no condition names. It matches
// ErrExtraField.
type ExtraFieldError struct {
	Fields []string // sorted
}

func (e *ExtraFieldError) Error() string {
	q := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		q[i] = fmt.Sprintf("%q", f)
	}
	return fmt.Sprintf("form field %s is not named by any policy condition; every form field except file, policy, x-amz-signature and x-ignore-* needs one (for example [\"starts-with\", \"$%s\", \"\"])",
		strings.Join(q, ", "), e.Fields[0])
}

// Is reports whether target is ErrExtraField.
func (e *ExtraFieldError) Is(target error) bool { return target == ErrExtraField }

// Check evaluates the policy against a submitted form at time now: the
// expiration, every eq and starts-with condition, and the rule that each
// form field appears in some condition. The file size is checked apart
// (CheckLength), since it is known only once the file has been read.
func (p *Policy) Check(f Form, now time.Time) error {
	if !now.Before(p.Expiration) {
		return &ExpiredError{Expiration: p.Expiration, Now: now}
	}
	named := make(map[string]bool)
	for _, c := range p.Conditions {
		if c.Op == OpContentLengthRange {
			continue
		}
		named[c.Field] = true
		if err := p.checkOne(c, f); err != nil {
			return err
		}
	}
	var extra []string
	for name := range f.Fields {
		if !exempt(name) && !named[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return &ExtraFieldError{Fields: extra}
	}
	return nil
}

func (p *Policy) checkOne(c Condition, f Form) error {
	var value string
	var present bool
	var template string
	switch c.Field {
	case "bucket":
		value, present = f.Bucket, true
	case "key":
		raw, ok := f.Fields["key"]
		value, present = Key(raw, f.Filename), ok
		if strings.Contains(c.Value, "${filename}") {
			// The condition names the template itself:
			// ["eq", "$key", "uploads/${filename}"].
			value = raw
		} else if value != raw {
			template = raw
		}
	default:
		value, present = f.Fields[c.Field]
	}
	if !present {
		// S3: a condition on a field the form lacks fails, except
		// starts-with "" which allows anything, absence included.
		if c.Op == OpStartsWith && c.Value == "" {
			return nil
		}
		return &ConditionError{Condition: c, Field: c.Field, Missing: true}
	}
	if match(c, value) {
		return nil
	}
	return &ConditionError{Condition: c, Field: c.Field, Value: value, Template: template}
}

// match applies one eq or starts-with condition. As in S3, a starts-with
// on Content-Type applies to each comma-separated value.
func match(c Condition, value string) bool {
	switch c.Op {
	case OpEq:
		return value == c.Value
	case OpStartsWith:
		if c.Field == "content-type" && strings.Contains(value, ",") {
			for _, v := range strings.Split(value, ",") {
				if !strings.HasPrefix(strings.TrimSpace(v), c.Value) {
					return false
				}
			}
			return true
		}
		return strings.HasPrefix(value, c.Value)
	}
	return false
}

// LengthRange returns the allowed file sizes: the intersection of every
// content-length-range condition. ok is false when the policy has none.
func (p *Policy) LengthRange() (lo, hi int64, ok bool) {
	for _, c := range p.Conditions {
		if c.Op != OpContentLengthRange {
			continue
		}
		if !ok {
			lo, hi, ok = c.Min, c.Max, true
			continue
		}
		lo, hi = max(lo, c.Min), min(hi, c.Max)
	}
	return lo, hi, ok
}

// LengthError reports a file outside the content-length-range. It matches
// ErrLengthRange.
type LengthError struct {
	// Size is the file's size; when AtLeast is true the file was cut off
	// after Size bytes, so it is at least that long.
	Size     int64
	AtLeast  bool
	Min, Max int64
}

func (e *LengthError) Error() string {
	size := fmt.Sprintf("%d bytes", e.Size)
	if e.AtLeast {
		size = fmt.Sprintf("more than %d bytes", e.Max)
	}
	return fmt.Sprintf("the file is %s, outside the policy's content-length-range [%d, %d]", size, e.Min, e.Max)
}

// Is reports whether target is ErrLengthRange.
func (e *LengthError) Is(target error) bool { return target == ErrLengthRange }

// TooLarge reports whether the file is over the range's maximum.
func (e *LengthError) TooLarge() bool { return e.AtLeast || e.Size > e.Max }

// CheckLength checks a file size against the content-length-range. A
// policy without one allows any size.
func (p *Policy) CheckLength(size int64) error {
	lo, hi, ok := p.LengthRange()
	if !ok || (size >= lo && size <= hi) {
		return nil
	}
	return &LengthError{Size: size, Min: lo, Max: hi}
}
