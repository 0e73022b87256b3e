package postpolicy

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse checks that any document either parses into a policy whose
// evaluation never panics, or fails with ErrMalformed.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key","u/"],["content-length-range",1,10]]}`), "u/${filename}", "a.txt")
	f.Fuzz(func(t *testing.T, doc []byte, key, filename string) {
		p, err := Parse(doc)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v is not ErrMalformed", err)
			}
			return
		}
		for _, c := range p.Conditions {
			_ = c.String()
			if c.Op == OpContentLengthRange && (c.Min < 0 || c.Min > c.Max) {
				t.Fatalf("accepted an empty range %v", c)
			}
		}
		form := Form{Bucket: "b", Fields: map[string]string{"key": key}, Filename: filename}
		err = p.Check(form, time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil && !errors.Is(err, ErrExpired) && !errors.Is(err, ErrConditionFailed) && !errors.Is(err, ErrExtraField) {
			t.Fatalf("Check error %v matches no sentinel", err)
		}
		if err != nil {
			_ = err.Error()
		}
		if lo, hi, ok := p.LengthRange(); ok {
			if e := p.CheckLength(lo); lo <= hi && e != nil {
				t.Fatalf("CheckLength(%d) in [%d, %d] = %v", lo, lo, hi, e)
			}
		}
	})
}
