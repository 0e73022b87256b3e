package logs

import "testing"

// FuzzParseStrata: no input panics, and a parsed record is sane.
func FuzzParseStrata(f *testing.F) {
	f.Add([]byte(`{"time":"2026-01-01T00:00:00.123Z","kind":"request","node":"n1","client":"1.2.3.4:5","method":"GET","host":"a.test","uri":"/x","status":206,"range":"bytes=0-1","bytes_sent":2,"bytes_origin":100,"cache":"MISS reason=not-cached","upstream":[{"addr":"o:80","status":200,"ms":1.5}],"duration_ms":3}`))
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","kind":"drop","dropped":12}`))
	f.Add([]byte(`{"time":"bad"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		if err := ParseStrata(line, &r); err != nil {
			return
		}
		if r.Kind != KindDrop && (r.Status < 0 || r.Status > 999 || r.BytesSent < 0 || r.BytesOrigin < 0) {
			t.Errorf("parsed an impossible record: %+v", r)
		}
		a := NewAnalyzer(Options{})
		a.Add(&r)
		a.Report()
	})
}

// FuzzParseNginx: no input panics, and a parsed record is sane.
func FuzzParseNginx(f *testing.F) {
	f.Add([]byte(`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 2326 "http://r/" "Mozilla/5.0"`))
	f.Add([]byte(`1.2.3.4 - bob [10/Oct/2000:13:55:36 +0000] "GET /a?b=1 HTTP/1.1" 206 100 "-" "curl/8" "MISS" host=a.test rt=0.010 ua="10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80" us="502, 504 : 200" uht="1.0, 2.0 : 0.1"`))
	f.Add([]byte(`::1 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01" 400 0 "-" "-" cs=HIT ua=10.0.0.1:80, 10.0.0.2:80 us=502, 200`))
	f.Add([]byte(`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 -`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		if err := ParseNginx(line, &r); err != nil {
			return
		}
		if r.Status < 0 || r.Status > 999 || r.BytesSent < 0 || len(r.Upstream) > 32 {
			t.Errorf("parsed an impossible record: %+v", r)
		}
		a := NewAnalyzer(Options{})
		a.Add(&r)
		a.Report()
	})
}
