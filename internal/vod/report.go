package vod

import (
	"fmt"
	"strings"
)

// Text is the report in plain words, one line per track and finding.
func (r *Report) Text() string {
	var b strings.Builder
	kind := "progressive MP4"
	if r.Fragmented {
		kind = "fragmented MP4"
	}
	name := ""
	if r.Input != "" {
		name = r.Input + ": "
	}
	fmt.Fprintf(&b, "%s%s, %s, %.1f s", name, kind, byteSize(r.Size), r.Duration)
	if r.Declared > 0 {
		fmt.Fprintf(&b, " (the header says %.1f s)", r.Declared)
	}
	b.WriteString("\n")
	for _, t := range r.Tracks {
		b.WriteString("  " + t.text() + "\n")
	}
	if s := r.Segmenting; s != nil {
		how := "on video keyframes"
		if s.Mode == CutTime {
			how = fmt.Sprintf("by time on track %d's samples", s.Anchor)
		}
		fmt.Fprintf(&b, "Segmenting %s, target %g s: %s.\n", how, s.Target, s.Reason)
	}
	if len(r.Findings) == 0 {
		b.WriteString("No findings.\n")
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s %s: %s\n", strings.ToUpper(string(f.Severity)), f.Code, f.Message)
	}
	return b.String()
}

// text describes one track on one line.
func (t TrackReport) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "track %d %s %s", t.ID, t.Kind, t.Codec)
	if t.Width > 0 {
		fmt.Fprintf(&b, " %dx%d", t.Width, t.Height)
	}
	if t.SampleRate > 0 {
		fmt.Fprintf(&b, " %d Hz", t.SampleRate)
	}
	if t.Channels > 0 {
		fmt.Fprintf(&b, " %d ch", t.Channels)
	}
	if !t.Packaged {
		b.WriteString(" (not packaged)")
	}
	unit := "samples"
	switch t.Kind {
	case KindVideo, KindAudio:
		unit = "frames"
	}
	fmt.Fprintf(&b, ": %d %s over %.1f s from %.1f s, one every %.3f s", t.Samples, unit, t.Duration, t.Start, t.Interval)
	if t.FrameRate > 0 {
		fmt.Fprintf(&b, " (%.3g fps)", t.FrameRate)
	}
	if t.Kind == KindVideo {
		fmt.Fprintf(&b, "; %d keyframes", t.Keyframes)
		if t.Keyframes > 0 {
			fmt.Fprintf(&b, ", up to %.1f s apart", t.MaxKeyframeInterval)
		}
	}
	if t.Samples > 1 {
		// A gap among AAC priming frames starts just before 0: no "-0.0".
		fmt.Fprintf(&b, "; largest gap %.3f s at %.1f s", t.MaxGap, max(t.MaxGapAt, 0))
	}
	return b.String()
}

// byteSize formats a size for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Blocking returns the findings that stop packaging: errors, and warnings
// too when strict.
func (r *Report) Blocking(strict bool) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity == SeverityError || strict && f.Severity == SeverityWarning {
			out = append(out, f)
		}
	}
	return out
}

// refusal is the error for blocking findings: ErrRefused with each
// finding's message.
func refusal(fs []Finding, strict bool) error {
	msgs := make([]string, len(fs))
	for i, f := range fs {
		msgs[i] = f.Code + ": " + f.Message
	}
	why := ""
	if strict {
		why = " (strict)"
	}
	return fmt.Errorf("%w%s: %s", ErrRefused, why, strings.Join(msgs, "; "))
}
