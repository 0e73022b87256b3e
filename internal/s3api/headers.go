package s3api

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/strata-cdn/strata/internal/checksum"
	"github.com/strata-cdn/strata/internal/httphdr"
	"github.com/strata-cdn/strata/internal/objstore"
)

// maxUserMetadata is S3's limit on the total size of x-amz-meta-* names
// and values.
const maxUserMetadata = 2048

const defaultContentType = "binary/octet-stream"

// metaFromRequest collects the metadata a PUT, POST ?uploads or a REPLACE
// copy stores with the object.
func metaFromRequest(r *http.Request) (objstore.Meta, error) {
	hdr := r.Header
	m := objstore.Meta{
		ContentType:        hdr.Get("Content-Type"),
		CacheControl:       hdr.Get("Cache-Control"),
		ContentDisposition: hdr.Get("Content-Disposition"),
		ContentEncoding:    stripAWSChunked(hdr.Values("Content-Encoding")),
		ContentLanguage:    hdr.Get("Content-Language"),
		Expires:            hdr.Get("Expires"),
	}
	size := 0
	for name, vals := range hdr {
		lower := strings.ToLower(name)
		k, ok := strings.CutPrefix(lower, "x-amz-meta-")
		if !ok || k == "" {
			continue
		}
		if m.User == nil {
			m.User = make(map[string]string)
		}
		v := strings.Join(vals, ",")
		m.User[k] = v
		size += len(k) + len(v)
	}
	if size > maxUserMetadata {
		return m, newError(http.StatusBadRequest, "MetadataTooLarge",
			"Your x-amz-meta-* headers total %d bytes, over the limit of %d bytes.", size, maxUserMetadata)
	}
	tags, err := parseTaggingHeader(hdr.Get("x-amz-tagging"))
	if err != nil {
		return m, err
	}
	m.Tags = tags
	return m, nil
}

// stripAWSChunked removes the "aws-chunked" transfer coding, which
// describes the request framing, not the object (S3 does the same).
func stripAWSChunked(vals []string) string {
	var keep []string
	for _, v := range vals {
		for _, c := range strings.Split(v, ",") {
			c = strings.TrimSpace(c)
			if c == "" || strings.EqualFold(c, "aws-chunked") {
				continue
			}
			keep = append(keep, c)
		}
	}
	return strings.Join(keep, ",")
}

// validators are the object's current validators for conditional requests.
func validators(info objstore.ObjectInfo) httphdr.Validators {
	return httphdr.Validators{ETag: quoteETag(info.ETag), LastModified: info.ModTime.UTC().Truncate(1e9)}
}

// setObjectHeaders writes the representation headers of info. full says
// the response carries the whole object (200 or HEAD), which alone may
// carry whole-object integrity headers (cases C07, C21).
func (req *request) setObjectHeaders(info objstore.ObjectInfo, full bool) {
	hdr := req.w.Header()
	m := info.Meta
	ct := m.ContentType
	if ct == "" {
		ct = defaultContentType
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("ETag", quoteETag(info.ETag))
	hdr.Set("Last-Modified", httphdr.FormatHTTPDate(info.ModTime))
	hdr.Set("Accept-Ranges", "bytes")
	setIf(hdr, "Cache-Control", m.CacheControl)
	setIf(hdr, "Content-Disposition", m.ContentDisposition)
	setIf(hdr, "Content-Encoding", m.ContentEncoding)
	setIf(hdr, "Content-Language", m.ContentLanguage)
	setIf(hdr, "Expires", m.Expires)
	keys := make([]string, 0, len(m.User))
	for k := range m.User {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		hdr.Set("x-amz-meta-"+k, m.User[k])
	}
	if info.PartsCount > 0 {
		hdr.Set("x-amz-mp-parts-count", strconv.Itoa(info.PartsCount))
	}
	if full {
		if info.PartsCount == 0 && len(info.MD5) == 16 {
			hdr.Set("Content-MD5", base64.StdEncoding.EncodeToString(info.MD5))
		}
		hdr.Set("x-amz-checksum-crc64nvme", checksum.NVMEBase64(info.CRC64NVME))
		hdr.Set("x-amz-checksum-type", "FULL_OBJECT")
		hdr.Set("x-oss-hash-crc64ecma", checksum.ECMADecimal(info.CRC64ECMA))
	}
	if req.signed() {
		// response-* query parameters override the stored headers; S3
		// honours them on signed requests only.
		q := req.r.URL.Query()
		for _, o := range responseOverrides {
			if v := q.Get(o.param); v != "" {
				hdr.Set(o.header, v)
			}
		}
	}
}

var responseOverrides = []struct{ param, header string }{
	{"response-content-type", "Content-Type"},
	{"response-content-language", "Content-Language"},
	{"response-expires", "Expires"},
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
}

func setIf(hdr http.Header, k, v string) {
	if v != "" {
		hdr.Set(k, v)
	}
}

// parseContentMD5 decodes a Content-Md5 header; absent is nil, malformed is
// InvalidDigest.
func parseContentMD5(r *http.Request) ([]byte, error) {
	v := r.Header.Get("Content-Md5")
	if v == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(b) != 16 {
		return nil, newError(http.StatusBadRequest, "InvalidDigest",
			"The Content-MD5 you specified is not valid: it must be the base64 encoding of the 16-byte MD5 digest of the body.")
	}
	return b, nil
}
