package diag

import (
	"context"
	"crypto/md5"  //nolint:gosec // Content-MD5 is MD5 by definition (RFC 1864)
	"crypto/sha1" //nolint:gosec // x-amz-checksum-sha1 is SHA-1 by definition
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"time"
)

// sample is what a probe keeps of one response: the head, and hashes of
// the body as it was sent (no decompression).
type sample struct {
	Status    int
	Proto     string
	Header    http.Header
	Len       int64 // body bytes read
	Truncated bool  // the body was longer than MaxBody; hashes cover a prefix
	Close     bool  // the response said Connection: close
	Reused    bool  // the request went over a reused connection
	TLS       *tls.ConnectionState

	MD5, SHA1, SHA256 []byte
	CRC32, CRC32C     uint32
	CRC64             uint64 // CRC-64/ECMA-182 as Alibaba OSS and others use it
}

// BodyHash returns the SHA-256 of the body read, in hex, marked when it
// covers only a prefix.
func (s *sample) BodyHash() string {
	h := hex.EncodeToString(s.SHA256)
	if s.Truncated {
		h += " (first " + itoa(s.Len) + " bytes)"
	}
	return h
}

var (
	crc32c   = crc32.MakeTable(crc32.Castagnoli)
	crc64ecm = crc64.MakeTable(crc64.ECMA)
)

// do sends req on c and reads the response body up to limit bytes,
// hashing it.
func (p *prober) do(c *http.Client, req *http.Request, limit int64) (*sample, error) {
	s := &sample{}
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { s.Reused = i.Reused }}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	s.Status, s.Proto, s.Header, s.Close, s.TLS = resp.StatusCode, resp.Proto, resp.Header, resp.Close, resp.TLS
	if err := s.readBody(resp.Body, min(limit, p.maxBody)); err != nil {
		return s, err
	}
	return s, nil
}

// readBody hashes up to limit bytes of r.
func (s *sample) readBody(r io.Reader, limit int64) error {
	m5, s1, s256 := md5.New(), sha1.New(), sha256.New() //nolint:gosec
	c32, c32c, c64 := crc32.NewIEEE(), crc32.New(crc32c), crc64.New(crc64ecm)
	w := io.MultiWriter(m5, s1, s256, c32, c32c, c64)
	n, err := io.Copy(w, io.LimitReader(r, limit))
	s.Len = n
	if err == nil && n == limit {
		var one [1]byte
		if k, _ := r.Read(one[:]); k > 0 {
			s.Truncated = true
		}
	}
	s.MD5, s.SHA1, s.SHA256 = m5.Sum(nil), s1.Sum(nil), s256.Sum(nil)
	s.CRC32, s.CRC32C, s.CRC64 = c32.Sum32(), c32c.Sum32(), c64.Sum64()
	return err
}

// fetchBase makes the baseline request on a fresh connection, timing its
// phases as curl does.
func (p *prober) fetchBase(ctx context.Context) {
	var (
		start                                      = time.Now()
		dnsDone, connDone, tlsDone, firstByte, end time.Time
	)
	trace := &httptrace.ClientTrace{
		DNSDone:              func(httptrace.DNSDoneInfo) { dnsDone = time.Now() },
		ConnectDone:          func(_, _ string, err error) { connDone = time.Now() },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { tlsDone = time.Now() },
		GotFirstResponseByte: func() { firstByte = time.Now() },
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := p.newRequest(httptrace.WithClientTrace(ctx, trace), http.MethodGet)
	if err != nil {
		p.baseErr = err
		return
	}
	c := p.client(nil)
	defer c.CloseIdleConnections()
	s, err := p.do(c, req, p.maxBody)
	end = time.Now()
	if err != nil {
		p.baseErr = err
		return
	}
	p.base = s
	p.timing = curlTiming(start, dnsDone, connDone, tlsDone, firstByte, end)
}

// curlTiming turns the moments phases ended into curl's cumulative
// timings. A phase that did not happen (zero time) ends when the phase
// before it did, except time_appconnect, which curl reports as 0 without
// TLS.
func curlTiming(start, dns, conn, tlsDone, first, end time.Time) *Timing {
	since := func(t, prev time.Time) time.Time {
		if t.IsZero() {
			return prev
		}
		return t
	}
	dns = since(dns, start)
	conn = since(conn, dns)
	t := &Timing{NameLookup: dns.Sub(start), Connect: conn.Sub(start)}
	last := conn
	if !tlsDone.IsZero() {
		t.AppConnect = tlsDone.Sub(start)
		last = tlsDone
	}
	first = since(first, last)
	t.StartTransfer = first.Sub(start)
	t.Total = since(end, first).Sub(start)
	return t
}

// headerLines formats the named header fields of h as evidence, "Name:
// value", skipping absent ones.
func headerLines(h http.Header, names ...string) []string {
	var out []string
	for _, n := range names {
		for _, v := range h.Values(n) {
			out = append(out, http.CanonicalHeaderKey(n)+": "+v)
		}
	}
	return out
}

// statusLine formats a response's status for evidence.
func statusLine(s *sample) string {
	return s.Proto + " " + itoa(int64(s.Status)) + " " + http.StatusText(s.Status)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// hasToken reports whether the comma-separated list fields named name in h
// contain token, case-insensitively.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, el := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(el), token) {
				return true
			}
		}
	}
	return false
}
