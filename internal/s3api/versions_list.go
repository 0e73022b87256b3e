package s3api

import (
	"encoding/xml"
	"net/http"

	"github.com/strata-cdn/strata/internal/objstore"
)

// listVersionsResult is the ListObjectVersions response. Entries holds
// <Version> and <DeleteMarker> elements interleaved in listing order (by
// key, newest first), as S3 sends them.
type listVersionsResult struct {
	XMLName             xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListVersionsResult"`
	Name                string
	Prefix              string
	KeyMarker           string
	VersionIDMarker     string `xml:"VersionIdMarker"`
	NextKeyMarker       string `xml:",omitempty"`
	NextVersionIDMarker string `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int
	Delimiter           string `xml:",omitempty"`
	IsTruncated         bool
	EncodingType        string `xml:",omitempty"`
	Entries             []versionEntry
	CommonPrefixes      []commonPrefix
}

// versionEntry is a <Version> or a <DeleteMarker> (XMLName says which).
type versionEntry struct {
	XMLName      xml.Name
	Key          string
	VersionID    string `xml:"VersionId"`
	IsLatest     bool
	LastModified string
	ETag         string `xml:",omitempty"`
	Size         *int64 `xml:",omitempty"`
	StorageClass string `xml:",omitempty"`
	Owner        owner
}

// listObjectVersions serves GET /bucket?versions.
func (req *request) listObjectVersions() error {
	q := req.r.URL.Query()
	lq, err := parseListQuery(q, "max-keys")
	if err != nil {
		return err
	}
	keyMarker, idMarker := q.Get("key-marker"), q.Get("version-id-marker")
	if idMarker != "" && keyMarker == "" {
		return errInvalidArgument("A version-id marker cannot be specified without a key marker.").with("ArgumentName", "version-id-marker")
	}
	out := listVersionsResult{
		Name:            req.bucket,
		Prefix:          lq.enc(lq.prefix),
		KeyMarker:       lq.enc(keyMarker),
		VersionIDMarker: idMarker,
		MaxKeys:         lq.maxKeys,
		Delimiter:       lq.enc(lq.delimiter),
		EncodingType:    lq.encodingType(),
	}
	if lq.maxKeys == 0 {
		if _, err := req.h.Store.GetBucket(req.ctx, req.bucket); err != nil {
			return err
		}
		req.writeXML(http.StatusOK, out)
		return nil
	}
	res, err := req.h.Store.ListObjectVersions(req.ctx, req.bucket, objstore.ListVersionsOptions{
		Prefix: lq.prefix, Delimiter: lq.delimiter, KeyMarker: keyMarker, VersionIDMarker: idMarker, MaxKeys: lq.maxKeys,
	})
	if err != nil {
		return err
	}
	out.IsTruncated = res.IsTruncated
	if res.IsTruncated {
		out.NextKeyMarker = lq.enc(res.NextKeyMarker)
		out.NextVersionIDMarker = res.NextVersionIDMarker
	}
	for _, v := range res.Versions {
		id := v.VersionID
		if id == "" {
			id = objstore.NullVersionID
		}
		e := versionEntry{
			Key:          lq.enc(v.Key),
			VersionID:    id,
			IsLatest:     v.IsLatest,
			LastModified: xmlTime(v.ModTime),
			Owner:        theOwner,
		}
		if v.DeleteMarker {
			e.XMLName.Local = "DeleteMarker"
		} else {
			size := v.Size
			e.XMLName.Local = "Version"
			e.ETag, e.Size, e.StorageClass = quoteETag(v.ETag), &size, "STANDARD"
		}
		out.Entries = append(out.Entries, e)
	}
	out.CommonPrefixes = lq.prefixes(res.CommonPrefixes)
	req.writeXML(http.StatusOK, out)
	return nil
}
