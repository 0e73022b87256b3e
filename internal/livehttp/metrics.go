package livehttp

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descStreams  = prometheus.NewDesc("strata_live_streams", "Live streams being published.", nil, nil)
	descViewers  = prometheus.NewDesc("strata_live_viewers", "Viewers of a live stream by protocol (flv: connections; hls: clients seen in the last 30s).", []string{"stream", "protocol"}, nil)
	descBitrate  = prometheus.NewDesc("strata_live_bitrate_bits_per_second", "A live stream's bitrate over the last 5s of media, by track.", []string{"stream", "track"}, nil)
	descFPS      = prometheus.NewDesc("strata_live_fps", "A live stream's measured frame rate over the last 5s of media.", []string{"stream"}, nil)
	descSeqHdrs  = prometheus.NewDesc("strata_live_sequence_headers_total", "AVC/HEVC and AAC sequence headers received, by track.", []string{"stream", "track"}, nil)
	descHLS      = prometheus.NewDesc("strata_live_hls_available", "1 when HLS can carry the stream's codecs, else 0 (the admin API says why).", []string{"stream"}, nil)
	descWarnings = prometheus.NewDesc("strata_live_warnings", "Warnings on a live stream (the admin API lists them).", []string{"stream"}, nil)
)

// Collector returns a Prometheus collector of the live streams' status,
// read at scrape time.
func (h *Handler) Collector() prometheus.Collector { return collector{h} }

type collector struct{ h *Handler }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStreams, descViewers, descBitrate, descFPS, descSeqHdrs, descHLS, descWarnings} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	sts := c.h.Statuses()
	ch <- prometheus.MustNewConstMetric(descStreams, prometheus.GaugeValue, float64(len(sts)))
	for _, s := range sts {
		for _, p := range []string{"flv", "hls"} {
			ch <- prometheus.MustNewConstMetric(descViewers, prometheus.GaugeValue, float64(s.Viewers[p]), s.Stream, p)
		}
		ch <- prometheus.MustNewConstMetric(descBitrate, prometheus.GaugeValue, float64(s.VideoBitrate), s.Stream, "video")
		ch <- prometheus.MustNewConstMetric(descBitrate, prometheus.GaugeValue, float64(s.AudioBitrate), s.Stream, "audio")
		ch <- prometheus.MustNewConstMetric(descFPS, prometheus.GaugeValue, s.FPS, s.Stream)
		ch <- prometheus.MustNewConstMetric(descSeqHdrs, prometheus.CounterValue, float64(s.Video.SequenceHeaders), s.Stream, "video")
		ch <- prometheus.MustNewConstMetric(descSeqHdrs, prometheus.CounterValue, float64(s.Audio.SequenceHeaders), s.Stream, "audio")
		hls := 0.0
		if s.HLS.Available {
			hls = 1
		}
		ch <- prometheus.MustNewConstMetric(descHLS, prometheus.GaugeValue, hls, s.Stream)
		ch <- prometheus.MustNewConstMetric(descWarnings, prometheus.GaugeValue, float64(len(s.Warnings)), s.Stream)
	}
}
