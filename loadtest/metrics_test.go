package loadtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsServer serves the collectors as idv's /metrics does, and counts its readers.
func metricsServer(t *testing.T, cs ...prometheus.Collector) (string, *atomic.Int64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	reg.MustRegister(cs...)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	reads := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reads.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics", reads
}

func rssGauge(v float64) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "process_resident_memory_bytes", Help: "Resident memory size in bytes."})
	g.Set(v)
	return g
}

// TestMetricsRSSReadsTheExpositionFormat: Prometheus writes large values in exponent
// form (1.23456789e+08), among HELP and TYPE lines and other metrics.
func TestMetricsRSSReadsTheExpositionFormat(t *testing.T) {
	url, _ := metricsServer(t, rssGauge(123456789))
	rss, err := metricsRSS(url)()
	if err != nil || rss != 123456789 {
		t.Errorf("rss = %d, %v; want 123456789", rss, err)
	}
}

// TestMetricsRSSReadsTheProcessCollector: the metric as the process collector of a real
// server exports it.
func TestMetricsRSSReadsTheProcessCollector(t *testing.T) {
	url, _ := metricsServer(t, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rss, err := metricsRSS(url)()
	if err != nil || rss <= 0 {
		t.Errorf("rss = %d, %v", rss, err)
	}
}

// TestMetricsRSSSaysWhichEndpointLacksTheMetric: a -metrics URL that is not idv's (or a
// server without the process collector) is an error naming the URL, not a memory of 0.
func TestMetricsRSSSaysWhichEndpointLacksTheMetric(t *testing.T) {
	url, _ := metricsServer(t)
	if _, err := metricsRSS(url)(); err == nil || !strings.Contains(err.Error(), url) {
		t.Errorf("err = %v, want one naming %s", err, url)
	}
}
