package logs

import (
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// WriteHTML writes the report as one self-contained HTML page: charts as
// inline SVG, no scripts, no external resources.
func (r *Report) WriteHTML(w io.Writer) error {
	return pageTmpl.Execute(w, r)
}

// series is one line of a chart.
type series struct {
	name, color string
	values      []float64
}

const (
	chartW, chartH = 860.0, 220.0
	padL, padR     = 70.0, 20.0
	padT, padB     = 20.0, 30.0
)

// lineChart draws the series over the timeline as an SVG line chart.
func lineChart(id string, starts []time.Time, yMax float64, yFmt func(float64) string, ss ...series) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" data-chart="%s" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" xmlns="http://www.w3.org/2000/svg">`, id, chartW, chartH, chartW, chartH)
	plotW, plotH := chartW-padL-padR, chartH-padT-padB
	if yMax <= 0 {
		for _, s := range ss {
			for _, v := range s.values {
				yMax = max(yMax, v)
			}
		}
		if yMax <= 0 {
			yMax = 1
		}
	}
	// Axes and grid: four horizontal lines labelled with their values.
	for i := 0; i <= 4; i++ {
		y := padT + plotH*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`, padL, y, padL+plotW, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#555">%s</text>`, padL-6, y+4, template.HTMLEscapeString(yFmt(yMax*float64(4-i)/4)))
	}
	n := len(starts)
	x := func(i int) float64 {
		if n <= 1 {
			return padL + plotW/2
		}
		return padL + plotW*float64(i)/float64(n-1)
	}
	if n > 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#555">%s</text>`, padL, chartH-8, fmtTime(starts[0]))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#555">%s</text>`, padL+plotW, chartH-8, fmtTime(starts[n-1]))
	}
	for k, s := range ss {
		var pts strings.Builder
		for i, v := range s.values {
			y := padT + plotH*(1-min(v/yMax, 1))
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y)
		}
		fmt.Fprintf(&b, `<polyline class="series" points="%s" fill="none" stroke="%s" stroke-width="1.5"><title>%s</title></polyline>`, strings.TrimSpace(pts.String()), s.color, template.HTMLEscapeString(s.name))
		// Legend.
		lx := padL + 10 + float64(k)*160
		fmt.Fprintf(&b, `<rect x="%.1f" y="4" width="10" height="10" fill="%s"/><text x="%.1f" y="13" font-size="11">%s</text>`, lx, s.color, lx+14, template.HTMLEscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// barChart draws labelled horizontal bars.
func barChart(id string, labels []string, values []float64, color string) template.HTML {
	var b strings.Builder
	rowH := 20.0
	h := padT + rowH*float64(len(labels)) + 10
	fmt.Fprintf(&b, `<svg class="chart" data-chart="%s" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" xmlns="http://www.w3.org/2000/svg">`, id, chartW, h, chartW, h)
	vMax := 0.0
	for _, v := range values {
		vMax = max(vMax, v)
	}
	if vMax <= 0 {
		vMax = 1
	}
	plotW := chartW - padL - padR - 80
	for i, l := range labels {
		y := padT + rowH*float64(i)
		w := plotW * values[i] / vMax
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="end">%s</text>`, padL-6, y+13, template.HTMLEscapeString(l))
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, padL, y+2, max(w, 1), rowH-6, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#333">%.0f</text>`, padL+max(w, 1)+6, y+13, values[i])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// view is what the page template reads.
type view struct {
	*Report
}

func (v view) starts() []time.Time {
	out := make([]time.Time, len(v.Timeline))
	for i, b := range v.Timeline {
		out[i] = b.Start
	}
	return out
}

func (v view) RequestsChart() template.HTML {
	vals := make([]float64, len(v.Timeline))
	for i, b := range v.Timeline {
		vals[i] = float64(b.Requests)
	}
	return lineChart("requests", v.starts(), 0, func(f float64) string { return fmt.Sprintf("%.0f", f) }, series{"requests per " + time.Duration(v.Bucket).String(), "#1f77b4", vals})
}

func (v view) BytesChart() template.HTML {
	sent := make([]float64, len(v.Timeline))
	origin := make([]float64, len(v.Timeline))
	for i, b := range v.Timeline {
		sent[i], origin[i] = float64(b.BytesSent), float64(b.BytesOrigin)
	}
	ss := []series{{"bytes to clients", "#2ca02c", sent}}
	if v.Totals.OriginKnown {
		ss = append(ss, series{"bytes from origin", "#d62728", origin})
	}
	return lineChart("bytes", v.starts(), 0, func(f float64) string { return humanBytes(int64(f)) }, ss...)
}

func (v view) HitRatioChart() template.HTML {
	vals := make([]float64, len(v.Timeline))
	for i, b := range v.Timeline {
		vals[i] = b.HitRatio * 100
	}
	return lineChart("hit-ratio", v.starts(), 100, func(f float64) string { return fmt.Sprintf("%.0f%%", f) }, series{"hit ratio", "#9467bd", vals})
}

func (v view) StatusChart() template.HTML {
	labels := make([]string, len(v.Status))
	vals := make([]float64, len(v.Status))
	for i, s := range v.Status {
		labels[i], vals[i] = fmt.Sprint(s.Status), float64(s.Count)
	}
	return barChart("status", labels, vals, "#ff7f0e")
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"time":  fmtTime,
	"bytes": humanBytes,
	"pct":   pct,
	"dur":   func(d Duration) string { return time.Duration(d).String() },
	"keys":  func(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) },
	"value": fmtValue,
	"view":  func(r *Report) view { return view{r} },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>strata logs analyze</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:980px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
td.k,th.k{text-align:left;word-break:break-all}.pattern{border-left:4px solid #d62728;padding:4px 10px;margin:10px 0;background:#fff6f6}
.ev{font-size:12px;color:#444}
</style></head><body>
<h1>Access log report</h1>
<p>{{.Records}} records from {{len .Inputs}} file(s) ({{.Malformed}} malformed lines), {{time .From}} to {{time .To}}, buckets of {{dur .Bucket}}.</p>
<p>Requests {{.Totals.Requests}}; sent {{bytes .Totals.BytesSent}}{{if .Totals.OriginKnown}}; from origin {{bytes .Totals.BytesOrigin}}{{end}}; hit ratio {{pct .Totals.HitRatio .Totals.Lookups}}; 5xx {{.Totals.Status5xx}}.</p>
<h2>Patterns</h2>
{{range .Patterns}}<div class="pattern"><b>{{.Kind}}</b>{{if .Case}} [{{.Case}}]{{end}} <code>{{.Subject}}</code><br>{{.Summary}}<br><span class="ev">{{time .From}} to {{time .To}}{{$e := .Evidence}}{{range keys $e}}; {{.}}: {{value (index $e .)}}{{end}}</span></div>
{{else}}<p>None detected.</p>{{end}}
{{with view .}}
<h2>Requests</h2>{{.RequestsChart}}
<h2>Bytes</h2>{{.BytesChart}}
<h2>Hit ratio</h2>{{.HitRatioChart}}
<h2>Status mix</h2>{{.StatusChart}}
{{end}}
{{define "top"}}<table><tr><th>requests</th><th>sent</th><th>origin</th><th>misses</th><th>error</th><th class="k">key</th></tr>
{{range .}}<tr><td>{{.Requests}}</td><td>{{bytes .BytesSent}}</td><td>{{bytes .BytesOrigin}}</td><td>{{.Misses}}</td><td>{{.ErrorBound}}</td><td class="k">{{.Key}}</td></tr>
{{end}}</table>{{end}}
<h2>Top clients</h2>{{template "top" .TopClients}}
<h2>Top URLs</h2>{{template "top" .TopURLs}}
<h2>Top MISS URLs</h2>{{template "top" .TopMissURLs}}
{{if .Upstreams}}<h2>Upstreams</h2><table><tr><th class="k">addr</th><th>fetches</th><th>failed</th><th>retried ok</th><th>mean ms</th></tr>
{{range .Upstreams}}<tr><td class="k">{{.Addr}}</td><td>{{.Attempts}}</td><td>{{.Failed}}</td><td>{{.RetriedOK}}</td><td>{{.MeanMS}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))
