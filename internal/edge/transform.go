package edge

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"

	"github.com/strata-cdn/strata/internal/cachestore"
	"github.com/strata-cdn/strata/internal/transform"
)

// Defaults of a Transform's zero fields.
const (
	// DefaultTransformMinSize is the smallest body compressed: below it
	// the coding's framing outweighs the gain.
	DefaultTransformMinSize = 256
	// DefaultTransformMaxSize is the largest body transformed; it is held
	// in memory while being decoded, minified and encoded.
	DefaultTransformMaxSize = 16 << 20
)

// DefaultTransformTypes are the media types compressed when a Transform
// lists none: text and the structured formats that compress well.
var DefaultTransformTypes = []string{
	"text/*",
	"application/javascript", "application/x-javascript", "application/ecmascript",
	"application/json", "application/ld+json", "application/manifest+json",
	"application/xml", "application/xhtml+xml", "application/rss+xml", "application/atom+xml",
	"application/wasm", "image/svg+xml", "image/x-icon", "font/ttf", "font/otf",
}

// TransformHeader names the response field that says what the edge did to
// a body ("decode=gzip, minify=html, encode=br"), so that a page that
// looks different through the edge can be explained (C03).
const TransformHeader = "X-Strata-Transform"

// Transform is a domain's content transformation at the edge (case C03).
// The edge decodes an origin's gzip or brotli body, minifies it, and
// encodes it for the client's Accept-Encoding, in that order, so neither
// step disables the other; each result is cached as a variant of the
// stored response and answered with Vary: Accept-Encoding.
type Transform struct {
	// Codings are offered to clients in order of preference (Brotli,
	// Gzip); empty: bodies are sent unencoded (and decoded for clients
	// that do not accept the origin's coding).
	Codings []transform.Coding
	// Types are the media types compressed and minified: exact types or
	// "type/*". Empty: DefaultTransformTypes.
	Types []string
	// Minify lists the kinds of content minified (HTML, CSS, JS).
	Minify []transform.Kind
	// MinSize: smaller bodies are not compressed. Zero:
	// DefaultTransformMinSize.
	MinSize int64
	// MaxSize: larger bodies are passed on as they are, or decoded as a
	// stream for a client that does not accept the origin's coding. Zero:
	// DefaultTransformMaxSize.
	MaxSize int64
	// GzipLevel and BrotliLevel are the compression levels; zero: the
	// defaults of package transform.
	GzipLevel, BrotliLevel int
	// OriginAcceptEncoding replaces the client's Accept-Encoding on
	// requests to the origin, so that one stored response serves every
	// client: "gzip" asks for gzip (the edge decodes it as needed), empty
	// asks for the identity coding. Slice and range fetches always ask
	// for identity (an origin that gzips answers those with a whole 200).
	OriginAcceptEncoding string
}

func (t *Transform) types() []string {
	if len(t.Types) == 0 {
		return DefaultTransformTypes
	}
	return t.Types
}

func (t *Transform) minSize() int64 {
	if t.MinSize > 0 {
		return t.MinSize
	}
	return DefaultTransformMinSize
}

func (t *Transform) maxSize() int64 {
	if t.MaxSize > 0 {
		return t.MaxSize
	}
	return DefaultTransformMaxSize
}

func (t *Transform) minifies(k transform.Kind) bool {
	for _, m := range t.Minify {
		if k != "" && m == k {
			return true
		}
	}
	return false
}

func (t *Transform) level(c transform.Coding) int {
	if c == transform.Brotli {
		return t.BrotliLevel
	}
	return t.GzipLevel
}

// originAcceptEncoding puts the domain's Accept-Encoding on a request to
// its origin; ranged says the request asks for part of the body.
func (d *Domain) originAcceptEncoding(hd http.Header, ranged bool) {
	t := d.Transform
	switch {
	case t == nil:
	case ranged || t.OriginAcceptEncoding == "":
		hd.Set("Accept-Encoding", "identity")
	default:
		hd.Set("Accept-Encoding", t.OriginAcceptEncoding)
	}
}

