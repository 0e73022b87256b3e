package vod

import (
	"fmt"
	"math"
	"time"
)

// Severity of a finding.
type Severity string

// Severities: an error stops packaging; a warning stops it only in strict
// mode; info never does.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding codes.
const (
	FindingSparseTrack      = "sparse_track"      // too few samples to interleave or segment on (C28)
	FindingNoKeyframe       = "no_keyframe"       // video without sync samples
	FindingLongGOP          = "long_gop"          // keyframes further apart than the segments
	FindingPause            = "pause"             // a track stops for a while mid-file
	FindingLateStart        = "late_start"        // a track begins after the other
	FindingEarlyEnd         = "early_end"         // a track ends before the other
	FindingDurationMismatch = "duration_mismatch" // the header's duration is not the samples'
	FindingTruncatedFile    = "truncated_file"    // samples lie beyond the end of the file
	FindingUnsupportedCodec = "unsupported_codec" // HLS/MPEG-TS here cannot carry it
	FindingNoMedia          = "no_media"          // no audio or video samples
	FindingIgnoredTrack     = "ignored_track"     // a track that is not packaged
	FindingEditList         = "edit_list"         // edits beyond the first are not applied
	FindingCut              = "cut"               // the requested cut mode is impossible
	FindingTimestampsBack   = "timestamps_back"   // decode times that go backwards
)

// Thresholds of findings.
const (
	lateStartLimit = 500 * time.Millisecond
	earlyEndLimit  = 2 * time.Second
	audioPause     = time.Second
	videoPause     = 3 * time.Second
)

// Finding is one thing the analysis noticed, in plain words with numbers.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Track is the track's ID, 0 for the whole file.
	Track   uint32 `json:"track,omitempty"`
	Message string `json:"message"`
}

// TrackReport describes one track of the input. Times are in seconds on
// the movie's presentation timeline.
type TrackReport struct {
	ID        uint32 `json:"id"`
	Kind      Kind   `json:"kind"`
	Codec     string `json:"codec"`
	Supported bool   `json:"supported"`
	// Packaged: the track goes into the HLS output.
	Packaged bool    `json:"packaged"`
	Samples  int     `json:"samples"`
	Bytes    int64   `json:"bytes"`
	Start    float64 `json:"start_seconds"`
	End      float64 `json:"end_seconds"`
	Duration float64 `json:"duration_seconds"`
	// Interval is the average time per sample: duration / samples.
	Interval float64 `json:"avg_interval_seconds"`
	// MaxGap is the largest step between two samples' decode times, and
	// MaxGapAt where it begins.
	MaxGap   float64 `json:"max_gap_seconds"`
	MaxGapAt float64 `json:"max_gap_at_seconds"`
	// Video.
	FrameRate           float64 `json:"frame_rate,omitempty"`
	Width               int     `json:"width,omitempty"`
	Height              int     `json:"height,omitempty"`
	Keyframes           int     `json:"keyframes,omitempty"`
	KeyframeInterval    float64 `json:"avg_keyframe_interval_seconds,omitempty"`
	MaxKeyframeInterval float64 `json:"max_keyframe_interval_seconds,omitempty"`
	// Audio.
	SampleRate int `json:"sample_rate,omitempty"`
	Channels   int `json:"channels,omitempty"`
}

// Segmenting says how the input is (or would be) cut into segments.
type Segmenting struct {
	// Mode is "keyframe" (each segment starts on a video keyframe) or
	// "time" (cuts on the anchor track's samples at the target times).
	Mode   string  `json:"mode"`
	Anchor uint32  `json:"anchor_track"`
	Target float64 `json:"target_seconds"`
	Reason string  `json:"reason"`
}

// Report is the analysis of an input.
type Report struct {
	Input      string `json:"input,omitempty"`
	Size       int64  `json:"size_bytes"`
	Fragmented bool   `json:"fragmented"`
	// Duration is the presentation's length: from the first packaged
	// sample's start to the last one's end.
	Duration float64 `json:"duration_seconds"`
	// Declared is what the movie header says, 0 when it does not say.
	Declared   float64       `json:"declared_duration_seconds,omitempty"`
	Tracks     []TrackReport `json:"tracks"`
	Segmenting *Segmenting   `json:"segmenting,omitempty"`
	Findings   []Finding     `json:"findings"`
}

// analysis is a report with what the packager needs to act on it.
type analysis struct {
	report       *Report
	video, audio *track
	zero, end    int64 // the presentation's span on the timeline
	keyframeCut  bool
	anchor       *track
}

