package objstore

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// MaxKeyLength is the longest object key, in bytes of UTF-8.
const MaxKeyLength = 1024

// CheckBucketName reports whether name follows the S3 bucket naming rules
// (general purpose buckets). The error wraps ErrInvalidBucketName and says
// which rule was broken.
func CheckBucketName(name string) error {
	bad := func(rule string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidBucketName, name, rule)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return bad("may contain only lowercase letters, digits, hyphens and dots")
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("must not contain two adjacent dots")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return bad("must not be formatted as an IP address")
	}
	if strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-") {
		return bad(`must not begin with "xn--" or "sthree-"`)
	}
	if strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3") {
		return bad(`must not end with "-s3alias" or "--ol-s3"`)
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// CheckKey reports whether key is a valid object key: non-empty, at most
// 1024 bytes, valid UTF-8. The error wraps ErrInvalidKey.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: the key is empty", ErrInvalidKey)
	case len(key) > MaxKeyLength:
		return fmt.Errorf("%w: the key is %d bytes long, over the limit of %d", ErrInvalidKey, len(key), MaxKeyLength)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: the key is not valid UTF-8", ErrInvalidKey)
	}
	return nil
}
