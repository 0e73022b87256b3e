package diag

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/strata-cdn/strata/internal/httphdr"
)

// checkRange asks for the first byte (Range: bytes=0-0, RFC 9110 §14.2)
// and checks for a correct 206. An origin that answers 200 makes a CDN
// that fetches in ranges read the whole file for every slice (C08).
func checkRange(ctx context.Context, p *prober) []Finding {
	base, skip := p.needBase("range", "C08")
	if base == nil {
		return skip
	}
	if base.Status != http.StatusOK {
		return nil
	}
	if base.Len == 0 && !base.Truncated {
		return []Finding{{ID: "range.skipped", Case: "C08", Level: Info, Summary: "not checked: the body is empty"}}
	}
	c := p.client(nil)
	defer c.CloseIdleConnections()
	s, err := p.get(ctx, c, "Range", "bytes=0-0")
	if err != nil {
		return []Finding{probeFailed("range", "C08", err)}
	}
	p.ranged = s
	ev := append([]string{"Range: bytes=0-0", "→ " + statusLine(s)},
		headerLines(s.Header, "Content-Range", "Content-Length", "Accept-Ranges")...)
	switch s.Status {
	case http.StatusPartialContent:
		r, size, err := httphdr.ParseContentRange(s.Header.Get("Content-Range"))
		switch {
		case err != nil:
			return []Finding{{ID: "range.bad-content-range", Case: "A1", Level: Bad,
				Summary: "the 206 has no valid Content-Range", Evidence: ev,
				Fix: "send Content-Range: bytes first-last/size with a 206 (RFC 9110 §14.4)"}}
		case r.Start != 0 || r.Length != 1 || s.Len != 1:
			return []Finding{{ID: "range.wrong-part", Case: "A1", Level: Bad,
				Summary:  fmt.Sprintf("asked for byte 0, got Content-Range %q and %d body bytes", s.Header.Get("Content-Range"), s.Len),
				Evidence: ev,
				Fix:      "send exactly the requested bytes and a matching Content-Range (RFC 9110 §14.4, §15.3.7)"}}
		case size >= 0 && !base.Truncated && size != base.Len:
			return []Finding{{ID: "range.size-mismatch", Case: "A1", Level: Bad,
				Summary:  fmt.Sprintf("Content-Range says the file has %d bytes; the full response had %d", size, base.Len),
				Evidence: append(ev, "full response: "+itoa(base.Len)+" bytes"),
				Fix:      "the full and partial responses come from different versions or servers: purge the caches between client and origin"}}
		}
		return []Finding{{ID: "range.ok", Case: "C08", Level: OK, Summary: "range requests get 206 with a correct Content-Range", Evidence: ev}}
	case http.StatusOK:
		lvl, sum := Warn, "the server ignores Range and sends the whole file (200): downloads cannot resume, and a CDN fetching in slices reads the whole file for each (C08)"
		if hasToken(s.Header, "Accept-Ranges", "bytes") {
			lvl, sum = Bad, "the server advertises Accept-Ranges: bytes but answers a range request with the whole file (200) (C08)"
		}
		return []Finding{{ID: "range.ignored", Case: "C08", Level: lvl, Summary: sum, Evidence: ev,
			Fix: "enable byte ranges on the origin; until then turn off range (slice) fetching towards it in the CDN"}}
	default:
		return []Finding{{ID: "range.status", Case: "C08", Level: Bad,
			Summary: "a range request for the first byte gets " + statusLine(s), Evidence: ev,
			Fix: "answer a satisfiable range with 206, or ignore Range and send 200 (RFC 9110 §14.2)"}}
	}
}

// checksumFields are whole-object integrity headers that object stores
// and CDNs send: RFC 1864's Content-MD5 and the vendors' checksums.
var checksumFields = []string{
	"Content-MD5", "X-Amz-Checksum-Crc32", "X-Amz-Checksum-Crc32c", "X-Amz-Checksum-Crc64nvme",
	"X-Amz-Checksum-Sha1", "X-Amz-Checksum-Sha256", "X-Oss-Hash-Crc64ecma", "X-Cos-Hash-Crc64ecma",
	"Repr-Digest", "Content-Digest", "X-Goog-Hash",
}

