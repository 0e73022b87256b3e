package postpolicy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted in x-amz-algorithm.
const Algorithm = "AWS4-HMAC-SHA256"

// ErrMalformedCredential reports an x-amz-credential that is not
// "<access key>/<yyyymmdd>/<region>/s3/aws4_request".
var ErrMalformedCredential = errors.New("malformed x-amz-credential")

// Credential is the parsed x-amz-credential form field: the access key and
// the scope of the signing key.
type Credential struct {
	AccessKey string
	Date      string // yyyymmdd
	Region    string
	Service   string // "s3"
}

// String formats c as it goes in x-amz-credential.
func (c Credential) String() string {
	return c.AccessKey + "/" + c.Date + "/" + c.Region + "/" + c.Service + "/aws4_request"
}

// ParseCredential parses an x-amz-credential value.
func ParseCredential(s string) (Credential, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return Credential{}, fmt.Errorf("%w: %q has %d parts; want <access key>/<yyyymmdd>/<region>/s3/aws4_request", ErrMalformedCredential, s, len(parts))
	}
	c := Credential{AccessKey: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}
	switch {
	case c.AccessKey == "":
		return Credential{}, fmt.Errorf("%w: %q has an empty access key", ErrMalformedCredential, s)
	case !isDate(c.Date):
		return Credential{}, fmt.Errorf("%w: %q: the date %q is not yyyymmdd", ErrMalformedCredential, s, c.Date)
	case c.Region == "":
		return Credential{}, fmt.Errorf("%w: %q has an empty region", ErrMalformedCredential, s)
	case c.Service != "s3":
		return Credential{}, fmt.Errorf("%w: %q: the service is %q, want \"s3\"", ErrMalformedCredential, s, c.Service)
	case parts[4] != "aws4_request":
		return Credential{}, fmt.Errorf("%w: %q must end in \"/aws4_request\"", ErrMalformedCredential, s)
	}
	return c, nil
}

func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := time.Parse("20060102", s)
	return err == nil
}

// Signature is the SigV4 signature of a POST form: the hex HMAC-SHA256 of
// the base64 policy (exactly as sent in the form) under the signing key
// derived from secret and the credential's scope.
func Signature(secret string, c Credential, policyB64 string) string {
	k := hmacSHA256([]byte("AWS4"+secret), c.Date)
	k = hmacSHA256(k, c.Region)
	k = hmacSHA256(k, c.Service)
	k = hmacSHA256(k, "aws4_request")
	return hex.EncodeToString(hmacSHA256(k, policyB64))
}

// SignatureEqual compares signatures in constant time, ignoring hex case.
func SignatureEqual(a, b string) bool {
	return hmac.Equal([]byte(strings.ToLower(a)), []byte(strings.ToLower(b)))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// Presign describes a browser upload form to create: what the policy
// allows and whose key signs it.
type Presign struct {
	Bucket string
	// Key is the object key; a key ending in "${filename}" is allowed by a
	// starts-with condition on what precedes it, any other key by eq.
	Key string
	// Fields are extra form fields (Content-Type, x-amz-meta-*,
	// success_action_redirect, ...), each allowed by an eq condition.
	Fields map[string]string
	// MinSize and MaxSize, when MaxSize > 0, add a content-length-range.
	MinSize, MaxSize int64
	// Expires is how long after Now the form may be used.
	Expires time.Duration
	Now     time.Time

	AccessKey, Secret, Region string
}

// Form returns the fields of the form, policy and signature included; the
// file goes after them in a field named "file".
func (p Presign) Form() map[string]string {
	now := p.Now.UTC()
	cred := Credential{AccessKey: p.AccessKey, Date: now.Format("20060102"), Region: p.Region, Service: "s3"}
	form := map[string]string{
		"key":              p.Key,
		"x-amz-algorithm":  Algorithm,
		"x-amz-credential": cred.String(),
		"x-amz-date":       now.Format("20060102T150405Z"),
	}
	conds := []any{
		map[string]string{"bucket": p.Bucket},
	}
	if prefix, ok := strings.CutSuffix(p.Key, "${filename}"); ok {
		conds = append(conds, []string{OpStartsWith, "$key", prefix})
	} else {
		conds = append(conds, []string{OpEq, "$key", p.Key})
	}
	names := make([]string, 0, len(p.Fields))
	for k := range p.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		form[k] = p.Fields[k]
		conds = append(conds, []string{OpEq, "$" + k, p.Fields[k]})
	}
	for _, k := range []string{"x-amz-algorithm", "x-amz-credential", "x-amz-date"} {
		conds = append(conds, map[string]string{k: form[k]})
	}
	if p.MaxSize > 0 {
		conds = append(conds, []any{OpContentLengthRange, p.MinSize, p.MaxSize})
	}
	doc, _ := json.Marshal(map[string]any{
		"expiration": now.Add(p.Expires).Format("2006-01-02T15:04:05.000Z"),
		"conditions": conds,
	})
	b64 := base64.StdEncoding.EncodeToString(doc)
	form["policy"] = b64
	form["x-amz-signature"] = Signature(p.Secret, cred, b64)
	return form
}
