package daemon

import (
	"github.com/strata-cdn/strata/internal/config"
	"github.com/strata-cdn/strata/internal/edge"
	"github.com/strata-cdn/strata/internal/transform"
)

// applyDomainRules copies a configured domain's header rules, CORS, upload
// limit and timeouts onto its edge.Domain.
func applyDomainRules(cd config.Domain, d *edge.Domain) {
	d.RequestHeaders = edge.HeaderRules{Set: cd.RequestHeaders.Set, Add: cd.RequestHeaders.Add, Remove: cd.RequestHeaders.Remove}
	d.ResponseHeaders = edge.HeaderRules{Set: cd.ResponseHeaders.Set, Add: cd.ResponseHeaders.Add, Remove: cd.ResponseHeaders.Remove}
	if c := cd.CORS; len(c.AllowOrigins) > 0 {
		d.CORS = &edge.CORS{
			AllowOrigins: c.AllowOrigins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
			ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials, MaxAge: c.MaxAge.D(),
		}
	}
	d.MaxUpload = int64(cd.MaxUpload)
	to := cd.Timeouts
	d.Timeouts = edge.Timeouts{
		Connect: to.Connect.D(), FirstByte: to.FirstByte.D(), Idle: to.Idle.D(),
		ClientWrite: to.ClientWrite.D(), MediaClientWrite: to.MediaClientWrite.D(),
		MinRate: int64(to.MinRate), MediaMinRate: int64(to.MediaMinRate),
		UpgradeIdle: to.UpgradeIdle.D(),
	}
	d.Transform = edgeTransform(cd.Transform)
}

// edgeTransform maps a domain's transform keys onto an edge.Transform; nil
// when it transforms nothing.
func edgeTransform(ct config.DomainTransform) *edge.Transform {
	if !ct.Enabled() {
		return nil
	}
	t := &edge.Transform{
		Types: ct.Types, MinSize: int64(ct.MinSize), MaxSize: int64(ct.MaxSize),
		GzipLevel: ct.GzipLevel, BrotliLevel: ct.BrotliLevel,
		OriginAcceptEncoding: ct.OriginAcceptEncoding,
	}
	switch ct.OriginAcceptEncoding {
	case "":
		t.OriginAcceptEncoding = "gzip"
	case "identity":
		t.OriginAcceptEncoding = ""
	}
	for _, c := range ct.Compress {
		t.Codings = append(t.Codings, transform.Coding(c))
	}
	for _, m := range ct.Minify {
		t.Minify = append(t.Minify, transform.Kind(m))
	}
	return t
}
