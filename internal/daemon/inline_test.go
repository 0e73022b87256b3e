package daemon

import (
	"testing"

	"github.com/strata-cdn/strata/internal/config"
)

// TestInlineMax: s3.inline_max 0 turns inlining off (the store reads 0 as
// its default), any other size is passed on.
func TestInlineMax(t *testing.T) {
	for in, want := range map[config.ByteSize]int64{0: -1, 4 * config.KiB: 4096, 128 * config.KiB: 131072} {
		if got := inlineMax(in); got != want {
			t.Errorf("inlineMax(%d) = %d, want %d", in, got, want)
		}
	}
}
