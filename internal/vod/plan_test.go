package vod

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanCuts(t *testing.T) {
	const s = clock // one second
	tests := []struct {
		name       string
		candidates []int64
		zero, end  int64
		target     int64
		want       []int64
	}{
		{"keyframes every 2s, target 6s", seq(0, 30*s, 2*s), 0, 30 * s, 6 * s, []int64{0, 6 * s, 12 * s, 18 * s, 24 * s}},
		{"keyframes every 2.5s average the target", seq(0, 30*s, 5*s/2), 0, 30 * s, 6 * s, []int64{0, 15 * s / 2, 25 * s / 2, 20 * s, 25 * s}},
		{"no candidate: one segment", nil, 0, 30 * s, 6 * s, []int64{0}},
		{"candidates only at the start", []int64{0}, 0, 30 * s, 6 * s, []int64{0}},
		{"no sliver of a last segment", seq(0, 12*s+s/10, s/10), 0, 12*s + s/10, 6 * s, []int64{0, 6 * s}},
		{"no segment shorter than half the target", []int64{0, 11 * s, 11*s + s, 20 * s}, 0, 30 * s, 6 * s, []int64{0, 11 * s, 20 * s}},
		{"timeline not at zero", seq(10*s, 40*s, s), 10 * s, 40 * s, 6 * s, []int64{10 * s, 16 * s, 22 * s, 28 * s, 34 * s}},
		{"decode times before zero are skipped", append([]int64{-s / 10}, seq(0, 13*s, s)...), 0, 14 * s, 6 * s, []int64{0, 6 * s, 12 * s}},
		{"a long gap does not bunch cuts", []int64{0, 6 * s, 30 * s, 31 * s, 36 * s}, 0, 40 * s, 6 * s, []int64{0, 6 * s, 30 * s, 36 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := planCuts(slices.Values(tt.candidates), tt.zero, tt.end, tt.target)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("planCuts (-want +got):\n%s", diff)
			}
		})
	}
}

// seq returns from, from+step, ... below to.
func seq(from, to, step int64) []int64 {
	var out []int64
	for v := from; v < to; v += step {
		out = append(out, v)
	}
	return out
}

func TestSegmentOf(t *testing.T) {
	cuts := []int64{0, 100, 200}
	for _, tt := range []struct{ dts, want int64 }{{-5, 0}, {0, 0}, {99, 0}, {100, 1}, {199, 1}, {200, 2}, {1e9, 2}} {
		if got := segmentOf(cuts, tt.dts); int64(got) != tt.want {
			t.Errorf("segmentOf(%d) = %d, want %d", tt.dts, got, tt.want)
		}
	}
}

func TestToClock(t *testing.T) {
	for _, tt := range []struct {
		v    int64
		ts   uint32
		want int64
	}{{0, 1000, 0}, {1000, 1000, 90000}, {1024, 44100, 2089}, {-1024, 12800, -7200}, {-1, 1000, -90}, {1 << 50, 90000, 1 << 50}} {
		if got := toClock(tt.v, tt.ts); got != tt.want {
			t.Errorf("toClock(%d, %d) = %d, want %d", tt.v, tt.ts, got, tt.want)
		}
	}
}
