package s3api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/strata-cdn/strata/internal/objstore"
)

// Bucket policies: Strata supports the subset that makes part of a bucket
// public: statements that Allow s3:GetObject to every principal ("*") on
// resources arn:aws:s3:::bucket/pattern, where the pattern may use the
// IAM wildcards "*" and "?". Anything else is refused when the policy is
// put, naming the element, rather than stored and silently not enforced.

const (
	policyConfigName = "policy"
	// maxPolicySize is S3's limit on a bucket policy document.
	maxPolicySize = 20 << 10
	arnPrefix     = "arn:aws:s3:::"
)

// anonPolicy is a parsed, validated policy: the key patterns anonymous
// clients may GET and HEAD.
type anonPolicy struct {
	readPatterns []string
}

func errMalformedPolicy(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "MalformedPolicy", format, args...)
}

func errPolicyNotImplemented(format string, args ...any) *apiError {
	return newError(http.StatusNotImplemented, "NotImplemented",
		"%s; Strata's bucket policies only Allow s3:GetObject to Principal \"*\" on arn:aws:s3:::<bucket>/<key pattern>.",
		fmt.Sprintf(format, args...))
}

// parseBucketPolicy validates a policy document for bucket.
func parseBucketPolicy(bucket string, doc []byte) (*anonPolicy, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, errMalformedPolicy("Policies must be valid JSON objects: %v", errOr(err, "not an object"))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errMalformedPolicy("Policies must be valid JSON: data follows the policy's JSON object")
	}
	for _, k := range sortedKeys(top) {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return nil, errMalformedPolicy("Unknown policy element %q; a policy has Version, Id and Statement.", k)
		}
	}
	if raw, ok := top["Version"]; ok {
		var v string
		if json.Unmarshal(raw, &v) != nil || (v != "2012-10-17" && v != "2008-10-17") {
			return nil, errMalformedPolicy("The policy Version %s is not valid; use \"2012-10-17\".", raw)
		}
	}
	rawStmts, ok := top["Statement"]
	if !ok {
		return nil, errMalformedPolicy("Missing required field Statement.")
	}
	var stmts []json.RawMessage
	if err := json.Unmarshal(rawStmts, &stmts); err != nil {
		// A single statement may be written without the array.
		stmts = []json.RawMessage{rawStmts}
	}
	if len(stmts) == 0 {
		return nil, errMalformedPolicy("The policy has no statements.")
	}
	p := &anonPolicy{}
	for i, raw := range stmts {
		pats, err := parseStatement(bucket, i, raw)
		if err != nil {
			return nil, err
		}
		p.readPatterns = append(p.readPatterns, pats...)
	}
	return p, nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseStatement checks one statement and returns its key patterns.
func parseStatement(bucket string, i int, raw json.RawMessage) ([]string, error) {
	var st map[string]json.RawMessage
	if err := json.Unmarshal(raw, &st); err != nil || st == nil {
		return nil, errMalformedPolicy("Statement[%d] must be a JSON object.", i)
	}
	for _, k := range sortedKeys(st) {
		switch k {
		case "Sid", "Effect", "Principal", "Action", "Resource":
		case "Condition", "NotPrincipal", "NotAction", "NotResource":
			return nil, errPolicyNotImplemented("Statement[%d] uses %s, which Strata does not support", i, k)
		default:
			return nil, errMalformedPolicy("Statement[%d] has an unknown element %q.", i, k)
		}
	}
	var effect string
	if json.Unmarshal(st["Effect"], &effect) != nil {
		return nil, errMalformedPolicy("Statement[%d] is missing Effect (Allow or Deny).", i)
	}
	switch effect {
	case "Allow":
	case "Deny":
		return nil, errPolicyNotImplemented("Statement[%d] has Effect Deny", i)
	default:
		return nil, errMalformedPolicy("Statement[%d] has an invalid Effect %q; use Allow.", i, effect)
	}
	if err := checkPrincipal(i, st["Principal"]); err != nil {
		return nil, err
	}
	actions, err := stringOrList(st["Action"])
	if err != nil || len(actions) == 0 {
		return nil, errMalformedPolicy("Statement[%d] is missing Action, or it is not a string or list of strings.", i)
	}
	for _, a := range actions {
		if !strings.EqualFold(a, "s3:GetObject") {
			return nil, errPolicyNotImplemented("Statement[%d] has Action %q", i, a)
		}
	}
	resources, err := stringOrList(st["Resource"])
	if err != nil || len(resources) == 0 {
		return nil, errMalformedPolicy("Statement[%d] is missing Resource, or it is not a string or list of strings.", i)
	}
	var pats []string
	for _, r := range resources {
		rest, ok := strings.CutPrefix(r, arnPrefix)
		if !ok {
			return nil, errMalformedPolicy("Statement[%d] has an invalid Resource %q: it must start with %q.", i, r, arnPrefix)
		}
		b, pat, hasKey := strings.Cut(rest, "/")
		if b != bucket {
			return nil, errMalformedPolicy("Policy has invalid resource: Statement[%d] Resource %q names bucket %q, not this bucket %q.", i, r, b, bucket)
		}
		if !hasKey || pat == "" {
			return nil, errMalformedPolicy("Action does not apply to any resource(s) in statement: Statement[%d] Resource %q is the bucket; s3:GetObject needs objects, such as %s%s/*.", i, r, arnPrefix, bucket)
		}
		pats = append(pats, pat)
	}
	return pats, nil
}

