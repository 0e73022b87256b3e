package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// report gathers each row's measurements per server.
type report struct {
	workloads []workload
	names     []string
	values    []map[string][]float64 // per workload: server → rates
	cpu       []map[string][]float64 // per workload: server → rates per CPU-second
	errs      []map[string]error     // per workload: server → first failure
	other     []float64              // per measured phase: other load, in CPUs
}

func newReport(ws []workload, ts []target) *report {
	r := &report{workloads: ws}
	for _, t := range ts {
		r.names = append(r.names, t.name)
	}
	for range ws {
		r.values = append(r.values, map[string][]float64{})
		r.cpu = append(r.cpu, map[string][]float64{})
		r.errs = append(r.errs, map[string]error{})
	}
	return r
}

// add records one measured phase.
func (r *report) add(wi int, name string, res result) {
	w := r.workloads[wi]
	r.values[wi][name] = append(r.values[wi][name], res.rate(w))
	if v, ok := res.cpuRate(w); ok {
		r.cpu[wi][name] = append(r.cpu[wi][name], v)
	}
	if res.otherKnown {
		r.other = append(r.other, res.other)
	}
}

// fail records the first failure of a row on a server; the row is not
// measured on that server any more.
func (r *report) fail(wi int, name string, err error) {
	if r.errs[wi][name] == nil {
		r.errs[wi][name] = err
	}
}

func (r *report) failed(wi int, name string) bool { return r.errs[wi][name] != nil }

func (r *report) anyFailed() bool {
	for _, m := range r.errs {
		if len(m) > 0 {
			return true
		}
	}
	return false
}

// median returns the middle value (the mean of the two middle ones for an
// even count); ok is false for no values.
func median(vs []float64) (m float64, ok bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// formatRate writes a row's figure with its unit.
func formatRate(w workload, v float64) string {
	if w.opsRate() {
		return fmt.Sprintf("%.0f ops/s", v)
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f MiB/s", v)
	}
	return fmt.Sprintf("%.1f MiB/s", v)
}

// print writes the tables as Markdown with padded columns, readable in a
// terminal and ready to paste into a document: throughput, and, when the
// servers' PIDs were given, throughput per second of server CPU.
func (r *report) print(w io.Writer, o *options) {
	fmt.Fprintf(w, "\nS3 throughput: median of %d runs, %s per phase (or %d ops)", o.runs, o.lim.duration, o.lim.maxOps)
	if len(r.names) >= 2 {
		fmt.Fprintf(w, "; ratio = %s / %s (>1: %s ahead)", r.names[0], r.names[1], r.names[0])
	}
	fmt.Fprint(w, "\n\n")
	r.table(w, r.values)
	haveCPU := false
	for _, m := range r.cpu {
		haveCPU = haveCPU || len(m) > 0
	}
	if haveCPU {
		fmt.Fprint(w, "\nThroughput per second of server CPU time (work one fully used core does;\nlittle moved by other load on the machine), median of runs:\n\n")
		r.table(w, r.cpu)
	}
	if med, ok := median(r.other); ok {
		fmt.Fprintf(w, "\nOther processes on this machine used %.2f CPUs during the median phase (most: %.2f).\n",
			med, slices.Max(r.other))
		if med > 0.2 {
			fmt.Fprintln(w, "WARNING: the machine was not quiet; throughput figures are unreliable, the per-CPU-second table less so.")
		}
	}
	for wi, wl := range r.workloads {
		for _, name := range r.names {
			if err := r.errs[wi][name]; err != nil {
				fmt.Fprintf(w, "\n%s on %s failed: %v", wl.label(), name, err)
			}
		}
	}
	fmt.Fprintln(w)
}

// table writes one table of medians from vals (per workload: server →
// figures).
func (r *report) table(w io.Writer, vals []map[string][]float64) {
	header := []string{"workload"}
	header = append(header, r.names...)
	if len(r.names) >= 2 {
		header = append(header, "ratio")
	}
	rows := [][]string{header}
	for wi, wl := range r.workloads {
		row := []string{wl.label()}
		meds := make([]float64, len(r.names))
		oks := make([]bool, len(r.names))
		for ti, name := range r.names {
			switch m, ok := median(vals[wi][name]); {
			case r.errs[wi][name] != nil:
				row = append(row, "FAIL")
			case !ok:
				row = append(row, "-")
			default:
				meds[ti], oks[ti] = m, true
				row = append(row, formatRate(wl, m))
			}
		}
		if len(r.names) >= 2 {
			if oks[0] && oks[1] && meds[1] > 0 {
				row = append(row, fmt.Sprintf("%.2f", meds[0]/meds[1]))
			} else {
				row = append(row, "-")
			}
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(header))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			if i == 0 {
				fmt.Fprintf(&b, " %-*s |", widths[i], c)
			} else {
				fmt.Fprintf(&b, " %*s |", widths[i], c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(rows[0])
	// The separator row: left-aligned names, right-aligned figures.
	var sep strings.Builder
	sep.WriteString("|")
	for i, wd := range widths {
		if i == 0 {
			sep.WriteString(strings.Repeat("-", wd+2) + "|")
		} else {
			sep.WriteString(strings.Repeat("-", wd+1) + ":|")
		}
	}
	fmt.Fprintln(w, sep.String())
	for _, row := range rows[1:] {
		line(row)
	}
}
