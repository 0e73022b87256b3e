package logs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// nginxTime is the layout of nginx's $time_local.
const nginxTime = "02/Jan/2006:15:04:05 -0700"

// ParseNginx parses one line of nginx's "combined" log format into r, which
// it overwrites:
//
//	$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
//
// Fields appended after the user agent are understood when they are a bare
// or quoted cache status ("$upstream_cache_status": HIT, MISS, EXPIRED …) or
// key=value pairs with one of these keys (value quoted or not):
// cache|cs|ucs|cache_status|upstream_cache_status, ua|upstream|upstream_addr,
// us|upstream_status, uht|upstream_header_time, urt|upstream_response_time,
// rt|request_time, host|h, range|http_range. Upstream lists use nginx's
// separators (", " between servers, " : " between internal redirects).
// Other appended fields are ignored.
func ParseNginx(line []byte, r *Record) error {
	p := nginxParser{s: line}
	remote, ok := p.word()
	if !ok {
		return fmt.Errorf("%w: no remote address", ErrNotNginx)
	}
	if _, ok := p.word(); !ok { // ident, always "-"
		return fmt.Errorf("%w: no ident field", ErrNotNginx)
	}
	if _, ok := p.word(); !ok { // $remote_user
		return fmt.Errorf("%w: no user field", ErrNotNginx)
	}
	ts, ok := p.bracketed()
	if !ok {
		return fmt.Errorf("%w: no [time]", ErrNotNginx)
	}
	t, err := time.Parse(nginxTime, string(ts))
	if err != nil {
		return fmt.Errorf("%w: time %q: %w", ErrNotNginx, ts, err)
	}
	req, ok := p.quoted()
	if !ok {
		return fmt.Errorf("%w: no quoted request line", ErrNotNginx)
	}
	st, ok := p.word()
	if !ok {
		return fmt.Errorf("%w: no status", ErrNotNginx)
	}
	status, err := strconv.Atoi(string(st))
	if err != nil || status < 0 || status > 999 {
		return fmt.Errorf("%w: status %q", ErrNotNginx, st)
	}
	bs, ok := p.word()
	if !ok {
		return fmt.Errorf("%w: no byte count", ErrNotNginx)
	}
	var sent int64
	if string(bs) != "-" {
		sent, err = strconv.ParseInt(string(bs), 10, 64)
		if err != nil || sent < 0 {
			return fmt.Errorf("%w: byte count %q", ErrNotNginx, bs)
		}
	}
	*r = Record{
		Kind:       KindRequest,
		Time:       t,
		Client:     string(remote),
		Status:     status,
		BytesSent:  sent,
		DurationMS: -1,
	}
	r.Method, r.URI = splitRequest(req)
	// Referer and user agent: "common" format lines end before them.
	if _, ok := p.quoted(); !ok {
		return nil
	}
	if _, ok := p.quoted(); !ok {
		return nil
	}
	p.extras(r)
	return nil
}

// splitRequest splits "GET /path HTTP/1.1"; a malformed request line (a
// TLS handshake sent to a plain port, "-") is kept whole as the URI.
func splitRequest(req []byte) (method, uri string) {
	f := bytes.Fields(req)
	if len(f) >= 2 && len(f) <= 3 && isUpperWord(f[0]) {
		return string(f[0]), string(f[1])
	}
	return "", unescapeNginx(req)
}

func isUpperWord(b []byte) bool {
	if len(b) == 0 || len(b) > 20 {
		return false
	}
	for _, c := range b {
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// unescapeNginx returns s with nginx's \xHH escapes kept as they are but
// bounded in length, so a garbage request line does not bloat a report.
func unescapeNginx(s []byte) string {
	const max = 256
	if len(s) > max {
		s = s[:max]
	}
	return string(s)
}

// nginxParser walks a log line.
type nginxParser struct {
	s []byte
	i int
}

func (p *nginxParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// word returns the next run of non-space bytes.
func (p *nginxParser) word() ([]byte, bool) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '\t' {
		p.i++
	}
	return p.s[start:p.i], p.i > start
}

// bracketed returns the text of the next "[...]".
func (p *nginxParser) bracketed() ([]byte, bool) {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return nil, false
	}
	end := bytes.IndexByte(p.s[p.i:], ']')
	if end < 0 {
		return nil, false
	}
	v := p.s[p.i+1 : p.i+end]
	p.i += end + 1
	return v, true
}

// quoted returns the text of the next double-quoted field; nginx escapes
// a quote inside as \x22, some formats as \".
func (p *nginxParser) quoted() ([]byte, bool) {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return nil, false
	}
	v, n, ok := quotedAt(p.s[p.i:])
	if !ok {
		return nil, false
	}
	p.i += n
	return v, true
}

