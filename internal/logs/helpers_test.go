package logs

import (
	"compress/gzip"
	"io"
	"math/rand/v2"
)

func newGzip(w io.Writer) *gzip.Writer { return gzip.NewWriter(w) }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }
