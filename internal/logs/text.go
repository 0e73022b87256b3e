package logs

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report as plain-text tables.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	p := func(format string, args ...any) { fmt.Fprintf(ew, format, args...) }
	p("Inputs: %s\n", strings.Join(r.Inputs, ", "))
	formats := make([]string, len(r.Formats))
	for i, f := range r.Formats {
		formats[i] = string(f)
	}
	p("Lines: %d (%d records, %d malformed; formats: %s)\n", r.Lines, r.Records, r.Malformed, orNone(strings.Join(formats, ", ")))
	for _, e := range r.MalformedExamples {
		p("  malformed: %s\n", e)
	}
	if r.Fills > 0 || r.Dropped > 0 {
		p("Fill records: %d; records dropped by the writer: %d\n", r.Fills, r.Dropped)
	}
	if r.Records == 0 {
		p("No records.\n")
		return ew.err
	}
	p("Period: %s to %s (%v), buckets of %v\n", fmtTime(r.From), fmtTime(r.To), r.To.Sub(r.From).Round(time.Millisecond), time.Duration(r.Bucket))
	t := r.Totals
	p("Requests: %d; sent %s", t.Requests, humanBytes(t.BytesSent))
	if t.OriginKnown {
		p("; from origin %s", humanBytes(t.BytesOrigin))
	}
	p("; hit ratio %s (%d of %d lookups); 5xx %d\n", pct(t.HitRatio, t.Lookups), t.Hits, t.Lookups, t.Status5xx)
	if r.Approximate {
		p("Top counts are approximate (more distinct keys than the counters hold): see the error column.\n")
	}

	p("\nPatterns\n")
	if len(r.Patterns) == 0 {
		p("  none detected\n")
	}
	for _, pt := range r.Patterns {
		cs := ""
		if pt.Case != "" {
			cs = " [" + pt.Case + "]"
		}
		p("  %s%s %s\n    %s\n    %s to %s\n", pt.Kind, cs, pt.Subject, pt.Summary, fmtTime(pt.From), fmtTime(pt.To))
		for _, k := range slices.Sorted(maps.Keys(pt.Evidence)) {
			p("    %s: %s\n", k, fmtValue(pt.Evidence[k]))
		}
	}

	p("\nTimeline\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "start\trequests\tsent\torigin\thit ratio\t5xx\t\n")
	for _, b := range r.Timeline {
		origin := "-"
		if t.OriginKnown {
			origin = humanBytes(b.BytesOrigin)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t\n", fmtTime(b.Start), b.Requests, humanBytes(b.BytesSent), origin, pct(b.HitRatio, b.Lookups), b.Status5xx)
	}
	tw.Flush()

	p("\nStatus\n")
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "status\tcount\tshare\t\n")
	for _, s := range r.Status {
		fmt.Fprintf(tw, "%d\t%d\t%s\t\n", s.Status, s.Count, pct(ratio(s.Count, t.Requests), t.Requests))
	}
	tw.Flush()

	topTable(ew, "Top clients", r.TopClients, false)
	topTable(ew, "Top URLs", r.TopURLs, t.OriginKnown)
	topTable(ew, "Top MISS URLs", r.TopMissURLs, t.OriginKnown)

	if len(r.Upstreams) > 0 {
		p("\nUpstreams (origins and parents)\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "addr\tfetches\tfailed\tretried ok\tmean ms\tstatuses\n")
		for _, u := range r.Upstreams {
			var st []string
			for _, s := range u.Statuses {
				st = append(st, fmt.Sprintf("%d:%d", s.Status, s.Count))
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%s\n", u.Addr, u.Attempts, u.Failed, u.RetriedOK, u.MeanMS, strings.Join(st, " "))
		}
		tw.Flush()
	}
	return ew.err
}

func topTable(w io.Writer, title string, rows []TopEntry, origin bool) {
	fmt.Fprintf(w, "\n%s\n", title)
	if len(rows) == 0 {
		fmt.Fprintf(w, "  none\n")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	hdr := "requests\tsent\t"
	if origin {
		hdr += "origin\t"
	}
	fmt.Fprintf(tw, "%smisses\terror\tkey\n", hdr)
	for _, e := range rows {
		fmt.Fprintf(tw, "%d\t%s\t", e.Requests, humanBytes(e.BytesSent))
		if origin {
			fmt.Fprintf(tw, "%s\t", humanBytes(e.BytesOrigin))
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\n", e.Misses, e.ErrorBound, e.Key)
	}
	tw.Flush()
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func pct(f float64, of int64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", f*100)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, ", ")
	case float64:
		return fmt.Sprintf("%g", x)
	}
	return fmt.Sprint(v)
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}
