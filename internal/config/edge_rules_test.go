package config

import (
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDomainRulesParse_C10_C12_C25: the header, CORS, upload and timeout
// keys are read as written.
func TestDomainRulesParse_C10_C12_C25(t *testing.T) {
	cfg, err := Parse([]byte(`
domains:
  - host: a.example.test
    origin: http://10.0.0.1:8000
    request_headers: {remove: [Via, X-Forwarded-For, Accept-Encoding], set: {X-Tenant: blue}}
    response_headers: {set: {X-Frame-Options: DENY}, add: {X-Served-By: strata}, remove: [Server]}
    cors:
      allow_origins: ["https://app.example.com", "https://*.example.com", "*.example.org"]
      allow_methods: [GET, PUT]
      max_age: 10m
    max_upload: 300MiB
    timeouts: {connect: 3s, upgrade_idle: 2m, media_client_write: 20m, media_min_rate: 1KiB}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Domains[0]
	if got, want := d.RequestHeaders.Remove, []string{"Via", "X-Forwarded-For", "Accept-Encoding"}; !cmp.Equal(got, want) {
		t.Errorf("request_headers.remove = %q, want %q", got, want)
	}
	if d.ResponseHeaders.Set["X-Frame-Options"] != "DENY" || d.ResponseHeaders.Add["X-Served-By"] != "strata" {
		t.Errorf("response_headers = %+v", d.ResponseHeaders)
	}
	if len(d.CORS.AllowOrigins) != 3 || d.CORS.MaxAge.D() != 10*time.Minute {
		t.Errorf("cors = %+v", d.CORS)
	}
	if d.MaxUpload != 300*MiB {
		t.Errorf("max_upload = %v, want 300MiB", d.MaxUpload)
	}
	if d.Timeouts.Connect.D() != 3*time.Second || d.Timeouts.UpgradeIdle.D() != 2*time.Minute ||
		d.Timeouts.MediaClientWrite.D() != 20*time.Minute || d.Timeouts.MediaMinRate != KiB {
		t.Errorf("timeouts = %+v", d.Timeouts)
	}
}

// TestDomainRulesProblems: each bad value is reported at its key.
func TestDomainRulesProblems(t *testing.T) {
	_, err := Parse([]byte(`
domains:
  - host: a.example.test
    origin: http://10.0.0.1:8000
    request_headers: {remove: [Host, "bad name"], set: {Content-Length: "1"}}
    response_headers: {add: {"X-A": "x\ny"}}
    cors:
      allow_origins: ["ftp://x.example.com", "https://ok.example.com", "https://a.example.com/path", "*"]
      allow_methods: ["GE T"]
      allow_credentials: true
      max_age: -1s
    max_upload: -1
    timeouts: {connect: -1s, upgrade_idle: -2s, first_byte: -1s, min_rate: -1}
  - host: b.example.test
    origin: http://10.0.0.1:8000
    cors: {allow_methods: [GET]}
`))
	got := problemPaths(t, err)
	want := []string{
		"domains[0].request_headers.set.Content-Length",
		"domains[0].request_headers.remove[0]",
		"domains[0].request_headers.remove[1]",
		"domains[0].response_headers.add.X-A",
		"domains[0].cors.allow_origins[0]",
		"domains[0].cors.allow_origins[2]",
		"domains[0].cors.allow_methods[0]",
		"domains[0].cors.max_age",
		"domains[0].max_upload",
		"domains[0].timeouts.connect",
		"domains[0].timeouts.upgrade_idle",
		"domains[0].timeouts.first_byte",
		"domains[0].timeouts.min_rate",
		"domains[1].cors.allow_origins",
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
}
