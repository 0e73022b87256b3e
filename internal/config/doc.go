// Package config defines Strata's configuration file: a strict YAML format
// (unknown keys are errors), embedded defaults, and Validate, which reports
// every problem at once, each with its key path and what to do about it.
//
// It imports no service package; the daemon translates a Config into the
// services' own option structs.
package config