// add records a finding.
func (a *analysis) add(sev Severity, code string, trk uint32, format string, args ...any) {
	a.report.Findings = append(a.report.Findings, Finding{Code: code, Severity: sev, Track: trk, Message: fmt.Sprintf(format, args...)})
}

// Cut modes of Packager.Cut.
const (
	CutAuto     = "auto"
	CutKeyframe = "keyframe"
	CutTime     = "time"
)

// analyze describes m and decides how to segment it.
func analyze(m *movie, size int64, target time.Duration, cut string) *analysis {
	a := &analysis{report: &Report{Size: size, Fragmented: m.fragmented, Findings: []Finding{}}}
	if m.declared > 0 {
		a.report.Declared = seconds(toClock(int64(m.declared), m.timescale))
	}
	// The first non-empty video and audio tracks are packaged, as
	// nginx-vod and MediaConvert do by default.
	for _, t := range m.tracks {
		switch {
		case len(t.samples) == 0:
			a.add(SeverityInfo, FindingIgnoredTrack, t.id, "%s track %d has no samples; it is ignored", t.kind, t.id)
		case t.kind == KindVideo && a.video == nil:
			a.video = t
		case t.kind == KindAudio && a.audio == nil:
			a.audio = t
		default:
			a.add(SeverityInfo, FindingIgnoredTrack, t.id, "%s track %d (%s) is not packaged: only the first video and the first audio track are", t.kind, t.id, codecName(t))
		}
	}
	used := a.used()
	if len(used) == 0 {
		a.add(SeverityError, FindingNoMedia, 0, "the file has no audio or video samples")
	}
	a.zero, a.end = math.MaxInt64, math.MinInt64
	for _, t := range used {
		s, e := t.presented()
		a.zero, a.end = min(a.zero, s), max(a.end, e)
	}
	if len(used) == 0 {
		a.zero, a.end = 0, 0
	}
	a.end = max(a.end, a.zero)
	a.report.Duration = seconds(a.end - a.zero)
	for _, t := range m.tracks {
		a.report.Tracks = append(a.report.Tracks, a.describe(t))
	}
	for _, t := range used {
		a.checkTrack(t, size, target)
	}
	a.checkDuration(target)
	if !a.refused(false) {
		a.chooseCut(target, cut)
	}
	return a
}

