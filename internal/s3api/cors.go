package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/strata-cdn/strata/internal/objstore"
)

// Bucket CORS (the S3 CORSConfiguration): PutBucketCors, GetBucketCors and
// DeleteBucketCors store the rules; preflight OPTIONS requests are answered
// from them; and the store's own responses to cross-origin requests carry
// Access-Control-Allow-Origin as the first matching rule allows.
//
// As S3 does, a rule whose AllowedOrigin is exactly "*" answers "*" (and no
// credentials); any other matching rule echoes the request's Origin and
// allows credentials. Every response from a bucket with CORS rules varies
// on Origin, so a cache in front (such as Strata's edge) never serves one
// origin's answer to another (case C10).

const (
	corsConfigName = "cors"
	maxCORSRules   = 100
)

type corsConfiguration struct {
	XMLName xml.Name   `xml:"CORSConfiguration"`
	Xmlns   string     `xml:"xmlns,attr,omitempty"`
	Rules   []corsRule `xml:"CORSRule"`
}

type corsRule struct {
	ID             string   `xml:"ID,omitempty"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedHeaders []string `xml:"AllowedHeader,omitempty"`
	ExposeHeaders  []string `xml:"ExposeHeader,omitempty"`
	MaxAgeSeconds  *int     `xml:"MaxAgeSeconds,omitempty"`
}

var corsMethods = []string{"GET", "PUT", "POST", "DELETE", "HEAD"}

// validate checks a configuration as S3 does, naming the rule and the
// element at fault.
func (c *corsConfiguration) validate() error {
	if len(c.Rules) == 0 {
		return errMalformedXML(errors.New("CORSConfiguration has no CORSRule"))
	}
	if len(c.Rules) > maxCORSRules {
		return errInvalidArgument("The CORS configuration has %d rules; at most %d are allowed.", len(c.Rules), maxCORSRules)
	}
	for i, r := range c.Rules {
		name := fmt.Sprintf("CORSRule %d", i+1)
		if r.ID != "" {
			name = fmt.Sprintf("CORSRule %d (ID %q)", i+1, r.ID)
		}
		if len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 {
			return errMalformedXML(fmt.Errorf("%s needs at least one AllowedOrigin and one AllowedMethod", name))
		}
		for _, m := range r.AllowedMethods {
			if !contains(corsMethods, m) {
				return errInvalidArgument("Found unsupported HTTP method in CORS config. Unsupported method is %s (in %s); use GET, PUT, POST, DELETE or HEAD.", m, name)
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return errInvalidArgument("AllowedOrigin %q can not have more than one wildcard (in %s).", o, name)
			}
		}
		for _, h := range r.AllowedHeaders {
			if strings.Count(h, "*") > 1 {
				return errInvalidArgument("AllowedHeader %q can not have more than one wildcard (in %s).", h, name)
			}
		}
		if r.MaxAgeSeconds != nil && *r.MaxAgeSeconds < 0 {
			return errInvalidArgument("MaxAgeSeconds %d is negative (in %s).", *r.MaxAgeSeconds, name)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// matchOne reports whether s matches a pattern with at most one "*",
// case-insensitively (origins and header names are case-insensitive).
func matchOne(pat, s string) bool {
	pat, s = strings.ToLower(pat), strings.ToLower(s)
	before, after, ok := strings.Cut(pat, "*")
	if !ok {
		return pat == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

func matchAny(pats []string, s string) bool {
	for _, p := range pats {
		if matchOne(p, s) {
			return true
		}
	}
	return false
}

// match returns the first rule allowing origin, method and every header
// in headers (already split and lower-cased).
func (c *corsConfiguration) match(origin, method string, headers []string) (*corsRule, bool) {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !matchAny(r.AllowedOrigins, origin) || !contains(r.AllowedMethods, method) {
			continue
		}
		ok := true
		for _, h := range headers {
			if !matchAny(r.AllowedHeaders, h) {
				ok = false
				break
			}
		}
		if ok {
			return r, true
		}
	}
	return nil, false
}

// loadCORS returns the bucket's CORS configuration, or nil when it has
// none (or the bucket does not exist).
func (req *request) loadCORS() (*corsConfiguration, error) {
	doc, err := req.h.Store.GetBucketConfig(req.ctx, req.bucket, corsConfigName)
	if err != nil {
		if errors.Is(err, objstore.ErrNoSuchBucketConfig) || errors.Is(err, objstore.ErrNoSuchBucket) {
			return nil, nil
		}
		return nil, err
	}
	var c corsConfiguration
	if err := xml.Unmarshal(doc, &c); err != nil {
		return nil, fmt.Errorf("stored CORS configuration of bucket %s: %w", req.bucket, err)
	}
	return &c, nil
}

// setAllowHeaders writes the Access-Control-* headers for a matched rule.
func setAllowHeaders(hdr http.Header, r *corsRule, origin string) {
	if contains(r.AllowedOrigins, "*") && !hasExactOrigin(r, origin) {
		hdr.Set("Access-Control-Allow-Origin", "*")
	} else {
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Access-Control-Allow-Credentials", "true")
	}
	hdr.Set("Access-Control-Allow-Methods", strings.Join(r.AllowedMethods, ", "))
	if len(r.ExposeHeaders) > 0 {
		hdr.Set("Access-Control-Expose-Headers", strings.Join(r.ExposeHeaders, ", "))
	}
	if r.MaxAgeSeconds != nil {
		hdr.Set("Access-Control-Max-Age", strconv.Itoa(*r.MaxAgeSeconds))
	}
}

// hasExactOrigin reports whether a rule names origin other than by "*".
func hasExactOrigin(r *corsRule, origin string) bool {
	for _, o := range r.AllowedOrigins {
		if o != "*" && matchOne(o, origin) {
			return true
		}
	}
	return false
}

const corsVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// applyCORS adds the CORS headers of the bucket's rules to the response of
// an actual (non-preflight) request. It runs before authentication, as S3
// does: a browser needs them to read even an error.
func (req *request) applyCORS() {
	if req.bucket == "" || req.r.Method == http.MethodOptions {
		return
	}
	origin := req.r.Header.Get("Origin")
	// Without an Origin only a cacheable response needs Vary: Origin.
	if origin == "" && req.r.Method != http.MethodGet && req.r.Method != http.MethodHead {
		return
	}
	c, err := req.loadCORS()
	if err != nil {
		req.h.logger().Warn("cannot read bucket CORS configuration", "request_id", req.id, "bucket", req.bucket, "error", err)
		return
	}
	if c == nil {
		return
	}
	hdr := req.w.Header()
	hdr.Add("Vary", corsVary)
	if origin == "" {
		return
	}
	if r, ok := c.match(origin, req.r.Method, nil); ok {
		setAllowHeaders(hdr, r, origin)
	}
}

// preflight answers an OPTIONS request from the bucket's CORS rules.
func (req *request) preflight() error {
	origin := req.r.Header.Get("Origin")
	if origin == "" {
		return newError(http.StatusBadRequest, "BadRequest", "Insufficient information. Origin request header needed.")
	}
	method := req.r.Header.Get("Access-Control-Request-Method")
	if method == "" {
		return newError(http.StatusBadRequest, "BadRequest", "Insufficient information. Access-Control-Request-Method request header needed.")
	}
	if !contains(corsMethods, method) {
		return newError(http.StatusBadRequest, "BadRequest",
			"Invalid Access-Control-Request-Method: %s; S3 CORS allows GET, PUT, POST, DELETE and HEAD.", method)
	}
	var headers []string
	for _, v := range req.r.Header.Values("Access-Control-Request-Headers") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
				headers = append(headers, h)
			}
		}
	}
	resource := "BUCKET"
	if req.key != "" {
		resource = "OBJECT"
	}
	forbidden := func(why string) error {
		return newError(http.StatusForbidden, "AccessForbidden",
			"CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec. Here: %s", why).
			with("Method", method).with("ResourceType", resource)
	}
	c, err := req.loadCORS()
	if err != nil {
		return err
	}
	hdr := req.w.Header()
	if c == nil {
		return forbidden(fmt.Sprintf("bucket %s has no CORS configuration (PutBucketCors sets one).", req.bucket))
	}
	hdr.Add("Vary", corsVary)
	r, ok := c.match(origin, method, headers)
	if !ok {
		why := fmt.Sprintf("no CORSRule of bucket %s allows origin %q with method %s", req.bucket, origin, method)
		if len(headers) > 0 {
			why += fmt.Sprintf(" and headers %s", strings.Join(headers, ", "))
		}
		return forbidden(why + ".")
	}
	setAllowHeaders(hdr, r, origin)
	if len(headers) > 0 {
		hdr.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	}
	hdr.Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (req *request) putBucketCORS() error {
	data, err := req.readSmallBody()
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errMalformedXML(errors.New("empty body"))
	}
	var c corsConfiguration
	if err := xml.Unmarshal(data, &c); err != nil {
		return errMalformedXML(err)
	}
	if err := c.validate(); err != nil {
		return err
	}
	c.Xmlns = s3Namespace
	doc, err := xml.Marshal(c)
	if err != nil {
		return err
	}
	if err := req.h.Store.PutBucketConfig(req.ctx, req.bucket, corsConfigName, doc); err != nil {
		return err
	}
	req.w.Header().Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (req *request) getBucketCORS() error {
	doc, err := req.h.Store.GetBucketConfig(req.ctx, req.bucket, corsConfigName)
	if errors.Is(err, objstore.ErrNoSuchBucketConfig) {
		return newError(http.StatusNotFound, "NoSuchCORSConfiguration",
			"The CORS configuration does not exist: bucket %s has none.", req.bucket)
	}
	if err != nil {
		return err
	}
	var c corsConfiguration
	if err := xml.Unmarshal(doc, &c); err != nil {
		return fmt.Errorf("stored CORS configuration of bucket %s: %w", req.bucket, err)
	}
	c.Xmlns = s3Namespace
	req.writeXML(http.StatusOK, c)
	return nil
}

func (req *request) deleteBucketCORS() error {
	if err := req.h.Store.DeleteBucketConfig(req.ctx, req.bucket, corsConfigName); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}
