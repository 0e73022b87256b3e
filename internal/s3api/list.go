package s3api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/strata-cdn/strata/internal/objstore"
)

const maxListKeys = 1000

// listQuery holds the parameters common to both ListObjects versions.
type listQuery struct {
	prefix    string
	delimiter string
	maxKeys   int
	encodeURL bool
}

func parseListQuery(q url.Values, maxName string) (listQuery, error) {
	lq := listQuery{prefix: q.Get("prefix"), delimiter: q.Get("delimiter")}
	n, err := parseMax(q, maxName, maxListKeys)
	if err != nil {
		return lq, err
	}
	lq.maxKeys = n
	switch et := q.Get("encoding-type"); et {
	case "":
	case "url":
		lq.encodeURL = true
	default:
		return lq, errInvalidArgument("Invalid Encoding Method specified in Request: encoding-type must be \"url\", not %q.", et)
	}
	return lq, nil
}

// parseMax parses a max-keys style parameter: absent is limit, values over
// limit are clamped (as S3 does), negative or non-numeric values are
// InvalidArgument.
func parseMax(q url.Values, name string, limit int) (int, error) {
	v, ok := q[name]
	if !ok || len(v) == 0 || v[0] == "" {
		return limit, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 0 {
		return 0, errInvalidArgument("Provided %s %q is not an integer between 0 and %d.", name, v[0], limit)
	}
	return min(n, limit), nil
}

// enc returns s URL-encoded for encoding-type=url.
func (lq listQuery) enc(s string) string {
	if !lq.encodeURL {
		return s
	}
	return s3URLEncode(s)
}

func (lq listQuery) encodingType() string {
	if lq.encodeURL {
		return "url"
	}
	return ""
}

// s3URLEncode encodes as S3 does for encoding-type=url: like
// url.QueryEscape (space as "+"), but leaving "/" and "*" alone and
// encoding "~". Clients decode it with url.QueryUnescape.
func s3URLEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '/', c == '*':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func (req *request) list(lq listQuery, marker string) (objstore.ListResult, error) {
	if lq.maxKeys == 0 {
		// The engine treats 0 as its default; S3 answers an empty page.
		if _, err := req.h.Store.GetBucket(req.ctx, req.bucket); err != nil {
			return objstore.ListResult{}, err
		}
		return objstore.ListResult{}, nil
	}
	return req.h.Store.ListObjects(req.ctx, req.bucket, objstore.ListOptions{
		Prefix: lq.prefix, Delimiter: lq.delimiter, Marker: marker, MaxKeys: lq.maxKeys,
	})
}

func (lq listQuery) contents(objs []objstore.ObjectInfo, withOwner bool) []objectXML {
	out := make([]objectXML, 0, len(objs))
	for _, o := range objs {
		x := objectXML{
			Key:          lq.enc(o.Key),
			LastModified: xmlTime(o.ModTime),
			ETag:         quoteETag(o.ETag),
			Size:         o.Size,
			StorageClass: "STANDARD",
		}
		if withOwner {
			ow := theOwner
			x.Owner = &ow
		}
		out = append(out, x)
	}
	return out
}

func (lq listQuery) prefixes(ps []string) []commonPrefix {
	out := make([]commonPrefix, 0, len(ps))
	for _, p := range ps {
		out = append(out, commonPrefix{Prefix: lq.enc(p)})
	}
	return out
}

func (req *request) listObjectsV1() error {
	q := req.r.URL.Query()
	lq, err := parseListQuery(q, "max-keys")
	if err != nil {
		return err
	}
	marker := q.Get("marker")
	res, err := req.list(lq, marker)
	if err != nil {
		return err
	}
	contents := lq.contents(res.Objects, true)
	out := listBucketResultV1{
		Name:           req.bucket,
		Prefix:         lq.enc(lq.prefix),
		Marker:         lq.enc(marker),
		MaxKeys:        lq.maxKeys,
		Delimiter:      lq.enc(lq.delimiter),
		IsTruncated:    res.IsTruncated,
		EncodingType:   lq.encodingType(),
		Contents:       contents,
		CommonPrefixes: lq.prefixes(res.CommonPrefixes),
	}
	if res.IsTruncated {
		out.NextMarker = lq.enc(res.NextMarker)
	}
	req.writeXML(http.StatusOK, out)
	return nil
}

func (req *request) listObjectsV2() error {
	q := req.r.URL.Query()
	lq, err := parseListQuery(q, "max-keys")
	if err != nil {
		return err
	}
	startAfter := q.Get("start-after")
	token := q.Get("continuation-token")
	marker := startAfter
	if _, ok := q["continuation-token"]; ok {
		m, err := decodeToken(token)
		if err != nil {
			return err
		}
		// S3 lists after whichever of the two is later.
		marker = max(m, startAfter)
	}
	res, err := req.list(lq, marker)
	if err != nil {
		return err
	}
	fetchOwner, _ := strconv.ParseBool(q.Get("fetch-owner"))
	contents := lq.contents(res.Objects, fetchOwner)
	out := listBucketResultV2{
		Name:              req.bucket,
		Prefix:            lq.enc(lq.prefix),
		StartAfter:        lq.enc(startAfter),
		ContinuationToken: token,
		KeyCount:          len(res.Objects) + len(res.CommonPrefixes),
		MaxKeys:           lq.maxKeys,
		Delimiter:         lq.enc(lq.delimiter),
		IsTruncated:       res.IsTruncated,
		EncodingType:      lq.encodingType(),
		Contents:          contents,
		CommonPrefixes:    lq.prefixes(res.CommonPrefixes),
	}
	if res.IsTruncated {
		out.NextContinuationToken = encodeToken(res.NextMarker)
	}
	req.writeXML(http.StatusOK, out)
	return nil
}

// Continuation tokens are opaque to clients: the base64 of the engine's
// NextMarker.
func encodeToken(marker string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(marker))
}

func decodeToken(token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || token == "" {
		return "", errInvalidArgument("The continuation token provided is incorrect; pass back the NextContinuationToken of the previous page unchanged.")
	}
	return string(b), nil
}
