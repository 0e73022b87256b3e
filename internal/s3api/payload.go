package s3api

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strings"

	"github.com/strata-cdn/strata/internal/checksum"
)

// checksumAlgo is one of the x-amz-checksum-* algorithms. Every value on
// the wire is the base64 of the big-endian digest.
type checksumAlgo struct {
	name    string // lower case, as in the header name
	size    int    // digest bytes
	newHash func() hash.Hash
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var checksumAlgos = []checksumAlgo{
	{"crc32", 4, func() hash.Hash { return crc32.NewIEEE() }},
	{"crc32c", 4, func() hash.Hash { return crc32.New(castagnoli) }},
	{"crc64nvme", 8, func() hash.Hash { return checksum.NewNVME() }},
	{"sha1", sha1.Size, sha1.New},
	{"sha256", sha256.Size, sha256.New},
}

func findAlgo(name string) (checksumAlgo, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	name = strings.TrimPrefix(name, "x-amz-checksum-")
	for _, a := range checksumAlgos {
		if a.name == name {
			return a, true
		}
	}
	return checksumAlgo{}, false
}

type checksumState struct {
	algo     checksumAlgo
	h        hash.Hash
	expected string // from the request header; "" if trailing or none
	trailing bool   // named in x-amz-trailer
}

// payloadReader passes the verified request payload to the store while
// computing the x-amz-checksum-* digests the client declared (in a header
// or a trailer). When the data does not match, its final Read returns a
// *checksumMismatch instead of io.EOF, so the store aborts and keeps
// nothing. It reads the payload to its true end (past the declared size)
// before returning the last bytes, so the store also sees trailing chunk
// signature and checksum failures before it commits.
type payloadReader struct {
	req     *request
	src     io.Reader
	size    int64 // declared size, -1 if unknown
	n       int64
	sums    []*checksumState
	pending []byte // bytes read while probing for the end
	done    bool
	final   error // io.EOF or the verification failure, once done
	failure error // first failure seen (read or verification)
}

// newPayloadReader prepares the checksums declared by headers and the
// x-amz-trailer field. A malformed declared value is InvalidRequest.
func newPayloadReader(req *request, size int64) (*payloadReader, error) {
	p := &payloadReader{req: req, src: req.body, size: size}
	hdr := req.r.Header
	add := func(a checksumAlgo, expected string, trailing bool) {
		for _, s := range p.sums {
			if s.algo.name == a.name {
				if expected != "" {
					s.expected = expected
				}
				s.trailing = s.trailing || trailing
				return
			}
		}
		p.sums = append(p.sums, &checksumState{algo: a, h: a.newHash(), expected: expected, trailing: trailing})
	}
	for _, a := range checksumAlgos {
		v := hdr.Get("x-amz-checksum-" + a.name)
		if v == "" {
			continue
		}
		if !validChecksum(a, v) {
			return nil, newError(http.StatusBadRequest, "InvalidRequest",
				"Value for x-amz-checksum-%s header is invalid: it must be the base64 of a %d-byte digest.", a.name, a.size)
		}
		add(a, v, false)
	}
	for _, field := range hdr.Values("x-amz-trailer") {
		for _, name := range strings.Split(field, ",") {
			if a, ok := findAlgo(name); ok {
				add(a, "", true)
			}
		}
	}
	for _, k := range []string{"x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"} {
		if a, ok := findAlgo(hdr.Get(k)); ok {
			add(a, "", false)
		}
	}
	return p, nil
}

// hasExpected reports whether the client declared a checksum value to
// verify, in a header or announced for the trailer.
func (p *payloadReader) hasExpected() bool {
	for _, s := range p.sums {
		if s.expected != "" || s.trailing {
			return true
		}
	}
	return false
}

func validChecksum(a checksumAlgo, v string) bool {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	return err == nil && len(b) == a.size
}

func (p *payloadReader) Read(b []byte) (int, error) {
	if p.done {
		return 0, p.final
	}
	if len(p.pending) > 0 {
		n := copy(b, p.pending)
		p.pending = p.pending[n:]
		p.count(b[:n])
		return n, nil
	}
	n, err := p.src.Read(b)
	p.count(b[:n])
	if err == nil && p.size >= 0 && p.n >= p.size {
		err = p.probeEnd()
	}
	switch {
	case err == io.EOF:
		p.done = true
		p.final = p.verify()
		if p.final != io.EOF {
			p.failure = p.final
		}
		return n, p.final
	case err != nil:
		if p.failure == nil {
			p.failure = err
		}
		return n, err
	}
	return n, nil
}

// probeEnd reads on after the declared size so that the source verifies
// its end (final chunk signature, trailer, payload hash) now. Extra bytes
// are kept for the caller, whose size check then fails.
func (p *payloadReader) probeEnd() error {
	var one [1]byte
	for {
		n, err := p.src.Read(one[:])
		if n > 0 {
			p.pending = append(p.pending, one[:n]...)
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (p *payloadReader) count(b []byte) {
	p.n += int64(len(b))
	for _, s := range p.sums {
		s.h.Write(b)
	}
}

// verify compares every computed digest with the value declared in a
// header or, for trailing checksums, in the trailer.
func (p *payloadReader) verify() error {
	var trailer http.Header
	if p.req.auth != nil {
		trailer = p.req.auth.Trailer
	}
	for _, s := range p.sums {
		want := s.expected
		if want == "" && trailer != nil {
			want = trailer.Get("x-amz-checksum-" + s.algo.name)
		}
		if want == "" {
			continue
		}
		wantBytes, err := base64.StdEncoding.DecodeString(strings.TrimSpace(want))
		if err != nil || !bytes.Equal(wantBytes, s.h.Sum(nil)) {
			return &checksumMismatch{algorithm: s.algo.name}
		}
	}
	return io.EOF
}

// cause explains a store failure by what happened to the payload: a
// checksum mismatch, a signature failure or a client that stopped sending
// says more than the store's wrapped error.
func (p *payloadReader) cause(storeErr error) error {
	f := p.failure
	if f == nil {
		return storeErr
	}
	var cm *checksumMismatch
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(f, &cm), errors.As(f, &ae), errors.As(f, &mbe), p.req.sigv4Error(f) != nil:
		return f
	}
	return newError(http.StatusBadRequest, "IncompleteBody",
		"The request body ended before the %d bytes announced were received.", p.size).withCause(f)
}

// setChecksumHeaders echoes the checksums the client declared or asked for,
// as S3 does; SDKs compare them with their own.
func (p *payloadReader) setChecksumHeaders(hdr http.Header) {
	for _, s := range p.sums {
		hdr.Set("x-amz-checksum-"+s.algo.name, base64.StdEncoding.EncodeToString(s.h.Sum(nil)))
	}
}