// checkPrincipal accepts only everyone: "*", {"AWS": "*"} or
// {"AWS": ["*"]}.
func checkPrincipal(i int, raw json.RawMessage) error {
	if raw == nil {
		return errMalformedPolicy("Statement[%d] is missing Principal.", i)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "*" {
			return nil
		}
		return errPolicyNotImplemented("Statement[%d] has Principal %q", i, s)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return errMalformedPolicy("Statement[%d] has an invalid Principal.", i)
	}
	for _, k := range sortedKeys(m) {
		vals, err := stringOrList(m[k])
		if err != nil {
			return errMalformedPolicy("Statement[%d] has an invalid Principal %s.", i, k)
		}
		if k != "AWS" {
			return errPolicyNotImplemented("Statement[%d] has a %s principal", i, k)
		}
		for _, v := range vals {
			if v != "*" {
				return errPolicyNotImplemented("Statement[%d] has Principal AWS %q", i, v)
			}
		}
	}
	if len(m) == 0 {
		return errMalformedPolicy("Statement[%d] has an empty Principal.", i)
	}
	return nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, errors.New("missing")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}, nil
	}
	var l []string
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, err
	}
	return l, nil
}

// allowsRead reports whether the policy lets anyone GET key.
func (p *anonPolicy) allowsRead(key string) bool {
	for _, pat := range p.readPatterns {
		if wildcardMatch(pat, key) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against an IAM pattern: "*" is any run of
// characters (including "/"), "?" any one character. Case-sensitive, as
// object keys are. Iterative with one backtrack point, so linear-ish.
func wildcardMatch(pat, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pat) && (pat[p] == '?' || pat[p] == s[i]):
			p++
			i++
		case p < len(pat) && pat[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}

// policyAllowsRead loads the bucket's policy and reports whether it lets
// an anonymous client read key. A missing or unreadable policy allows
// nothing.
func (req *request) policyAllowsRead(key string) (bool, error) {
	doc, err := req.h.Store.GetBucketConfig(req.ctx, req.bucket, policyConfigName)
	if err != nil {
		if errors.Is(err, objstore.ErrNoSuchBucketConfig) || errors.Is(err, objstore.ErrNoSuchBucket) {
			return false, nil
		}
		return false, err
	}
	p, err := parseBucketPolicy(req.bucket, doc)
	if err != nil {
		// Validated when put; a policy that no longer parses grants nothing.
		req.h.logger().Warn("stored bucket policy does not parse; it grants nothing",
			"request_id", req.id, "bucket", req.bucket, "error", err)
		return false, nil
	}
	return p.allowsRead(key), nil
}

// putBucketPolicy validates and stores a policy document as sent.
func (req *request) putBucketPolicy() error {
	data, err := io.ReadAll(io.LimitReader(req.body, maxPolicySize+1))
	if err != nil {
		return err
	}
	if len(data) > maxPolicySize {
		return errMalformedPolicy("Policies must be no larger than %d bytes.", maxPolicySize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errMalformedPolicy("Policies must be valid JSON and the first byte must be '{'; the request body is empty.")
	}
	if _, err := req.h.Store.GetBucket(req.ctx, req.bucket); err != nil {
		return err
	}
	if _, err := parseBucketPolicy(req.bucket, data); err != nil {
		return err
	}
	if err := req.h.Store.PutBucketConfig(req.ctx, req.bucket, policyConfigName, data); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (req *request) getBucketPolicy() error {
	doc, err := req.h.Store.GetBucketConfig(req.ctx, req.bucket, policyConfigName)
	if errors.Is(err, objstore.ErrNoSuchBucketConfig) {
		return newError(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist: bucket %s has none.", req.bucket)
	}
	if err != nil {
		return err
	}
	hdr := req.w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", fmt.Sprint(len(doc)))
	req.w.WriteHeader(http.StatusOK)
	_, _ = req.w.Write(doc)
	return nil
}

func (req *request) deleteBucketPolicy() error {
	if err := req.h.Store.DeleteBucketConfig(req.ctx, req.bucket, policyConfigName); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}