// storedRef names the stored response a representation was read from, so
// that its transformed variants are cached beside it.
type storedRef struct {
	key      string // the entry's key
	identity string // what distinguishes this response from a later one
}

// storedIdentity returns what tells a stored response from another stored
// under the same key later: its validators, length and coding, and, when
// it has no validator, when it was received.
func storedIdentity(m cachestore.Meta, size int64) string {
	id := m.Header.Get("Etag") + "|" + m.Header.Get("Last-Modified") + "|" + itoa(size) + "|" + m.Header.Get("Content-Encoding")
	if m.Header.Get("Etag") == "" && m.Header.Get("Last-Modified") == "" {
		id += "|" + itoa(m.ResponseTime.UnixNano())
	}
	return id
}

// transformKey is the cache key of a stored response's variant made by
// the steps named in tag.
func transformKey(obj, tag string) string { return obj + "#x=" + tag }

// transformed is a body the edge has transformed.
type transformed struct {
	header http.Header
	body   []byte
}

// transformed returns the representation this exchange sends in place of
// rep (rep itself when there is nothing to do) and a function that
// releases what it opened. An error is a failure to read rep's body.
func (x *exchange) transformed(rep representation) (representation, func(), error) {
	nop := func() {}
	t := x.dom.Transform
	if t == nil || rep.status != http.StatusOK || headerHasTokenFold(rep.header, "Cache-Control", "no-transform") {
		// RFC 9110 §7.7: a proxy must not transform a no-transform body.
		return rep, nop, nil
	}
	from, known := transform.ParseCoding(rep.header.Get("Content-Encoding"))
	if !known {
		return rep, nop, nil // a coding the edge cannot undo passes untouched
	}
	mt := transform.MediaType(rep.header.Get("Content-Type"))
	eligible := transform.MatchType(t.types(), mt)
	if !eligible && from == transform.Identity {
		return rep, nop, nil
	}
	accept := x.r.Header.Values("Accept-Encoding")
	kind := transform.KindOf(mt)
	minify := eligible && t.minifies(kind)
	var offered []transform.Coding
	if eligible {
		offered = t.Codings
	}
	to := transform.Negotiate(accept, offered)
	asIs := rep
	asIs.header = rep.header.Clone()
	addVary(asIs.header, "Accept-Encoding")
	switch {
	case !minify && to == from,
		!eligible && transform.Accepts(accept, from):
		return asIs, nop, nil
	case rep.size > t.maxSize():
		if transform.Accepts(accept, from) {
			return asIs, nop, nil
		}
		return x.decodeStream(asIs, from), nop, nil
	case !minify && from == transform.Identity && rep.size >= 0 && rep.size < t.minSize():
		return asIs, nop, nil // too small to be worth compressing
	}
	tag := string(to)
	if minify {
		tag = "min-" + tag
	}
	if rep.stored != nil && x.h.Cache != nil {
		key := transformKey(rep.stored.key, tag)
		if e := x.h.getEntry(key); e != nil {
			if string(e.Meta.Extra) == rep.stored.identity {
				hdr := withTransformFields(rep.header, e.Meta.Header)
				return representation{status: http.StatusOK, header: hdr, size: e.Size, body: e, xcache: rep.xcache, age: rep.age}, func() { e.Close() }, nil
			}
			e.Close()
		}
	}
	body, complete, err := readUpTo(rep.body, rep.size, t.maxSize())
	if err != nil {
		return rep, nop, err
	}
	if !complete {
		asIs.body, asIs.sequential = &prefixReader{prefix: body, rest: rep.body}, rep.sequential
		if transform.Accepts(accept, from) {
			return asIs, nop, nil
		}
		return x.decodeStream(asIs, from), nop, nil
	}
	var res transformed
	if rep.stored != nil && x.h.Cache != nil {
		// Concurrent requests for one new variant compute it once.
		key := transformKey(rep.stored.key, tag)
		var v any
		v, err, _ = x.h.transforms.Do(key, func() (any, error) {
			res, err := x.transform(rep.header, body, from, to, kind, minify)
			if err == nil {
				x.h.storeTransformed(key, rep.stored.identity, res)
			}
			return res, err
		})
		res = v.(transformed)
	} else {
		res, err = x.transform(rep.header, body, from, to, kind, minify)
	}
	if errors.Is(err, transform.ErrTooLarge) {
		// It decodes to more than MaxSize: as for a large body.
		asIs.body, asIs.sequential = bytes.NewReader(body), false
		if transform.Accepts(accept, from) {
			return asIs, nop, nil
		}
		return x.decodeStream(asIs, from), nop, nil
	}
	return representation{status: http.StatusOK, header: res.header, size: int64(len(res.body)), body: bytes.NewReader(res.body), xcache: rep.xcache, age: rep.age}, nop, nil
}

