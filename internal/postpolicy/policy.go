// Package postpolicy parses and evaluates the policy document of an S3
// browser form upload (PostObject): the base64 JSON that says until when the
// form may be used and which values its fields may take, and the SigV4
// signature over it.
//
// The package is pure: it reads no clock (the caller passes now), does no
// I/O and never logs. Every error names what failed and where, so that a
// form author can fix the form from the message alone.
//
// The document is described in "Creating a POST policy" of the Amazon S3
// API reference:
//
//	{ "expiration": "2007-12-01T12:00:00.000Z",
//	  "conditions": [
//	    {"bucket": "johnsmith"},
//	    ["starts-with", "$key", "user/eric/"],
//	    ["eq", "$acl", "public-read"],
//	    ["content-length-range", 1048576, 10485760] ] }
package postpolicy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Sentinels callers branch on; the errors returned wrap them with detail.
var (
	// ErrMalformed reports a policy that is not valid base64, JSON, or not
	// shaped as a policy document.
	ErrMalformed = errors.New("malformed POST policy")
	// ErrExpired reports a policy used after its expiration.
	ErrExpired = errors.New("POST policy expired")
	// ErrConditionFailed reports a form field a condition does not allow;
	// it is matched by every *ConditionError.
	ErrConditionFailed = errors.New("POST policy condition failed")
	// ErrExtraField reports a form field that no condition names (S3:
	// "Extra input fields").
	ErrExtraField = errors.New("form field not allowed by the POST policy")
	// ErrLengthRange reports a file outside the content-length-range; it
	// is matched by every *LengthError.
	ErrLengthRange = errors.New("file size outside the POST policy's content-length-range")
)

// MaxDocumentSize bounds the decoded policy document Parse accepts.
const MaxDocumentSize = 64 << 10

// Condition operators.
const (
	OpEq                 = "eq"
	OpStartsWith         = "starts-with"
	OpContentLengthRange = "content-length-range"
)

// Policy is a parsed POST policy document.
type Policy struct {
	// Expiration is when the policy stops allowing uploads.
	Expiration time.Time
	// Conditions are every condition in document order; an exact-match
	// object {"field": "value"} becomes an OpEq condition.
	Conditions []Condition
}

// Condition is one entry of the policy's conditions.
type Condition struct {
	// Op is OpEq, OpStartsWith or OpContentLengthRange.
	Op string
	// Field is the form field the condition restricts, lower case and
	// without the "$" ("key", "content-type", "x-amz-meta-tag"); empty for
	// OpContentLengthRange.
	Field string
	// Value is what the field must equal (OpEq) or begin with
	// (OpStartsWith).
	Value string
	// Min and Max bound the file size for OpContentLengthRange.
	Min, Max int64
	// text is the condition as written in the document, for messages.
	text string
}

// String returns the condition as it was written in the document, so an
// error message can quote it.
func (c Condition) String() string {
	if c.text != "" {
		return c.text
	}
	if c.Op == OpContentLengthRange {
		return fmt.Sprintf("[%q, %d, %d]", c.Op, c.Min, c.Max)
	}
	return fmt.Sprintf("[%q, %q, %q]", c.Op, "$"+c.Field, c.Value)
}

// Decode parses a policy as it is sent in the form's "policy" field: the
// base64 (standard alphabet, padded) of the JSON document.
func Decode(b64 string) (*Policy, error) {
	b64 = strings.TrimSpace(b64)
	if base64.StdEncoding.DecodedLen(len(b64)) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: the policy is over %d bytes", ErrMalformed, MaxDocumentSize)
	}
	doc, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: the policy field is not base64 (%v)", ErrMalformed, err)
	}
	return Parse(doc)
}

