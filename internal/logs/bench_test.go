package logs

import (
	"bytes"
	"testing"
)

// BenchmarkAnalyze measures parsing and analysis per line; bench/logs.sh
// measures the command on a 1 GiB file.
func BenchmarkAnalyze(b *testing.B) {
	for _, f := range []Format{FormatStrata, FormatNginx} {
		b.Run(string(f), func(b *testing.B) {
			var log bytes.Buffer
			if _, err := Generate(&log, GenOptions{Format: f, Seed: 1, NoisePerHour: 50000}); err != nil {
				b.Fatal(err)
			}
			lines := bytes.Count(log.Bytes(), []byte{'\n'})
			b.SetBytes(int64(log.Len()))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				a := NewAnalyzer(Options{})
				if err := a.Read("bench", bytes.NewReader(log.Bytes()), nil); err != nil {
					b.Fatal(err)
				}
				a.Report()
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
