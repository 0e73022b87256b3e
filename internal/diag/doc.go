// Package diag finds, from the outside, the faults catalogued in the case
// list (docs/doctor.md): it probes a URL the way an engineer would with
// curl, openssl and dig, and returns structured findings. It prints
// nothing; the strata doctor command formats a Report.
//
// Every probe is bounded: each network operation has a timeout
// (Options.Timeout), each check sends at most a handful of requests, and
// response bodies are read up to Options.MaxBody bytes.
package diag
