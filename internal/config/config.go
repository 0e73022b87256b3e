package config

import (
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
	// SendTimeout: a client that reads nothing for this long is cut off and
	// the log says so (cases C21, C22).
	SendTimeout Duration `yaml:"send_timeout"`
	// MinSendRate, in bytes per second measured over SendTimeout, is the
	// slowest download allowed; 0 turns the check off.
	MinSendRate ByteSize `yaml:"min_send_rate"`
	// Buckets are created at start if missing, with the given access.
	Buckets []Bucket `yaml:"buckets"`
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
			SendTimeout:   Duration(30 * time.Second),
		},
		Admin: Admin{Listen: ":9090"},
	}
}
