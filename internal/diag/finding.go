package diag

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Level grades a finding. The order matters: a higher level is worse.
type Level int

// Levels, from best to worst.
const (
	OK   Level = iota // the check passed
	Info              // worth knowing; not a fault
	Warn              // likely to cause trouble for some clients or caches
	Bad               // a fault: some clients fail because of it
)

var levelNames = [...]string{OK: "ok", Info: "info", Warn: "warn", Bad: "bad"}

// String returns the level's name: "ok", "info", "warn" or "bad".
func (l Level) String() string {
	if l < OK || l > Bad {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// MarshalText encodes the level as its name, for --json output.
func (l Level) MarshalText() ([]byte, error) {
	if l < OK || l > Bad {
		return nil, fmt.Errorf("diag: invalid level %d", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText decodes a level name.
func (l *Level) UnmarshalText(b []byte) error {
	for i, n := range levelNames {
		if strings.EqualFold(string(b), n) {
			*l = Level(i)
			return nil
		}
	}
	return fmt.Errorf("diag: unknown level %q", b)
}

// Finding is one result of one check.
type Finding struct {
	// ID names the finding, "check.result" (e.g. "etag.unquoted"); the
	// IDs are listed in docs/doctor.md.
	ID string `json:"id"`
	// Case is the case-catalogue ID the finding comes from ("C07", "A1"),
	// or "" for general information such as timings.
	Case string `json:"case,omitempty"`
	// Level grades the finding.
	Level Level `json:"level"`
	// Summary is one line saying what was found.
	Summary string `json:"summary"`
	// Evidence holds what was seen, one item a line: headers as
	// "Name: value", timings, certificate names, errors.
	Evidence []string `json:"evidence,omitempty"`
	// Fix says what to do about it; empty for OK findings.
	Fix string `json:"fix,omitempty"`
	// Cut is the structured evidence of a connection cut at the network
	// level; only the reset check's findings carry it.
	Cut *Cut `json:"cut,omitempty"`
}

// Cut is the evidence of a connection to one address that was cut at the
// network level (C23, C15): where, how, what had crossed it by then, how
// often, what the comparisons showed and, when packets were captured, the
// TTLs of the server's SYN-ACK and of the packet that cut it.
type Cut struct {
	// Addr is the address connected to, "ip:port".
	Addr string `json:"addr"`
	// Phase is where the first attempt failed: "connect", "tls-handshake"
	// (after the ClientHello), "request" (after the request was sent) or
	// "body" (mid-body).
	Phase string `json:"phase"`
	// Kind is how: "refused" (RST to the SYN), "timeout", "unreachable"
	// (ICMP), "reset" (RST) or "closed" (FIN, EOF).
	Kind string `json:"kind"`
	// Error is the first attempt's error.
	Error string `json:"error,omitempty"`
	// SinceConnect is the time in seconds from the connection's
	// establishment to the cut; 0 in the connect phase.
	SinceConnect float64 `json:"since_connect"`
	// BytesSent and BytesReceived count the TCP payload that crossed the
	// connection before the cut, TLS records included.
	BytesSent     int64 `json:"bytes_sent"`
	BytesReceived int64 `json:"bytes_received"`
	// Attempts is how many times the attempt was made, Failures how many
	// of them were cut; Pattern is "consistent" (all) or "intermittent"
	// (some).
	Attempts int    `json:"attempts"`
	Failures int    `json:"failures"`
	Pattern  string `json:"pattern"`
	// Verdict is what the comparisons show: "name-filtered" (another SNI
	// or Host gets through), "keyword-filtered" (the bare path gets
	// through), "on-connect" (cut even when nothing is sent), "not-name"
	// (every variant is cut), or "" (not compared).
	Verdict  string       `json:"verdict,omitempty"`
	Compared []Comparison `json:"compared,omitempty"`
	// SynAckTTL and CutTTL are the captured TTLs (IPv6: hop limits) of
	// the server's SYN-ACK and of the RST or FIN; 0 when not captured.
	// Injected says they differ by more than a few hops.
	SynAckTTL int  `json:"synack_ttl,omitempty"`
	CutTTL    int  `json:"cut_ttl,omitempty"`
	Injected  bool `json:"injected,omitempty"`
}

// Comparison is one variant of a cut attempt and how it ended.
type Comparison struct {
	// Probe says what was changed ("without SNI", "with Host: …").
	Probe string `json:"probe"`
	// Result says how it ended.
	Result string `json:"result"`
	// Answered says the peer answered at the protocol level (completed,
	// or refused with a TLS alert or an HTTP status): the variant got
	// through.
	Answered bool `json:"answered"`
}

// Timing holds the phases of one fresh request, in curl's names and
// arithmetic (curl --write-out): every value is the time from the start of
// the request to the end of the phase, so time_connect includes
// time_namelookup. A phase that did not happen (no DNS lookup for an IP
// address, no TLS for http) takes the value of the phase before it, as
// curl's time_appconnect is 0 and the later values still add up.
type Timing struct {
	NameLookup    time.Duration `json:"-"`
	Connect       time.Duration `json:"-"`
	AppConnect    time.Duration `json:"-"` // zero for plain http, as in curl
	StartTransfer time.Duration `json:"-"`
	Total         time.Duration `json:"-"`
}

// Fields returns the timings as curl names them, in seconds.
func (t Timing) Fields() []struct {
	Name  string
	Value time.Duration
} {
	return []struct {
		Name  string
		Value time.Duration
	}{
		{"time_namelookup", t.NameLookup},
		{"time_connect", t.Connect},
		{"time_appconnect", t.AppConnect},
		{"time_starttransfer", t.StartTransfer},
		{"time_total", t.Total},
	}
}

// MarshalJSON encodes the timings as curl's names with values in seconds.
func (t Timing) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range t.Fields() {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%.6f", f.Name, f.Value.Seconds())
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// Report is the result of Run.
type Report struct {
	URL      string    `json:"url"`
	Timing   *Timing   `json:"timing,omitempty"` // nil when the first request failed
	Findings []Finding `json:"findings"`
}

// Worst returns the highest level among the findings (OK when none).
func (r Report) Worst() Level {
	w := OK
	for _, f := range r.Findings {
		w = max(w, f.Level)
	}
	return w
}

// Find returns the findings whose ID is id.
func (r Report) Find(id string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// Errors Run returns when it cannot run at all; callers branch on them
// with errors.Is.
var (
	// ErrBadURL: the URL is not an absolute http or https URL.
	ErrBadURL = errors.New("diag: bad URL")
	// ErrResolve: the target's own name does not resolve.
	ErrResolve = errors.New("diag: cannot resolve target")
	// ErrBadOption: an option is malformed (e.g. a --resolve entry).
	ErrBadOption = errors.New("diag: bad option")
)
