package config

import (
	"net/netip"
	"os"
	"time"
)

// Config is the whole configuration file. Every field has a default (see
// Default), so an empty file, or none, is a working configuration.
type Config struct {
	// NodeID names this node in Server and Via headers, error bodies and
	// logs. Default: the host name.
	NodeID string `yaml:"node_id"`
	// DataDir holds the object store's data and metadata.
	DataDir string `yaml:"data_dir"`
	// ShutdownTimeout bounds a graceful shutdown: in-flight requests get
	// this long to finish after SIGTERM.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	Log             Log      `yaml:"log"`
	S3              S3       `yaml:"s3"`
	Admin           Admin    `yaml:"admin"`
	Edge            Edge     `yaml:"edge"`
	Live            Live     `yaml:"live"`
	// Cluster lists the deployment's nodes for cluster tasks (cluster.go).
	Cluster Cluster `yaml:"cluster"`
	// Domains are the sites the edge serves. With none, the edge fronts
	// this node's own store: /<bucket>/<key> of public-read buckets.
	Domains []Domain `yaml:"domains"`
}

// Edge configures the caching edge's listener and cache.
type Edge struct {
	// Listen is the edge's HTTP address; empty host = every address.
	Listen string `yaml:"listen"`
	Cache  Cache  `yaml:"cache"`
	// TLSListen, TLSRoots: the HTTPS listener and its trust store (tls.go).
	TLSListen string `yaml:"tls_listen"`
	TLSRoots  string `yaml:"tls_roots"`
	// AccessLog is the edge's access log (docs/logs.md): a file path, "-"
	// for standard error, or "off". Default: <data_dir>/logs/edge-access.log.
	AccessLog string `yaml:"access_log"`
	// Parents are other Strata edges (an L2 tier) misses are fetched
	// through, chosen by consistent hashing of the cache key, with one
	// retry on the next parent (edge_tiers.go, case C18).
	Parents []string `yaml:"parents"`
	// ParentsFallbackOrigin fetches from the origin when the parents tried
	// failed. Default: false (the failure is the answer).
	ParentsFallbackOrigin bool `yaml:"parents_fallback_origin"`
	// Resolver: how origin names are resolved and cached (edge_resolver.go).
	Resolver EdgeResolver `yaml:"resolver"`
}

// Cache bounds the edge's two cache tiers.
type Cache struct {
	Memory ByteSize `yaml:"memory"`
	Disk   ByteSize `yaml:"disk"`
	// Dir holds the disk tier. Default: <data_dir>/cache.
	Dir string `yaml:"dir"`
	// MaxEntry bounds one cached body (a whole object or a slice); a
	// response larger than this is served but not cached.
	MaxEntry ByteSize `yaml:"max_entry"`
	// BackgroundFill bounds what a cacheable fetch still reads from the
	// origin after its last client hung up, so the object lands in the
	// cache anyway (case C09); 0 stops a fetch when its last client leaves.
	BackgroundFill ByteSize `yaml:"background_fill"`
}

// Domain is one site served by the edge.
type Domain struct {
	// Host is the request Host this domain answers (port ignored); "*"
	// matches any host no other domain claims.
	Host string `yaml:"host"`
	// Origin is the origin's URL: scheme, host[:port] and an optional path
	// prefix prepended to every request path.
	Origin string `yaml:"origin"`
	// OriginHost is the Host header sent to the origin. Default: the
	// origin URL's host.
	OriginHost string `yaml:"origin_host"`
	// Origins are further origins tried in turn when the one before fails;
	// HealthCheck probes them all (edge_tiers.go).
	Origins     []string    `yaml:"origins"`
	HealthCheck HealthCheck `yaml:"health_check"`
	// Range selects how range requests reach the origin: "off" fetches
	// whole objects, "on" fetches a range request's slices, "force" fetches
	// every request in slices.
	Range string `yaml:"range"`
	// SliceSize is the size of the aligned slices fetched from the origin.
	SliceSize  ByteSize    `yaml:"slice_size"`
	CacheRules []CacheRule `yaml:"cache_rules"`
	// TLS is the domain's certificate on edge.tls_listen (tls.go).
	TLS DomainTLS `yaml:"tls"`
	// RequestHeaders edit requests to the origin (C12); ResponseHeaders
	// edit responses to clients (C10); see edge_rules.go.
	RequestHeaders  HeaderRules `yaml:"request_headers"`
	ResponseHeaders HeaderRules `yaml:"response_headers"`
	// CORS makes the edge own the domain's CORS (C10).
	CORS CORS `yaml:"cors"`
	// MaxUpload is the largest request body forwarded; 0: no limit (C25).
	MaxUpload ByteSize `yaml:"max_upload"`
	// Timeouts are the domain's time limits.
	Timeouts DomainTimeouts `yaml:"timeouts"`
	// Transform compresses and minifies responses (edge_transform.go, C03).
	Transform DomainTransform `yaml:"transform"`
}

