package vod

import "math"

// clock is the rate of the timeline every track is put on: MPEG-TS's
// 90 kHz clock (ISO/IEC 13818-1 §2.4.2.3), so timeline values are the
// output's timestamps less a constant.
const clock = 90000

// toClock converts v, in units of 1/timescale s (negative allowed), to the
// timeline clock, rounding down. Absolute times are converted, never
// deltas, so rounding does not accumulate.
func toClock(v int64, timescale uint32) int64 {
	ts := int64(timescale)
	q, r := v/ts, v%ts
	if r < 0 {
		q--
		r += ts
	}
	return q*clock + r*clock/ts
}

// dtsAt is sample i's decode time on the timeline.
func (t *track) dtsAt(i int) int64 {
	return toClock(t.samples[i].dts+t.shift, t.timescale)
}

// ptsAt is sample i's presentation time on the timeline.
func (t *track) ptsAt(i int) int64 {
	s := &t.samples[i]
	return toClock(s.dts+int64(s.cto)+t.shift, t.timescale)
}

// endAt is when sample i stops being presented, on the timeline.
func (t *track) endAt(i int) int64 {
	s := &t.samples[i]
	return toClock(s.dts+int64(s.cto)+int64(s.dur)+t.shift, t.timescale)
}

// span is when a track's presentation starts and ends on the timeline.
func (t *track) span() (start, end int64) {
	if len(t.samples) == 0 {
		return 0, 0
	}
	start, end = math.MaxInt64, math.MinInt64
	for i := range t.samples {
		start = min(start, t.ptsAt(i))
		end = max(end, t.endAt(i))
	}
	return start, end
}

// seconds converts a timeline duration to seconds, to the millisecond as
// reports give them.
func seconds(c int64) float64 {
	return math.Round(float64(c)/clock*1000) / 1000
}

// presented is the span of the track that is presented: with an edit list,
// presentation starts at the movie's time 0 (ISO/IEC 14496-12 §8.6.6), so
// samples before it (AAC priming, B-frame delay) are decoded but not
// shown, and do not lengthen the file.
func (t *track) presented() (start, end int64) {
	start, end = t.span()
	if t.edits > 0 && start < 0 {
		start = min(0, end)
	}
	return start, end
}
