package daemon

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-cdn/strata/internal/respcount"
)

// httpMetrics counts requests per listener.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytes    *prometheus.CounterVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_http_requests_total",
			Help: "HTTP requests answered, by listener, method and status code.",
		}, []string{"listener", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strata_http_request_duration_seconds",
			Help:    "Time from request headers read to response finished, by listener.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"listener"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_http_response_body_bytes_total",
			Help: "Response body bytes written, by listener.",
		}, []string{"listener"}),
	}
	reg.MustRegister(m.requests, m.duration, m.bytes)
	return m
}

// wrap instruments h as listener name.
func (m *httpMetrics) wrap(name string, h http.Handler) http.Handler {
	dur := m.duration.WithLabelValues(name)
	bytes := m.bytes.WithLabelValues(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &respcount.Writer{ResponseWriter: w}
		defer func() {
			code := rw.Status
			if code == 0 {
				code = http.StatusOK
			}
			m.requests.WithLabelValues(name, methodLabel(r.Method), strconv.Itoa(code)).Inc()
			dur.Observe(time.Since(start).Seconds())
			bytes.Add(float64(rw.Bytes))
		}()
		h.ServeHTTP(rw, r)
	})
}

// methodLabel bounds the label's cardinality to the known methods.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS":
		return m
	}
	return "other"
}