// used returns the packaged tracks, video first.
func (a *analysis) used() []*track {
	var out []*track
	for _, t := range []*track{a.video, a.audio} {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}

// codecName names a track's codec for messages.
func codecName(t *track) string {
	if t.codec == "" {
		return "no codec"
	}
	return t.codec
}

// describe measures one track.
func (a *analysis) describe(t *track) TrackReport {
	r := TrackReport{ID: t.id, Kind: t.kind, Codec: codecName(t), Supported: t.supported(), Packaged: t == a.video || t == a.audio, Samples: len(t.samples)}
	if t.kind == KindVideo {
		r.Width, r.Height = t.width, t.height
	}
	if t.kind == KindAudio {
		r.SampleRate, r.Channels = t.sampleRate, t.channels
	}
	if len(t.samples) == 0 {
		return r
	}
	start, end := t.presented()
	r.Start, r.End, r.Duration = seconds(start-a.zeroOr0()), seconds(end-a.zeroOr0()), seconds(end-start)
	for i := range t.samples {
		r.Bytes += int64(t.samples[i].size)
	}
	r.Interval = math.Round(r.Duration/float64(len(t.samples))*1e4) / 1e4
	gap, at := t.maxGap()
	r.MaxGap, r.MaxGapAt = seconds(gap), seconds(at-a.zeroOr0())
	if t.kind == KindVideo {
		if r.Duration > 0 {
			r.FrameRate = math.Round(float64(len(t.samples))/r.Duration*1000) / 1000
		}
		keys, maxKey := t.keyframes()
		r.Keyframes = keys
		if keys > 0 {
			r.KeyframeInterval = math.Round(r.Duration/float64(keys)*1000) / 1000
			r.MaxKeyframeInterval = seconds(maxKey)
		}
	}
	return r
}

// zeroOr0 is the timeline's zero once known.
func (a *analysis) zeroOr0() int64 {
	if a.zero == math.MaxInt64 {
		return 0
	}
	return a.zero
}

// maxGap is the largest step between consecutive decode times and where
// it starts.
func (t *track) maxGap() (gap, at int64) {
	for i := 1; i < len(t.samples); i++ {
		if g := t.dtsAt(i) - t.dtsAt(i-1); g > gap {
			gap, at = g, t.dtsAt(i-1)
		}
	}
	return gap, at
}

// keyframes counts sync samples and the longest stretch without one,
// counting from the track's start and to its end.
func (t *track) keyframes() (n int, longest int64) {
	start, end := t.presented()
	last := start
	for i := range t.samples {
		if !t.samples[i].sync {
			continue
		}
		n++
		longest = max(longest, t.dtsAt(i)-last)
		last = t.dtsAt(i)
	}
	return n, max(longest, end-last)
}

// checkTrack adds the findings about one packaged track.
func (a *analysis) checkTrack(t *track, size int64, target time.Duration) {
	if !t.supported() {
		a.add(SeverityError, FindingUnsupportedCodec, t.id, "%s track %d is %s, which Strata's HLS packager cannot carry (it takes H.264 or H.265 video and AAC or MP3 audio): re-encode it, e.g. ffmpeg -i in.mp4 -c:v libx264 -c:a aac out.mp4, or drop the track", t.kind, t.id, codecName(t))
	}
	if t.codec == CodecMP3 && t.sampleRate > 0 && t.sampleRate < 32000 {
		a.add(SeverityError, FindingUnsupportedCodec, t.id, "audio track %d is MPEG-2 audio (MP3 at %d Hz), which the MPEG-TS muxer cannot carry: re-encode to AAC (ffmpeg -c:a aac)", t.id, t.sampleRate)
	}
	var beyond, first int = 0, -1
	for i := range t.samples {
		if s := t.samples[i]; s.off+int64(s.size) > size {
			beyond++
			if first < 0 {
				first = i
			}
		}
	}
	if beyond > 0 {
		a.add(SeverityError, FindingTruncatedFile, t.id, "%d of the %d samples of %s track %d lie beyond the end of the %d-byte file, from %.1f s on: the file is truncated (an interrupted upload?)", beyond, len(t.samples), t.kind, t.id, size, seconds(t.dtsAt(first)-a.zero))
	}
	back, firstBack := 0, -1
	for i := 1; i < len(t.samples); i++ {
		if t.samples[i].dts < t.samples[i-1].dts {
			back++
			if firstBack < 0 {
				firstBack = i
			}
		}
	}
	if back > 0 {
		a.add(SeverityError, FindingTimestampsBack, t.id, "%s track %d's decode times go back %d times, first at sample %d (%.1f s after %.1f s): the fragments are out of order; remux the file (ffmpeg -i in.mp4 -c copy out.mp4)", t.kind, t.id, back, firstBack, seconds(t.dtsAt(firstBack)-a.zero), seconds(t.dtsAt(firstBack-1)-a.zero))
		return
	}
	start, end := t.presented()
	if late := start - a.zero; late > toClock(lateStartLimit.Milliseconds(), 1000) {
		a.add(SeverityWarning, FindingLateStart, t.id, "%s track %d starts %.1f s after the file does; its timestamps are kept, so it plays from %.1f s", t.kind, t.id, seconds(late), seconds(late))
	}
	if early := a.end - end; early > toClock(earlyEndLimit.Milliseconds(), 1000) {
		a.add(SeverityWarning, FindingEarlyEnd, t.id, "%s track %d ends %.1f s before the file does (at %.1f s of %.1f s)", t.kind, t.id, seconds(early), seconds(end-a.zero), seconds(a.end-a.zero))
	}
	if t.edits > 1 {
		a.add(SeverityInfo, FindingEditList, t.id, "%s track %d has an edit list of %d edits; only the first is applied", t.kind, t.id, t.edits)
	}
	n := len(t.samples)
	dur := end - start
	tgt := toClock(target.Milliseconds(), 1000)
	if t.kind == KindVideo && (n < 2 || dur/int64(n) > tgt) {
		a.sparseVideo(t, dur)
		return
	}
	if t.kind == KindAudio && n > 0 && dur/int64(n) > clock {
		a.add(SeverityWarning, FindingSparseTrack, t.id, "audio track %d has %d frames over %.1f s (one every %.1f s): too sparse to be continuous sound", t.id, n, seconds(dur), seconds(dur/int64(n)))
		return
	}
	pause := toClock(audioPause.Milliseconds(), 1000)
	if t.kind == KindVideo {
		pause = toClock(videoPause.Milliseconds(), 1000)
	}
	if gap, at := t.maxGap(); n > 1 && gap > pause && gap > 10*dur/int64(n) {
		a.add(SeverityWarning, FindingPause, t.id, "%s track %d pauses for %.1f s at %.1f s (samples are %.3f s apart on average); timestamps are kept, so players show the gap", t.kind, t.id, seconds(gap), seconds(at-a.zero), seconds(dur/int64(n)))
	}
	if t.kind == KindVideo {
		keys, longest := t.keyframes()
		switch {
		case keys == 0:
			a.add(SeverityWarning, FindingNoKeyframe, t.id, "video track %d has %d frames and no keyframe (no sync sample): segments cannot start on keyframes, and players may not decode it", t.id, n)
		case longest > 2*tgt:
			a.add(SeverityWarning, FindingLongGOP, t.id, "video track %d has keyframes up to %.1f s apart (%d keyframes over %.1f s), more than twice the %.0f s segment target: segments are cut by time and not all start on a keyframe, so seeking may show a broken picture until the next one; re-encode with a keyframe every %.0f s (ffmpeg -force_key_frames 'expr:gte(t,n_forced*%.0f)')", t.id, seconds(longest), keys, seconds(dur), target.Seconds(), target.Seconds(), target.Seconds())
		case longest > tgt+tgt/10:
			a.add(SeverityInfo, FindingLongGOP, t.id, "video track %d has keyframes up to %.1f s apart: segments, which start on keyframes, last up to that instead of %.0f s", t.id, seconds(longest), target.Seconds())
		}
	}
}

// sparseVideo reports a video track with fewer frames than segments: the
// shape of case C28.
func (a *analysis) sparseVideo(t *track, dur int64) {
	n := len(t.samples)
	every := ""
	if n > 0 {
		every = fmt.Sprintf(" (one every %.1f s)", seconds(dur/int64(n)))
	}
	against, then := "", "; segments follow its frames and last as long as the gaps between them"
	if a.audio != nil {
		against = fmt.Sprintf(" against %d audio frames", len(a.audio.samples))
		then = fmt.Sprintf("; segmenting by time on audio track %d", a.audio.id)
	}
	a.add(SeverityWarning, FindingSparseTrack, t.id, "video track %d has %d frames over %.1f s%s%s: too sparse to interleave or to segment on keyframes%s", t.id, n, seconds(dur), every, against, then)
}

// checkDuration compares the header's duration with the samples'.
func (a *analysis) checkDuration(target time.Duration) {
	r := a.report
	if r.Declared == 0 || r.Duration == 0 {
		return
	}
	if diff := math.Abs(r.Declared - r.Duration); diff > max(target.Seconds(), 1) {
		a.add(SeverityWarning, FindingDurationMismatch, 0, "the movie header says %.1f s but the samples span %.1f s; the playlist follows the samples", r.Declared, r.Duration)
	}
}

// refused says whether the findings stop packaging.
func (a *analysis) refused(strict bool) bool {
	return len(a.report.Blocking(strict)) > 0
}

// chooseCut decides where segments are cut: on video keyframes when the
// video has frames and keyframes at least every two targets; else by time
// on the audio's frames; else by time on the video's frames.
func (a *analysis) chooseCut(target time.Duration, cut string) {
	seg := &Segmenting{Target: target.Seconds()}
	a.report.Segmenting = seg
	tgt := toClock(target.Milliseconds(), 1000)
	keyOK, why := false, ""
	if v := a.video; v != nil {
		n := len(v.samples)
		start, end := v.presented()
		keys, longest := v.keyframes()
		switch {
		case n < 2 || (end-start)/int64(n) > tgt:
			why = "video is too sparse to segment on keyframes"
		case keys == 0:
			why = "video has no keyframes"
		case longest > 2*tgt:
			why = fmt.Sprintf("video keyframes are up to %.1f s apart", seconds(longest))
		default:
			keyOK = true
		}
	}
	switch cut {
	case CutKeyframe:
		if !keyOK {
			if a.video == nil {
				why = "the file has no video"
			}
			a.add(SeverityError, FindingCut, 0, "cannot cut on keyframes: %s; use the time or auto cut", why)
			a.report.Segmenting = nil
			return
		}
	case CutTime:
		keyOK, why = false, "time cut requested"
	default:
		if keyOK {
			why = "video has keyframes at least every two targets"
		}
	}
	a.keyframeCut = keyOK
	switch {
	case keyOK:
		a.anchor, seg.Mode = a.video, CutKeyframe
	case a.audio != nil:
		a.anchor, seg.Mode = a.audio, CutTime
		if a.video == nil {
			why = "audio only"
		}
	default:
		a.anchor, seg.Mode = a.video, CutTime
	}
	seg.Anchor, seg.Reason = a.anchor.id, why
}