// quotedAt reads a quoted string at the start of s, returning its content
// and the bytes consumed.
func quotedAt(s []byte) ([]byte, int, bool) {
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return s[1:j], j + 1, true
		}
	}
	return nil, 0, false
}

// token returns the next appended field: a quoted string, or a word that
// may be key=value with a quoted value.
func (p *nginxParser) token() (key, val string, ok bool) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return "", "", false
	}
	if p.s[p.i] == '"' {
		v, n, ok := quotedAt(p.s[p.i:])
		if !ok {
			p.i = len(p.s)
			return "", "", false
		}
		p.i += n
		return "", string(v), true
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '\t' && p.s[p.i] != '=' && p.s[p.i] != '"' {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '=' && p.i > start {
		key = strings.ToLower(string(p.s[start:p.i]))
		p.i++
		if p.i < len(p.s) && p.s[p.i] == '"' {
			if v, n, ok := quotedAt(p.s[p.i:]); ok {
				p.i += n
				return key, string(v), true
			}
		}
		vs := p.i
		for p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '\t' {
			p.i++
		}
		val = string(p.s[vs:p.i])
		// An unquoted nginx list continues after ", " and " : ".
		for strings.HasSuffix(val, ",") || strings.HasSuffix(val, " :") || p.peekWord() == ":" {
			save := p.i
			w, ok := p.word()
			if !ok || strings.Contains(string(w), "=") {
				p.i = save
				break
			}
			val += " " + string(w)
		}
		return key, val, true
	}
	for p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '\t' {
		p.i++
	}
	return "", string(p.s[start:p.i]), p.i > start
}

// peekWord returns the next word without consuming it.
func (p *nginxParser) peekWord() string {
	save := p.i
	w, _ := p.word()
	p.i = save
	return string(w)
}

// extras reads the fields appended to the combined format.
func (p *nginxParser) extras(r *Record) {
	var addrs, statuses, times []string
	for n := 0; n < 64; n++ {
		key, val, ok := p.token()
		if !ok {
			break
		}
		switch key {
		case "":
			if c := normCache(val); isCacheWord(c) {
				r.Cache = c
			}
		case "cache", "cs", "ucs", "cache_status", "upstream_cache_status":
			r.Cache = normCache(val)
		case "ua", "upstream", "upstream_addr":
			addrs = splitUpstream(val)
		case "us", "upstream_status":
			statuses = splitUpstream(val)
		case "uht", "upstream_header_time", "urt", "upstream_response_time":
			if times == nil || key == "uht" || key == "upstream_header_time" {
				times = splitUpstream(val)
			}
		case "rt", "request_time":
			if f, err := strconv.ParseFloat(val, 64); err == nil && f >= 0 {
				r.DurationMS = f * 1000
			}
		case "host", "h":
			if val != "-" {
				r.Host = strings.ToLower(val)
			}
		case "range", "http_range":
			if val != "-" {
				r.Range = val
			}
		}
	}
	for i, a := range addrs {
		at := Attempt{Addr: a, MS: -1}
		if i < len(statuses) {
			at.Status, _ = strconv.Atoi(statuses[i])
		}
		if i < len(times) {
			if f, err := strconv.ParseFloat(times[i], 64); err == nil && f >= 0 {
				at.MS = f * 1000
			}
		}
		if a != "-" && a != "" {
			r.Upstream = append(r.Upstream, at)
		}
	}
}

// isCacheWord reports whether s is an $upstream_cache_status value.
func isCacheWord(s string) bool {
	switch s {
	case "HIT", "MISS", "EXPIRED", "STALE", "UPDATING", "REVALIDATED", "BYPASS":
		return true
	}
	return false
}

// splitUpstream splits an nginx upstream list ("a, b : c"), at most 32
// elements.
func splitUpstream(v string) []string {
	v = strings.ReplaceAll(v, " : ", ", ")
	parts := strings.Split(v, ",")
	if len(parts) > 32 {
		parts = parts[:32]
	}
	out := make([]string, 0, len(parts))
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