// transform decodes body from its coding, minifies it when asked and
// encodes it for the client. A body that does not decode (the origin
// labelled it wrongly) is passed on as it came, and one that does not
// minify is served unminified: the edge never breaks a page to make it
// smaller. The header says what was done (TransformHeader). The error is
// transform.ErrTooLarge for a body that decodes to more than MaxSize.
func (x *exchange) transform(orig http.Header, body []byte, from, to transform.Coding, kind transform.Kind, minify bool) (transformed, error) {
	t := x.dom.Transform
	hdr := orig.Clone()
	addVary(hdr, "Accept-Encoding")
	var steps []string
	plain, err := transform.Decode(from, body, t.maxSize())
	if errors.Is(err, transform.ErrTooLarge) {
		return transformed{}, err
	}
	if err != nil {
		x.h.log.Warn("edge: origin body does not decode; passing it on as it came", "url", x.r.URL.String(), "coding", from, "err", err)
		return transformed{header: hdr, body: body}, nil
	}
	if from != transform.Identity {
		steps = append(steps, "decode="+string(from))
	}
	if minify {
		out, err := x.h.minifier().Minify(kind, plain)
		if err != nil {
			x.h.log.Info("edge: body does not minify; serving it unminified", "url", x.r.URL.String(), "kind", kind, "err", err)
			steps = append(steps, "minify="+string(kind)+"-failed")
		} else {
			steps = append(steps, "minify="+string(kind))
			plain = out
		}
	}
	if int64(len(plain)) < t.minSize() {
		to = transform.Identity
	}
	out, err := transform.Encode(to, plain, t.level(to))
	if err != nil {
		x.h.log.Warn("edge: cannot encode body; sending it unencoded", "url", x.r.URL.String(), "coding", to, "err", err)
		to, out = transform.Identity, plain
	}
	if to == transform.Identity {
		hdr.Del("Content-Encoding")
	} else {
		hdr.Set("Content-Encoding", string(to))
		steps = append(steps, "encode="+string(to))
	}
	if len(steps) > 0 {
		// The bytes differ from the origin's: its checksums and validator
		// describe another representation (RFC 9110 §8.8.3).
		removeChecksums(hdr)
		if et := hdr.Get("Etag"); et != "" {
			hdr.Set("Etag", suffixETag(et, strings.ReplaceAll(strings.Join(steps, "-"), "=", "")))
		}
		hdr.Set(TransformHeader, strings.Join(steps, ", "))
	}
	hdr.Del("Content-Length")
	return transformed{header: hdr, body: out}, nil
}

// transformFields are the fields a transformation sets; the rest of a
// transformed response's header is the stored response's, as it is now
// (a revalidation may have refreshed Date, Expires or Cache-Control since
// the variant was made).
var transformFields = []string{"Content-Encoding", "Etag", TransformHeader}

