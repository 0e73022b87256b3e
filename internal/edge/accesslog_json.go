package edge

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// The access log writes a record per request, so its encoder is written by
// hand: appendAccessRecord appends to a buffer the writer reuses, with no
// reflection and no allocation. Its output is byte for byte what
// encoding/json makes of the record (AccessRecord's field tags; the tests
// compare the two): the same field order and omissions, strings escaped the
// same way (HTML-safe, invalid UTF-8 as U+FFFD), numbers formatted the
// same way.

// errAccessNumber reports a duration that is not a finite number, which
// JSON cannot carry (encoding/json refuses it too).
var errAccessNumber = errors.New("edge: access record: a duration is not a finite number")

// appendAccessRecord appends r as a JSON object, its time first.
func appendAccessRecord(b []byte, r *AccessRecord) ([]byte, error) {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, accessTimeLayout)
	b = append(b, `","kind":`...)
	b = appendJSONString(b, r.Kind)
	b = append(b, `,"node":`...)
	b = appendJSONString(b, r.Node)
	b = appendOmitString(b, `,"request_id":`, r.RequestID)
	b = appendOmitString(b, `,"client":`, r.Client)
	b = appendOmitString(b, `,"method":`, r.Method)
	b = appendOmitString(b, `,"host":`, r.Host)
	b = appendOmitString(b, `,"uri":`, r.URI)
	b = appendOmitString(b, `,"proto":`, r.Proto)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = appendOmitString(b, `,"range":`, r.Range)
	b = append(b, `,"bytes_sent":`...)
	b = strconv.AppendInt(b, r.BytesSent, 10)
	b = append(b, `,"bytes_origin":`...)
	b = strconv.AppendInt(b, r.BytesOrigin, 10)
	b = appendOmitString(b, `,"cache":`, r.Cache)
	if len(r.Upstream) > 0 {
		b = append(b, `,"upstream":[`...)
		for i := range r.Upstream {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendUpstreamAttempt(b, &r.Upstream[i]); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	if r.UpstreamMore != 0 {
		b = append(b, `,"upstream_more":`...)
		b = strconv.AppendInt(b, int64(r.UpstreamMore), 10)
	}
	var err error
	b = append(b, `,"duration_ms":`...)
	if b, err = appendJSONFloat(b, r.DurationMS); err != nil {
		return b, err
	}
	if r.TTFBMS != 0 {
		b = append(b, `,"ttfb_ms":`...)
		if b, err = appendJSONFloat(b, r.TTFBMS); err != nil {
			return b, err
		}
	}
	b = appendOmitString(b, `,"user_agent":`, r.UserAgent)
	b = appendOmitString(b, `,"referer":`, r.Referer)
	if r.Upgrade {
		b = append(b, `,"upgrade":true`...)
	}
	b = appendOmitString(b, `,"error":`, r.Error)
	if r.Dropped != 0 {
		b = append(b, `,"dropped":`...)
		b = strconv.AppendInt(b, r.Dropped, 10)
	}
	return append(b, '}'), nil
}

// appendUpstreamAttempt appends a as a JSON object.
func appendUpstreamAttempt(b []byte, a *UpstreamAttempt) ([]byte, error) {
	b = append(b, `{"addr":`...)
	b = appendJSONString(b, a.Addr)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(a.Status), 10)
	b = append(b, `,"ms":`...)
	b, err := appendJSONFloat(b, a.MS)
	if err != nil {
		return b, err
	}
	b = appendOmitString(b, `,"error":`, a.Error)
	return append(b, '}'), nil
}

// appendOmitString appends the member key:s unless s is empty (omitempty).
func appendOmitString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	return appendJSONString(b, s)
}

// appendJSONFloat formats f as encoding/json does (like ES6: no exponent
// between 1e-6 and 1e21, and none padded).
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, errAccessNumber
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it by default: quote, backslash and the controls, the HTML
// characters <, > and &, U+2028 and U+2029; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
