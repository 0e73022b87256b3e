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
