package transform

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

// ErrTooLarge reports a body that decodes to more than the limit given: the
// caller serves it another way (or not at all) rather than holding it in
// memory. It also stops a decompression bomb.
var ErrTooLarge = errors.New("transform: decoded body exceeds the limit")

// Default compression levels: what nginx (gzip_comp_level 6 is common) and
// Cloudflare use for content compressed once and then cached.
const (
	DefaultGzipLevel   = 6
	DefaultBrotliLevel = 5
)

// NewReader returns a reader of the decoded body of r, which is encoded
// with c.
func NewReader(c Coding, r io.Reader) (io.Reader, error) {
	switch c {
	case Identity:
		return r, nil
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("transform: gzip body: %w", err)
		}
		return zr, nil
	case Brotli:
		return brotli.NewReader(r), nil
	}
	return nil, fmt.Errorf("transform: cannot decode content coding %q", c)
}

// Decode returns body decoded from coding c, or ErrTooLarge when the
// result would exceed limit bytes.
func Decode(c Coding, body []byte, limit int64) ([]byte, error) {
	if c == Identity {
		return body, nil
	}
	r, err := NewReader(c, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("transform: %s body: %w", c, err)
	}
	if n > limit {
		return nil, ErrTooLarge
	}
	return out.Bytes(), nil
}

// Encode returns body encoded with c at the given level (0: the default
// of the coding).
func Encode(c Coding, body []byte, level int) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(body)/3 + 64)
	var w io.WriteCloser
	switch c {
	case Identity:
		return body, nil
	case Gzip:
		if level == 0 {
			level = DefaultGzipLevel
		}
		zw, err := gzip.NewWriterLevel(&out, level)
		if err != nil {
			return nil, fmt.Errorf("transform: gzip level %d: %w", level, err)
		}
		w = zw
	case Brotli:
		if level == 0 {
			level = DefaultBrotliLevel
		}
		w = brotli.NewWriterLevel(&out, level)
	default:
		return nil, fmt.Errorf("transform: cannot encode content coding %q", c)
	}
	if _, err := w.Write(body); err != nil {
		return nil, fmt.Errorf("transform: %s: %w", c, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("transform: %s: %w", c, err)
	}
	return out.Bytes(), nil
}
