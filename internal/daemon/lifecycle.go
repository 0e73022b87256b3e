package daemon

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-cdn/strata/internal/objstore"
)

// startLifecycle runs the store's bucket lifecycle rules in the background
// and makes their work observable: GET /store/lifecycle on the admin
// listener, and strata_lifecycle_* metrics.
func (d *Daemon) startLifecycle() {
	lc := &objstore.Lifecycle{Store: d.store, Logger: d.log.With("service", "lifecycle")}
	d.lifecycle = lc
	d.reg.MustRegister(lifecycleCollector{lc})
	d.admin.Mount("GET /store/lifecycle", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(lc.Stats())
	}))
	lc.Start()
}

// lifecycleCollector exports lifecycle statistics as metrics, read at
// scrape time.
type lifecycleCollector struct{ lc *objstore.Lifecycle }

var (
	lcPassesDesc = prometheus.NewDesc("strata_lifecycle_passes_total", "Lifecycle passes run.", nil, nil)
	lcLastDesc   = prometheus.NewDesc("strata_lifecycle_last_run_timestamp_seconds", "Time the last lifecycle pass ran for.", nil, nil)
	lcActsDesc   = prometheus.NewDesc("strata_lifecycle_actions_total", "Objects, versions, delete markers and uploads acted on, by bucket, rule and action.", []string{"bucket", "rule", "action"}, nil)
)

// Describe sends the metric descriptions.
func (c lifecycleCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lcPassesDesc
	ch <- lcLastDesc
	ch <- lcActsDesc
}

// Collect reads the current statistics.
func (c lifecycleCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.lc.Stats()
	ch <- prometheus.MustNewConstMetric(lcPassesDesc, prometheus.CounterValue, float64(st.Passes))
	if !st.LastRun.IsZero() {
		ch <- prometheus.MustNewConstMetric(lcLastDesc, prometheus.GaugeValue, float64(st.LastRun.UnixNano())/1e9)
	}
	for _, r := range st.Rules {
		for _, a := range []struct {
			name string
			n    int64
		}{{"expire_object", r.ObjectsExpired}, {"remove_version", r.VersionsRemoved}, {"remove_delete_marker", r.DeleteMarkersRemoved}, {"abort_upload", r.UploadsAborted}} {
			ch <- prometheus.MustNewConstMetric(lcActsDesc, prometheus.CounterValue, float64(a.n), r.Bucket, r.RuleID, a.name)
		}
	}
}
