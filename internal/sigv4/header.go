package sigv4

import (
	"strings"
	"time"
)

// credential is the parsed Credential of a SigV4 request:
// "AKID/20130524/us-east-1/s3/aws4_request".
type credential struct {
	accessKey string
	date      string // yyyymmdd, the scope's day
	region    string
	service   string
}

// scope is the credential scope, the part after the access key.
func (c credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + scopeTerminal
}

// authorization is what a header-signed or presigned request carries.
type authorization struct {
	credential
	signedHeaders []string
	signature     string
}

// parseCredential parses "AKID/date/region/service/aws4_request". The
// access key is everything before the last four fields.
func parseCredential(s string) (credential, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 5 {
		return credential{}, malformed("credential %q is not access-key/date/region/service/aws4_request", truncate(s))
	}
	n := len(parts)
	c := credential{
		accessKey: strings.Join(parts[:n-4], "/"),
		date:      parts[n-4],
		region:    parts[n-3],
		service:   parts[n-2],
	}
	switch {
	case c.accessKey == "":
		return credential{}, malformed("credential %q has an empty access key", truncate(s))
	case !isScopeDate(c.date):
		return credential{}, malformed("credential date %q is not yyyymmdd", truncate(c.date))
	case c.region == "":
		return credential{}, malformed("credential %q has an empty region", truncate(s))
	case c.service != serviceS3:
		return credential{}, malformed("credential service is %q; it must be s3", truncate(c.service))
	case parts[n-1] != scopeTerminal:
		return credential{}, malformed("credential %q does not end in aws4_request", truncate(s))
	}
	return c, nil
}

func isScopeDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := time.Parse(scopeDate, s)
	return err == nil
}

// parseSignedHeaders parses "host;range;x-amz-date": lower-case header
// names separated by ';', host among them (SigV4 requires it), no repeats.
func parseSignedHeaders(s string) ([]string, error) {
	if s == "" {
		return nil, malformed("SignedHeaders is empty")
	}
	names := strings.Split(s, ";")
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !isLowerToken(n) {
			return nil, malformed("SignedHeaders %q: %q is not a lower-case header name", truncate(s), truncate(n))
		}
		if seen[n] {
			return nil, malformed("SignedHeaders %q names %q twice", truncate(s), n)
		}
		seen[n] = true
	}
	if !seen["host"] {
		return nil, malformed("SignedHeaders %q does not include host", truncate(s))
	}
	return names, nil
}

// isLowerToken reports whether s is a non-empty RFC 9110 §5.6.2 token
// without upper-case letters.
func isLowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isSignature reports whether s is a hex SHA-256 HMAC as SigV4 writes it.
func isSignature(s string) bool {
	return len(s) == 64 && isLowerHex(s)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// parseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// Fields are separated by ',' with optional spaces (minio-go sends none);
// each of the three must appear once. A different scheme, such as
// Signature Version 2 ("AWS AKID:sig") or SigV4a, is ErrUnsupportedSigning.
func parseAuthorization(h string) (authorization, error) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	if scheme != algorithm {
		switch scheme {
		case "AWS":
			return authorization{}, errorsf(ErrUnsupportedSigning, "Authorization uses Signature Version 2; use AWS4-HMAC-SHA256")
		default:
			return authorization{}, errorsf(ErrUnsupportedSigning, "Authorization scheme %q; use AWS4-HMAC-SHA256", truncate(scheme))
		}
	}
	var cred, signed, sig string
	var have [3]bool
	for _, field := range strings.Split(rest, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return authorization{}, malformed("Authorization field %q is not key=value", truncate(field))
		}
		var i int
		var dst *string
		switch k {
		case "Credential":
			i, dst = 0, &cred
		case "SignedHeaders":
			i, dst = 1, &signed
		case "Signature":
			i, dst = 2, &sig
		default:
			return authorization{}, malformed("Authorization has unknown field %q", truncate(k))
		}
		if have[i] {
			return authorization{}, malformed("Authorization has %s twice", k)
		}
		have[i], *dst = true, v
	}
	for i, name := range [3]string{"Credential", "SignedHeaders", "Signature"} {
		if !have[i] {
			return authorization{}, malformed("Authorization has no %s", name)
		}
	}
	return newAuthorization(cred, signed, sig)
}

// newAuthorization validates the three parts shared by the header and
// presigned forms.
func newAuthorization(cred, signed, sig string) (authorization, error) {
	c, err := parseCredential(cred)
	if err != nil {
		return authorization{}, err
	}
	names, err := parseSignedHeaders(signed)
	if err != nil {
		return authorization{}, err
	}
	if !isSignature(sig) {
		return authorization{}, malformed("signature %q is not 64 lower-case hex digits", truncate(sig))
	}
	return authorization{credential: c, signedHeaders: names, signature: sig}, nil
}