// verifyChecksum compares one integrity header with the body read. known
// is false when this package cannot compute that checksum or the value
// describes a multipart composite ("…-3").
func verifyChecksum(s *sample, name, value string) (match, known bool) {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Md5":
		return value == b64(s.MD5), true
	case "X-Amz-Checksum-Sha1":
		return value == b64(s.SHA1), true
	case "X-Amz-Checksum-Sha256":
		return value == b64(s.SHA256), true
	case "X-Amz-Checksum-Crc32":
		return value == b64u32(s.CRC32), true
	case "X-Amz-Checksum-Crc32c":
		return value == b64u32(s.CRC32C), true
	case "X-Oss-Hash-Crc64ecma", "X-Cos-Hash-Crc64ecma":
		return value == strconv.FormatUint(s.CRC64, 10), true
	}
	return false, false
}

// checkChecksum checks the integrity headers: on the full response they
// must match the body (a mismatch is a stale or corrupted copy, A2); on a
// 206 a whole-object checksum does not describe the body, and a cache that
// fills itself from ranges ends up serving full responses without it (C07).
func checkChecksum(_ context.Context, p *prober) []Finding {
	base, skip := p.needBase("checksum", "C07")
	if base == nil {
		return skip
	}
	if base.Status != http.StatusOK {
		return nil
	}
	var out []Finding
	full := headerLines(base.Header, checksumFields...)
	if len(full) == 0 {
		out = append(out, Finding{ID: "checksum.missing", Case: "C07", Level: Info,
			Summary:  "the full response carries no integrity header (Content-MD5, x-amz-checksum-*, x-oss-hash-crc64ecma, Repr-Digest): clients cannot detect a stale or corrupted copy",
			Evidence: []string{statusLine(base)},
			Fix:      "have the origin send Content-MD5 or a CRC64 header, and check that the CDN keeps it on full responses however it filled its cache (C07)"})
	}
	for _, name := range checksumFields {
		v := base.Header.Get(name)
		if v == "" {
			continue
		}
		match, known := verifyChecksum(base, name, v)
		ev := []string{name + ": " + v, "body: " + itoa(base.Len) + " bytes, sha256 " + base.BodyHash()}
		switch {
		case !known || base.Truncated:
			out = append(out, Finding{ID: "checksum.present", Case: "C07", Level: OK,
				Summary: "the full response carries " + name + " (not verified here)", Evidence: ev})
		case match:
			out = append(out, Finding{ID: "checksum.ok", Case: "C07", Level: OK,
				Summary: name + " matches the body", Evidence: ev})
		default:
			out = append(out, Finding{ID: "checksum.mismatch", Case: "A2", Level: Bad,
				Summary:  name + " does not match the body received: a cache on the way served another version of the file, or the body was altered (A2)",
				Evidence: ev,
				Fix:      "compare with the origin (--origin); if the origin's body matches, a cache between client and origin is stale: purge it, or version the file name (content-addressed release paths)"})
		}
	}
	if p.ranged == nil || p.ranged.Status != http.StatusPartialContent {
		return out
	}
	part := p.ranged
	for _, name := range checksumFields {
		v := part.Header.Get(name)
		if v == "" {
			continue
		}
		ev := []string{"Range: bytes=0-0 → " + statusLine(part), name + ": " + v}
		if match, known := verifyChecksum(part, name, v); known && match {
			// RFC 1864's Content-MD5 of the part actually sent is correct.
			continue
		}
		lvl := Warn
		if http.CanonicalHeaderKey(name) == "Content-Md5" {
			// RFC 9110 §15.3.7 and RFC 1864: Content-MD5 describes the
			// content of this message, here one byte.
			lvl = Bad
		}
		out = append(out, Finding{ID: "checksum.on-partial", Case: "C07", Level: lvl,
			Summary:  "a 206 carries " + name + " of the whole file, not of the part sent: clients that check it fail, and a cache filled from ranges may copy it onto or drop it from full responses (C07)",
			Evidence: ev,
			Fix:      "send whole-object checksums on 200 only (or the part's own Content-MD5 on a 206); a CDN must keep the full response's headers however it filled its cache"})
	}
	return out
}