// Parse parses a policy document (JSON).
func Parse(doc []byte) (*Policy, error) {
	if len(doc) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: the policy is over %d bytes", ErrMalformed, MaxDocumentSize)
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("%w: the policy is not a JSON object (%v)", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: the policy has data after its JSON object", ErrMalformed)
	}
	if top == nil {
		return nil, fmt.Errorf("%w: the policy is not a JSON object", ErrMalformed)
	}
	p := &Policy{}
	for k := range top {
		if k != "expiration" && k != "conditions" {
			return nil, fmt.Errorf("%w: unknown policy element %q; a policy has only \"expiration\" and \"conditions\"", ErrMalformed, k)
		}
	}
	rawExp, ok := top["expiration"]
	if !ok {
		return nil, fmt.Errorf("%w: the policy has no \"expiration\"", ErrMalformed)
	}
	var exp string
	if err := json.Unmarshal(rawExp, &exp); err != nil {
		return nil, fmt.Errorf("%w: \"expiration\" must be a string like \"2030-01-01T12:00:00.000Z\"", ErrMalformed)
	}
	t, err := parseTime(exp)
	if err != nil {
		return nil, fmt.Errorf("%w: \"expiration\" %q is not an ISO 8601 UTC time like \"2030-01-01T12:00:00.000Z\"", ErrMalformed, exp)
	}
	p.Expiration = t

	rawConds, ok := top["conditions"]
	if !ok {
		return nil, fmt.Errorf("%w: the policy has no \"conditions\"", ErrMalformed)
	}
	var conds []json.RawMessage
	if err := json.Unmarshal(rawConds, &conds); err != nil {
		return nil, fmt.Errorf("%w: \"conditions\" must be a JSON array", ErrMalformed)
	}
	for i, raw := range conds {
		cs, err := parseCondition(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: conditions[%d] %s: %v", ErrMalformed, i, compact(raw), err)
		}
		p.Conditions = append(p.Conditions, cs...)
	}
	return p, nil
}

// parseTime accepts the ISO 8601 forms clients write: with or without
// fractional seconds, in UTC ("Z") or with an offset.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// parseCondition parses one element of "conditions": an exact-match
// object or an [op, "$field", value] / ["content-length-range", min, max]
// array.
func parseCondition(raw json.RawMessage) ([]Condition, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, errors.New("is not a valid JSON object")
		}
		if len(m) == 0 {
			return nil, errors.New("is an empty object")
		}
		var out []Condition
		for k, v := range m {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("the value of %q must be a string", k)
			}
			name := strings.ToLower(strings.TrimPrefix(k, "$"))
			if name == "" {
				return nil, errors.New("has an empty field name")
			}
			text, _ := json.Marshal(map[string]string{k: s})
			out = append(out, Condition{Op: OpEq, Field: name, Value: s, text: string(text)})
		}
		sortConditions(out)
		return out, nil
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil {
		return nil, errors.New("must be an object {\"field\": \"value\"} or an array [op, \"$field\", value]")
	}
	if len(arr) != 3 {
		return nil, fmt.Errorf("has %d elements; a condition array has 3", len(arr))
	}
	var op string
	if err := json.Unmarshal(arr[0], &op); err != nil {
		return nil, errors.New("the operator must be a string")
	}
	op = strings.ToLower(op)
	text := renderArray(arr)
	switch op {
	case OpContentLengthRange:
		lo, err1 := jsonInt(arr[1])
		hi, err2 := jsonInt(arr[2])
		if err1 != nil || err2 != nil {
			return nil, errors.New("content-length-range needs two non-negative integers")
		}
		if lo < 0 || hi < 0 || lo > hi {
			return nil, fmt.Errorf("content-length-range [%d, %d] is empty or negative", lo, hi)
		}
		return []Condition{{Op: op, Min: lo, Max: hi, text: text}}, nil
	case OpEq, OpStartsWith:
		var field, value string
		if err := json.Unmarshal(arr[1], &field); err != nil {
			return nil, errors.New("the field must be a string like \"$key\"")
		}
		if err := json.Unmarshal(arr[2], &value); err != nil {
			return nil, errors.New("the value must be a string")
		}
		name, ok := strings.CutPrefix(field, "$")
		if !ok || name == "" {
			return nil, fmt.Errorf("the field %q must start with \"$\", like \"$key\"", field)
		}
		return []Condition{{Op: op, Field: strings.ToLower(name), Value: value, text: text}}, nil
	}
	return nil, fmt.Errorf("unknown operator %q; use \"eq\", \"starts-with\" or \"content-length-range\"", op)
}

// jsonInt reads an integer written as a JSON number or a numeric string
// (some clients quote the bounds of content-length-range).
func jsonInt(raw json.RawMessage) (int64, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return 0, err
	}
	return strconv.ParseInt(n.String(), 10, 64)
}

// compact renders raw JSON on one line, bounded, for messages.
func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		b.Reset()
		b.Write(raw)
	}
	s := b.String()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// renderArray writes a condition array as "[a, b, c]" with each element
// compacted, the way policies are usually written and quoted.
func renderArray(arr []json.RawMessage) string {
	parts := make([]string, len(arr))
	for i, e := range arr {
		parts[i] = compact(e)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// sortConditions orders the conditions of one exact-match object by field,
// so that evaluation and messages do not depend on map order.
func sortConditions(cs []Condition) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].Field < cs[j-1].Field; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}
