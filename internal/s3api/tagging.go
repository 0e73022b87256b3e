package s3api

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
)

// S3's limits on object tags.
const (
	maxObjectTags  = 10
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// tagging is the body of PutObjectTagging and GetObjectTagging.
type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  []tagXML `xml:"TagSet>Tag"`
}

type tagXML struct {
	Key   string
	Value string
}

func errInvalidTag(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "InvalidTag", format, args...)
}

// checkTags applies S3's limits to a tag set.
func checkTags(tags []tagXML) (map[string]string, error) {
	if len(tags) > maxObjectTags {
		return nil, errInvalidTag("Object tags cannot be greater than %d; got %d.", maxObjectTags, len(tags))
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		switch {
		case t.Key == "" || len(t.Key) > maxTagKeyLen:
			return nil, errInvalidTag("The TagKey %q is not valid: it must be 1 to %d characters long.", t.Key, maxTagKeyLen)
		case len(t.Value) > maxTagValueLen:
			return nil, errInvalidTag("The TagValue of key %q is over %d characters.", t.Key, maxTagValueLen)
		}
		if _, dup := m[t.Key]; dup {
			return nil, errInvalidTag("Cannot provide multiple Tags with the same key %q.", t.Key)
		}
		m[t.Key] = t.Value
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// parseTaggingHeader parses x-amz-tagging, a URL query string
// ("k1=v1&k2=v2") of the tags to store with a new object.
func parseTaggingHeader(v string) (map[string]string, error) {
	if v == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil, errInvalidArgument("The x-amz-tagging header %q is not a valid URL query string: %v.", v, err).with("ArgumentName", "x-amz-tagging")
	}
	var tags []tagXML
	for k, vs := range q {
		for _, val := range vs {
			tags = append(tags, tagXML{Key: k, Value: val})
		}
	}
	return checkTags(tags)
}

func sortedTags(m map[string]string) []tagXML {
	out := make([]tagXML, 0, len(m))
	for k, v := range m {
		out = append(out, tagXML{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (req *request) getObjectTagging() error {
	versionID, err := req.versionID()
	if err != nil {
		return err
	}
	info, err := req.h.Store.StatObjectVersion(req.ctx, req.bucket, req.key, versionID)
	if err != nil {
		return err
	}
	setVersionHeader(req.w.Header(), info.VersionID)
	req.writeXML(http.StatusOK, tagging{Xmlns: s3Namespace, TagSet: sortedTags(info.Meta.Tags)})
	return nil
}

func (req *request) putObjectTagging() error {
	versionID, err := req.versionID()
	if err != nil {
		return err
	}
	var in tagging
	if err := req.readXML(&in); err != nil {
		return err
	}
	tags, err := checkTags(in.TagSet)
	if err != nil {
		return err
	}
	return req.setTags(versionID, tags, http.StatusOK)
}

func (req *request) deleteObjectTagging() error {
	versionID, err := req.versionID()
	if err != nil {
		return err
	}
	return req.setTags(versionID, nil, http.StatusNoContent)
}

func (req *request) setTags(versionID string, tags map[string]string, status int) error {
	id, err := req.h.Store.PutObjectTagging(req.ctx, req.bucket, req.key, versionID, tags)
	if err != nil {
		return err
	}
	setVersionHeader(req.w.Header(), id)
	if status == http.StatusOK {
		req.w.Header().Set("Content-Length", "0")
	}
	req.w.WriteHeader(status)
	return nil
}
