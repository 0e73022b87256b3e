package s3api

import (
	"encoding/xml"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/objstore"
)

// FuzzParseLifecycle: parsing never panics, and a configuration that
// parses and validates survives a round trip through the XML S3 sends
// back.
func FuzzParseLifecycle(f *testing.F) {
	f.Add([]byte(`<LifecycleConfiguration><Rule><ID>a</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule></LifecycleConfiguration>`))
	f.Add([]byte(`<LifecycleConfiguration><Rule><Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>k2</Key><Value></Value></Tag></And></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>`))
	f.Add([]byte(`<LifecycleConfiguration><Rule><Prefix></Prefix><Status>Disabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>`))
	f.Add([]byte(`<LifecycleConfiguration><Rule><ID>d</ID><Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>`))
	f.Add([]byte(`<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>x</Days></Expiration></Rule></LifecycleConfiguration>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := parseLifecycle(data)
		if err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("parseLifecycle error %v is not an S3 error", err)
			}
			return
		}
		if objstore.ValidateLifecycle(rules) != nil {
			return
		}
		out, err := xml.Marshal(lifecycleXML(rules))
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := parseLifecycle(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if diff := cmp.Diff(rules, again); diff != "" {
			t.Fatalf("round trip of %q via %s (-first +second):\n%s", data, out, diff)
		}
	})
}

// FuzzParseTaggingHeader: x-amz-tagging parsing never panics and what it
// accepts is within S3's limits.
func FuzzParseTaggingHeader(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a=two%20words", "=x", "a=1&a=2", "k", "%zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tags, err := parseTaggingHeader(v)
		if err != nil {
			return
		}
		if len(tags) > maxObjectTags {
			t.Fatalf("%q: %d tags accepted", v, len(tags))
		}
		for k, val := range tags {
			if k == "" || len(k) > maxTagKeyLen || len(val) > maxTagValueLen {
				t.Fatalf("%q: tag %q=%q accepted", v, k, val)
			}
		}
	})
}
