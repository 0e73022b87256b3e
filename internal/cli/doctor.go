package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/diag"
)

// listFlag is a flag that may be repeated.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// doctor runs "strata doctor URL": it diagnoses a URL from the outside and
// prints the findings. Exit status: 0 no bad finding, 1 a bad finding, 2
// it could not run.
func doctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strata doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts    diag.Options
		resolve listFlag
		checks  listFlag
	)
	fs.StringVar(&opts.Origin, "origin", "", "the origin behind the CDN, `host:port` or URL: compare its direct answers (C03, C06, C12)")
	fs.Var(&resolve, "resolve", "connect to `HOST:PORT:ADDR` instead of resolving HOST, as curl does (repeatable)")
	fs.StringVar(&opts.ExpectCNAME, "expect-cname", "", "the `name` the URL's CNAME chain must reach (C13)")
	fs.StringVar(&opts.DNSServer, "dns", "", "ask this DNS server (`host:port`) instead of the system's")
	fs.Var(&checks, "check", "run only this `check` (repeatable): "+strings.Join(diag.CheckNames(), ", "))
	fs.BoolVar(&opts.NoCapture, "no-capture", false, "never capture packets (as root on Linux the reset check captures the SYN, FIN and RST of a connection it sees cut, to compare their TTLs: C23)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "time limit of each network operation")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: strata doctor URL [flags]\n\nDiagnoses URL from the outside: timing, HTTP semantics, TLS, DNS and the origin.\nExit status: 0 no bad finding, 1 a bad finding, 2 could not run.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	// Flags may come before or after the URL.
	var urls []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return ExitOK
			}
			return ExitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		urls = append(urls, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(urls) != 1 {
		fmt.Fprintln(stderr, "strata doctor: want exactly one URL")
		fs.Usage()
		return ExitUsage
	}
	opts.URL, opts.Resolve, opts.Checks = urls[0], resolve, checks
	opts.UserAgent = "strata-doctor/" + Version()

	rep, err := diag.Run(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "strata doctor:", err)
		return ExitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "strata doctor:", err)
			return ExitUsage
		}
	} else {
		printReport(stdout, rep, isTerminal(stdout))
	}
	if rep.Worst() == diag.Bad {
		return ExitFail
	}
	return ExitOK
}

// isTerminal reports whether w is a terminal, where colour is wanted.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ANSI colours of the levels.
var levelColour = map[diag.Level]string{
	diag.Bad: "\x1b[1;31m", diag.Warn: "\x1b[33m", diag.Info: "\x1b[36m", diag.OK: "\x1b[32m",
}

const colourReset = "\x1b[0m"

// printReport writes the findings grouped by level, worst first: bad and
// warn findings with their evidence and fix, info with evidence, ok as
// one line each.
func printReport(w io.Writer, rep diag.Report, colour bool) {
	paint := func(l diag.Level, s string) string {
		if !colour {
			return s
		}
		return levelColour[l] + s + colourReset
	}
	fmt.Fprintf(w, "strata doctor %s\n", rep.URL)
	if t := rep.Timing; t != nil {
		var parts []string
		for _, f := range t.Fields() {
			parts = append(parts, fmt.Sprintf("%s=%.3f", strings.TrimPrefix(f.Name, "time_"), f.Value.Seconds()))
		}
		fmt.Fprintf(w, "timing (s): %s\n", strings.Join(parts, " "))
	}
	counts := map[diag.Level]int{}
	for _, l := range []diag.Level{diag.Bad, diag.Warn, diag.Info, diag.OK} {
		var group []diag.Finding
		for _, f := range rep.Findings {
			if f.Level == l {
				group = append(group, f)
			}
		}
		counts[l] = len(group)
		if len(group) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", paint(l, strings.ToUpper(l.String())))
		for _, f := range group {
			tag := f.ID
			if f.Case != "" {
				tag += " [" + f.Case + "]"
			}
			fmt.Fprintf(w, "  %s %s\n", paint(l, tag), f.Summary)
			if l == diag.OK {
				continue
			}
			for _, e := range f.Evidence {
				fmt.Fprintf(w, "      %s\n", e)
			}
			if f.Fix != "" {
				fmt.Fprintf(w, "    fix: %s\n", f.Fix)
			}
		}
	}
	fmt.Fprintf(w, "\n%d bad, %d warn, %d info, %d ok\n", counts[diag.Bad], counts[diag.Warn], counts[diag.Info], counts[diag.OK])
}
