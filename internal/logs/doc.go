// Package logs reads access logs and explains them: Strata's edge access log
// (JSON lines, see docs/logs.md) and nginx's "combined" format, optionally
// with $upstream_cache_status and upstream fields appended. It streams files
// of any size in bounded memory (gzip detected by its magic number), counts
// requests and bytes over time, the hit ratio, the status mix, the top
// clients and URLs, and detects the patterns behind the catalogue's cases:
// range storms that never cache (C09), a client hammering one object,
// hit-ratio drops, and 5xx bursts from one origin or parent (C18).
//
// The package reads files but opens no sockets, starts no goroutines and
// never reads the clock: every time comes from the log lines.
package logs
