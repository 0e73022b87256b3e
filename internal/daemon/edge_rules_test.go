package daemon

import (
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/config"
	"github.com/strata-cdn/strata/internal/edge"
)

// TestApplyDomainRules_C10_C12_C25: the configured rules reach the edge
// domain; CORS stays off without allowed origins.
func TestApplyDomainRules_C10_C12_C25(t *testing.T) {
	cd := config.Domain{
		RequestHeaders:  config.HeaderRules{Remove: []string{"Via"}},
		ResponseHeaders: config.HeaderRules{Set: map[string]string{"X-A": "1"}},
		CORS:            config.CORS{AllowOrigins: []string{"https://a.test"}, MaxAge: config.Duration(time.Minute)},
		MaxUpload:       config.MiB,
		Timeouts:        config.DomainTimeouts{FirstByte: config.Duration(time.Second), MediaMinRate: config.KiB},
	}
	var d edge.Domain
	applyDomainRules(cd, &d)
	if len(d.RequestHeaders.Remove) != 1 || d.ResponseHeaders.Set["X-A"] != "1" {
		t.Errorf("header rules = %+v / %+v", d.RequestHeaders, d.ResponseHeaders)
	}
	if d.CORS == nil || d.CORS.AllowOrigins[0] != "https://a.test" || d.CORS.MaxAge != time.Minute {
		t.Errorf("CORS = %+v", d.CORS)
	}
	if d.MaxUpload != 1<<20 || d.Timeouts.FirstByte != time.Second || d.Timeouts.MediaMinRate != 1024 {
		t.Errorf("max upload %d, timeouts %+v", d.MaxUpload, d.Timeouts)
	}
	var off edge.Domain
	applyDomainRules(config.Domain{}, &off)
	if off.CORS != nil {
		t.Errorf("CORS without allow_origins = %+v, want nil", off.CORS)
	}
}
