package vod

import "iter"

// planCuts returns the segment boundaries on the timeline: the first is
// zero, each later one the decode time of a candidate sample (a video
// keyframe, or any frame of the anchor track in a time cut), and the last
// segment runs to end.
//
// Cuts aim at a grid of target-long steps from zero, as ffmpeg's HLS
// muxer does, so segment lengths average the target even when candidates
// fall between grid points. A cut is made at the first candidate at or
// past the next grid point, provided the segment it closes lasts at least
// half the target and the segment it opens at least a quarter (no
// sliver of a last segment). Candidates must come in ascending order.
func planCuts(candidates iter.Seq[int64], zero, end, target int64) []int64 {
	cuts := []int64{zero}
	if target <= 0 {
		return cuts
	}
	last := zero
	grid := zero + target
	for c := range candidates {
		if c < grid || c-last < target/2 || end-c < target/4 {
			continue
		}
		cuts = append(cuts, c)
		last = c
		grid = zero + ((c-zero)/target+1)*target
	}
	return cuts
}

// candidates yields the decode times of t's samples at which a segment
// may start: its keyframes, or every sample.
func (t *track) candidates(keyframesOnly bool) iter.Seq[int64] {
	return func(yield func(int64) bool) {
		for i := range t.samples {
			if keyframesOnly && !t.samples[i].sync {
				continue
			}
			if !yield(t.dtsAt(i)) {
				return
			}
		}
	}
}
