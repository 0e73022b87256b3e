package diag

import (
	"context"
	"net/http"
	"strings"

	"github.com/strata-cdn/strata/internal/httphdr"
)

// checkETag checks the syntax of the baseline's ETag (RFC 9110 §8.8.3):
// an unquoted tag is read as an HTTP-date by some caches when a client
// resumes with If-Range, so every resume restarts from zero or, as in A1,
// fills a slice with the wrong response.
func checkETag(_ context.Context, p *prober) []Finding {
	base, skip := p.needBase("etag", "A1")
	if base == nil {
		return skip
	}
	raw := base.Header.Values("ETag")
	ev := append([]string{statusLine(base)}, headerLines(base.Header, "ETag", "Last-Modified")...)
	switch {
	case len(raw) == 0:
		lvl, sum := Info, "no ETag; Last-Modified is the only validator"
		if base.Header.Get("Last-Modified") == "" {
			lvl, sum = Warn, "no ETag and no Last-Modified: no validator, so resumed downloads (If-Range) and revalidation cannot work"
		}
		return []Finding{{ID: "etag.missing", Case: "A1", Level: lvl, Summary: sum, Evidence: ev,
			Fix: `send a strong, quoted ETag (ETag: "hash") so that clients can resume with If-Range and caches can revalidate`}}
	case len(raw) > 1:
		return []Finding{{ID: "etag.multiple", Case: "A1", Level: Bad,
			Summary: "the response has several ETag fields", Evidence: ev,
			Fix: "send exactly one ETag field"}}
	}
	v := strings.TrimSpace(raw[0])
	t, ok := httphdr.ParseETag(v)
	quoted := strings.HasPrefix(v, `"`) || strings.HasPrefix(v, `W/"`)
	switch {
	case !ok:
		return []Finding{{ID: "etag.invalid", Case: "A1", Level: Bad,
			Summary: "the ETag is not an entity-tag (RFC 9110 §8.8.3)", Evidence: ev,
			Fix: `send ETag as a quoted string of visible characters without quotes inside: ETag: "abc123"`}}
	case !quoted:
		return []Finding{{ID: "etag.unquoted", Case: "A1", Level: Bad,
			Summary:  "the ETag is not quoted: caches that resume with If-Range read it as a date, answer 200 to range requests, and downloads restart or stall (A1)",
			Evidence: ev,
			Fix:      `quote the ETag as RFC 9110 §8.8.3 requires: ETag: ` + t.String()}}
	case t.Weak:
		return []Finding{{ID: "etag.weak", Case: "A1", Level: Info,
			Summary:  "the ETag is weak: If-Range needs a strong validator (RFC 9110 §13.1.5), so resumes fall back to Last-Modified or restart",
			Evidence: ev,
			Fix:      "send a strong ETag for static files (many servers weaken it when they compress: compress before computing it, or send a separate strong tag)"}}
	}
	return []Finding{{ID: "etag.ok", Case: "A1", Level: OK, Summary: "the ETag is a strong, quoted entity-tag", Evidence: ev}}
}

// staleETag is a validator no server issues: If-Range with it must fail.
const staleETag = `"strata-doctor-stale-validator"`

// checkIfRange sends a one-byte range request with If-Range, first with the
// current validator (the server must answer 206) and then with a stale one
// (the server must send the whole, current representation: 200), as RFC
// 9110 §13.1.5 requires. Getting it wrong either way breaks resumed
// downloads: a restart from zero, or a file stitched from two versions.
func checkIfRange(ctx context.Context, p *prober) []Finding {
	base, skip := p.needBase("if-range", "A1")
	if base == nil {
		return skip
	}
	if base.Status != http.StatusOK {
		return nil
	}
	// Send what a browser would: the ETag as received (even unquoted, as
	// in A1), else Last-Modified. A weak tag never matches (§13.1.5).
	validator := strings.TrimSpace(base.Header.Get("ETag"))
	if validator == "" || strings.HasPrefix(validator, "W/") {
		validator = base.Header.Get("Last-Modified")
	}
	if validator == "" {
		return []Finding{{ID: "if-range.skipped", Case: "A1", Level: Info,
			Summary: "not checked: no strong validator to send in If-Range"}}
	}
	c := p.client(nil)
	defer c.CloseIdleConnections()
	probe := func(v string) (*sample, error) {
		return p.get(ctx, c, "Range", "bytes=0-0", "If-Range", v)
	}
	var out []Finding
	cur, err := probe(validator)
	if err != nil {
		return []Finding{probeFailed("if-range", "A1", err)}
	}
	ev := []string{"If-Range: " + validator, "Range: bytes=0-0", "→ " + statusLine(cur)}
	ev = append(ev, headerLines(cur.Header, "Content-Range", "Content-Length", "ETag")...)
	switch cur.Status {
	case http.StatusPartialContent:
		out = append(out, Finding{ID: "if-range.current", Case: "A1", Level: OK,
			Summary: "If-Range with the current validator returns the range (206)", Evidence: ev})
	case http.StatusOK:
		// A server that ignores Range altogether is the range check's
		// finding, not this one.
		if ranged, err := p.get(ctx, c, "Range", "bytes=0-0"); err == nil && ranged.Status != http.StatusPartialContent {
			return nil
		}
		out = append(out, Finding{ID: "if-range.current-ignored", Case: "A1", Level: Bad,
			Summary:  "If-Range with the current validator gets the whole file (200) where the range (206) is due: every resumed download restarts from zero, and a cache filling slices gets whole bodies (A1)",
			Evidence: ev,
			Fix:      "compare If-Range as RFC 9110 §13.1.5 says: an entity-tag strongly, a date exactly; quote the ETag so it is not taken for a date"})
	default:
		out = append(out, Finding{ID: "if-range.current-status", Case: "A1", Level: Warn,
			Summary: "If-Range with the current validator gets " + statusLine(cur), Evidence: ev,
			Fix: "answer 206 with the range when the validator matches (RFC 9110 §13.1.5)"})
	}

	stale, err := probe(staleETag)
	if err != nil {
		return append(out, probeFailed("if-range", "A1", err))
	}
	ev = []string{"If-Range: " + staleETag, "Range: bytes=0-0", "→ " + statusLine(stale)}
	ev = append(ev, headerLines(stale.Header, "Content-Range", "Content-Length", "ETag")...)
	switch stale.Status {
	case http.StatusOK:
		out = append(out, Finding{ID: "if-range.stale", Case: "A1", Level: OK,
			Summary: "If-Range with a stale validator returns the whole file (200)", Evidence: ev})
	case http.StatusPartialContent:
		out = append(out, Finding{ID: "if-range.stale-honoured", Case: "A1", Level: Bad,
			Summary:  "If-Range with a stale validator still gets a range (206): a resumed download is stitched from two versions of the file",
			Evidence: ev,
			Fix:      "ignore Range when the If-Range validator does not match and send the whole representation (RFC 9110 §13.1.5)"})
	default:
		out = append(out, Finding{ID: "if-range.stale-status", Case: "A1", Level: Warn,
			Summary: "If-Range with a stale validator gets " + statusLine(stale) + " instead of 200", Evidence: ev,
			Fix: "send the whole representation with 200 when the If-Range validator does not match (RFC 9110 §13.1.5)"})
	}
	return out
}

// probeFailed reports a check's request that failed outright.
func probeFailed(id, caseID string, err error) Finding {
	return Finding{ID: id + ".error", Case: caseID, Level: Warn,
		Summary:  "a request of this check failed",
		Evidence: []string{err.Error()},
		Fix:      "repeat; if it keeps failing, the server mishandles this request (see the evidence)"}
}