// CacheRule overrides origin freshness for matching requests; the first
// matching rule of a domain wins.
type CacheRule struct {
	PathPrefix string   `yaml:"path_prefix"`
	Extensions []string `yaml:"extensions"`
	// TTL replaces the origin's freshness lifetime; 0 keeps the origin's.
	TTL Duration `yaml:"ttl"`
	// IgnoreVary lists request fields the cache key ignores even when the
	// origin's Vary names them (case C17: Vary: Cookie).
	IgnoreVary []string `yaml:"ignore_vary"`
}

// Log configures the process log (standard error).
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// S3 configures the S3 API listener and the object store behind it.
type S3 struct {
	// Listen is the S3 API's address, host:port; an empty host means every
	// address of the machine (case C20).
	Listen string `yaml:"listen"`
	// Region is the region clients sign for.
	Region string `yaml:"region"`
	// Domains are base domains for virtual-host style requests
	// (bucket.<domain>). Path-style requests always work.
	Domains []string `yaml:"domains"`
	// MaxObjectSize is the largest object a PUT or a completed multipart
	// upload may create.
	MaxObjectSize ByteSize `yaml:"max_object_size"`
	// MinPartSize is the smallest size of every multipart part but the last.
	MinPartSize ByteSize `yaml:"min_part_size"`
	// InlineMax is the largest object kept inside the metadata catalog,
	// committed with its metadata in one fsync, instead of in a data file
	// of its own; 0 keeps every object in a file.
	InlineMax ByteSize `yaml:"inline_max"`
	// SendTimeout: a client that reads nothing for this long is cut off and
	// the log says so (cases C21, C22).
	SendTimeout Duration `yaml:"send_timeout"`
	// MinSendRate, in bytes per second measured over SendTimeout, is the
	// slowest download allowed; 0 turns the check off.
	MinSendRate ByteSize `yaml:"min_send_rate"`
	// Buckets are created at start if missing, with the given access.
	Buckets []Bucket `yaml:"buckets"`
	// LifecycleDay is how long a "day" of bucket lifecycle rules lasts.
	// Only tests and demonstrations shorten it.
	LifecycleDay Duration `yaml:"lifecycle_day"`
	// Callback limits where upload callbacks may connect (case C24).
	Callback S3Callback `yaml:"callback"`
}

// S3Callback limits the addresses upload callbacks connect to: the
// uploader chooses the URL, so the store must not reach this machine or
// the cloud's metadata service for it.
type S3Callback struct {
	// DenyNetworks are CIDR prefixes (or addresses) callbacks may not
	// connect to. Absent: loopback, link-local and cloud metadata
	// addresses (s3api.DefaultCallbackDeny); [] denies nothing.
	DenyNetworks []string `yaml:"deny_networks"`
	// AllowNetworks are exceptions to DenyNetworks.
	AllowNetworks []string `yaml:"allow_networks"`
}

// Prefixes parses networks written as CIDR prefixes or single addresses.
// It reports the index of the first that does not parse.
func Prefixes(networks []string) ([]netip.Prefix, int, error) {
	out := make([]netip.Prefix, 0, len(networks))
	for i, n := range networks {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			a, aerr := netip.ParseAddr(n)
			if aerr != nil {
				return nil, i, err
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, -1, nil
}

// Bucket declares a bucket that must exist.
type Bucket struct {
	Name string `yaml:"name"`
	// PublicRead allows anonymous GET and HEAD of its objects, as a CDN in
	// front of the store needs.
	PublicRead bool `yaml:"public_read"`
}

// Admin configures the admin listener (/healthz, /metrics).
type Admin struct {
	Listen string `yaml:"listen"`
}

// Default returns the configuration used when no file is given.
func Default() *Config {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "strata"
	}
	return &Config{
		NodeID:          host,
		DataDir:         "./strata-data",
		ShutdownTimeout: Duration(30 * time.Second),
		Log:             Log{Level: "info", Format: "text"},
		S3: S3{
			Listen:        ":9000",
			Region:        "us-east-1",
			MaxObjectSize: 5 * TiB,
			MinPartSize:   5 * MiB,
			InlineMax:     128 * KiB,
			SendTimeout:   Duration(30 * time.Second),
			LifecycleDay:  Duration(24 * time.Hour),
		},
		Admin: Admin{Listen: ":9090"},
		Edge: Edge{
			Listen: ":8080",
			Cache:  Cache{Memory: 256 * MiB, Disk: 10 * GiB, MaxEntry: 1 * GiB, BackgroundFill: 128 * MiB},
		},
		Live: defaultLive(),
	}
}

// Per-domain defaults, applied to each element of domains by applyDefaults.
const (
	DefaultRange     = "on"
	DefaultSliceSize = 1 * MiB
)

// applyDefaults fills the defaults of list elements, which decoding leaves
// zero.
func (c *Config) applyDefaults() {
	for i := range c.Domains {
		d := &c.Domains[i]
		if d.Range == "" {
			d.Range = DefaultRange
		}
		if d.SliceSize == 0 {
			d.SliceSize = DefaultSliceSize
		}
	}
}
