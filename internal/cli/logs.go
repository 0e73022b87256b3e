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

	"github.com/strata-cdn/strata/internal/logs"
)

// logsCmd runs "strata logs SUBCOMMAND".
func logsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "analyze" {
		fmt.Fprintln(stderr, "Usage: strata logs analyze FILE... [--json] [--html FILE] [--format auto|strata|nginx] [--bucket D]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return ExitOK
		}
		return ExitUsage
	}
	return logsAnalyze(ctx, args[1:], stdout, stderr)
}

// logsAnalyze reads access logs (Strata's JSON lines or nginx combined,
// plain or gzip) and prints a report: text tables, or JSON with --json;
// --html also writes a page with charts. Exit status: 0 a report was
// made, 2 bad usage or an unreadable file.
func logsAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strata logs analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	htmlPath := fs.String("html", "", "also write the report as a self-contained HTML page with charts to `FILE`")
	format := fs.String("format", "auto", "log format: auto (per line), strata or nginx")
	bucket := fs.Duration("bucket", 0, "timeline bucket width, e.g. 1m (default: chosen from the span, at most 400 buckets)")
	top := fs.Int("top", 10, "rows in each top table")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: strata logs analyze FILE... [flags]

Reads access logs: Strata's edge access log (JSON lines, docs/logs.md) and
nginx's combined format (with $upstream_cache_status and upstream fields if
present), plain or gzip, "-" for standard input. Reports requests and bytes
over time, hit ratio, status mix, top clients and URLs, and detected
patterns: range storms that never cache (C09), a client hammering one
object, hit-ratio drops, 5xx bursts from one origin or parent (C18).

Flags:
`)
		fs.PrintDefaults()
	}
	// Flags may come before or after the files.
	var files []string
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
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "strata logs analyze: name at least one log file")
		fs.Usage()
		return ExitUsage
	}
	f := logs.Format(*format)
	switch f {
	case logs.FormatAuto, logs.FormatStrata, logs.FormatNginx:
	default:
		fmt.Fprintf(stderr, "strata logs analyze: --format %q: use auto, strata or nginx\n", *format)
		return ExitUsage
	}
	if *bucket < 0 {
		fmt.Fprintln(stderr, "strata logs analyze: --bucket must be positive, e.g. 1m")
		return ExitUsage
	}
	var progress func(int64)
	if isTerminal(stderr) {
		pb := &progressBar{w: stderr, total: totalSize(files)}
		progress = pb.update
		defer pb.done()
	}
	opts := logs.Options{Format: f, Bucket: *bucket, TopN: *top}
	a := logs.NewAnalyzer(opts)
	var read int64
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			fmt.Fprintln(stderr, "strata logs analyze: interrupted")
			return ExitUsage
		}
		base := read
		var pf func(int64)
		if progress != nil {
			pf = func(n int64) { read = base + n; progress(read) }
		}
		if err := a.ReadFile(name, pf); err != nil {
			fmt.Fprintln(stderr, "strata logs analyze:", err)
			return ExitUsage
		}
	}
	rep := a.Report()
	rep.Inputs = files
	if *htmlPath != "" {
		if err := writeHTMLReport(*htmlPath, rep); err != nil {
			fmt.Fprintln(stderr, "strata logs analyze:", err)
			return ExitUsage
		}
	}
	var err error
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "strata logs analyze:", err)
		return ExitUsage
	}
	return ExitOK
}

func writeHTMLReport(path string, rep *logs.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := rep.WriteHTML(f); err != nil {
		f.Close()
		return fmt.Errorf("html report: %w", err)
	}
	return f.Close()
}

// totalSize sums the sizes of the files (0 when one is unknown).
func totalSize(files []string) int64 {
	var n int64
	for _, name := range files {
		st, err := os.Stat(name)
		if name == "-" || err != nil || !st.Mode().IsRegular() {
			return 0
		}
		n += st.Size()
	}
	return n
}

// progressBar draws the bytes read on a terminal, at most ten times a
// second.
type progressBar struct {
	w     io.Writer
	total int64
	last  time.Time
	drawn bool
}

func (p *progressBar) update(n int64) {
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.drawn = now, true
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\rread %d MiB", n>>20)
		return
	}
	const width = 40
	frac := min(float64(n)/float64(p.total), 1)
	fill := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %d/%d MiB", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), frac*100, n>>20, p.total>>20)
}

func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
