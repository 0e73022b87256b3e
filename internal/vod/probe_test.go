package vod

import (
	"encoding/json"
	"strconv"
	"testing"
)

// parseProbe reads ffprobe's JSON output.
func parseProbe(t *testing.T, out []byte) (float64, map[string]int) {
	t.Helper()
	var p struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecType string `json:"codec_type"`
			Packets   string `json:"nb_read_packets"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out)
	}
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	n := map[string]int{}
	for _, s := range p.Streams {
		v, _ := strconv.Atoi(s.Packets)
		n[s.CodecType] += v
	}
	return d, n
}