// withTransformFields returns the header of a stored variant: base's
// fields with those of the transformation recorded in t.
func withTransformFields(base, t http.Header) http.Header {
	hdr := base.Clone()
	addVary(hdr, "Accept-Encoding")
	if t.Get(TransformHeader) == "" {
		return hdr // the body is the stored response's
	}
	removeChecksums(hdr)
	for _, f := range transformFields {
		if v := t.Values(f); len(v) > 0 {
			hdr[f] = v
		} else {
			delete(hdr, f)
		}
	}
	hdr.Del("Content-Length")
	return hdr
}

// storeTransformed caches a transformed variant beside the response it
// was made from; identity ties it to that response. Only the
// transformation's fields are stored (withTransformFields).
func (h *Handler) storeTransformed(key, identity string, res transformed) {
	t := http.Header{}
	for _, f := range transformFields {
		if v := res.header.Values(f); len(v) > 0 {
			t[f] = v
		}
	}
	w, err := h.Cache.NewWriter(key, cachestore.Meta{Status: http.StatusOK, Header: t, Extra: []byte(identity)})
	if err == nil {
		if _, err = w.Write(res.body); err == nil {
			err = w.Commit()
		} else {
			w.Abort()
		}
	}
	if err != nil {
		h.log.Warn("edge: cannot store transformed variant", "key", key, "err", err)
	}
}

// decodeStream returns rep decoded from coding from as a stream of unknown
// length: for a body too large to transform in memory, sent to a client
// that does not accept its coding.
func (x *exchange) decodeStream(rep representation, from transform.Coding) representation {
	src := io.NewSectionReader(rep.body, 0, math.MaxInt64)
	if rep.size >= 0 {
		src = io.NewSectionReader(rep.body, 0, rep.size)
	}
	dec, err := transform.NewReader(from, src)
	if err != nil {
		x.h.log.Warn("edge: origin body does not decode; passing it on as it came", "url", x.r.URL.String(), "coding", from, "err", err)
		return rep
	}
	rep.header.Del("Content-Encoding")
	removeChecksums(rep.header)
	if et := rep.header.Get("Etag"); et != "" {
		rep.header.Set("Etag", suffixETag(et, "decode"+string(from)))
	}
	rep.header.Set(TransformHeader, "decode="+string(from))
	rep.size, rep.sequential, rep.body = -1, true, &streamReader{r: dec}
	return rep
}

// suffixETag returns the entity tag et with suffix added to its opaque
// part, keeping it weak or strong: a transformed body is another
// representation and needs another tag.
func suffixETag(et, suffix string) string {
	weak := ""
	if rest, ok := strings.CutPrefix(et, "W/"); ok {
		weak, et = "W/", rest
	}
	return weak + `"` + strings.Trim(et, `"`) + "-" + suffix + `"`
}

// readUpTo reads body (size bytes, or to EOF when size < 0) into memory.
// complete is false when it holds more than limit bytes: what was read so
// far is returned, and the body must be read on from there.
func readUpTo(body io.ReaderAt, size, limit int64) (b []byte, complete bool, err error) {
	if size >= 0 {
		if size > limit {
			return nil, false, nil
		}
		b = make([]byte, size)
		_, err := io.ReadFull(io.NewSectionReader(body, 0, size), b)
		return b, err == nil, err
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(io.NewSectionReader(body, 0, math.MaxInt64), limit+1))
	if err != nil {
		return nil, false, err
	}
	return buf.Bytes(), n <= limit, nil
}

// prefixReader reads a body of which the first bytes were already read
// from rest (a stream that cannot go back): ReadAt serves them from prefix.
type prefixReader struct {
	prefix []byte
	rest   io.ReaderAt
}

func (p *prefixReader) ReadAt(b []byte, off int64) (int, error) {
	if off < int64(len(p.prefix)) {
		return copy(b, p.prefix[off:]), nil
	}
	return p.rest.ReadAt(b, off)
}

// minifier returns the Handler's minifier, made on first use.
func (h *Handler) minifier() *transform.Minifier {
	h.minifyOnce.Do(func() { h.minify = transform.NewMinifier() })
	return h.minify
}
