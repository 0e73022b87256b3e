package daemon

import (
	"testing"

	"github.com/strata-cdn/strata/internal/config"
)

// edge.cache.background_fill reaches the edge with its meaning kept: 0 in
// the file stops a fetch with its last client (C09), which the Handler
// spells as a negative bound because its own zero means "default".
func TestBackgroundFill_C09(t *testing.T) {
	for _, tc := range []struct {
		in   config.ByteSize
		want int64
	}{{0, -1}, {config.MiB, 1 << 20}, {128 * config.MiB, 128 << 20}} {
		if got := backgroundFill(tc.in); got != tc.want {
			t.Errorf("backgroundFill(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
