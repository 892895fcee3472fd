// Package metrics exposes idv's Prometheus metrics: calls (started, active, outcomes,
// duration), the latency of each AGI command, and CRM requests (latency, errors by kind).
package metrics

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/idv-project/idv/flow"
)

// Metrics is one registry of idv's metrics. The zero value is not usable; call New.
type Metrics struct {
	Registry *prometheus.Registry

	calls       *prometheus.CounterVec
	active      prometheus.Gauge
	outcomes    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	agi         *prometheus.HistogramVec
	crm         *prometheus.HistogramVec
	crmErrs     *prometheus.CounterVec
	steps       *prometheus.CounterVec
	guard       *prometheus.CounterVec
	refused     *prometheus.CounterVec
	unknownLine prometheus.Counter

	// The series of each AGI command and of each step, looked up once: WithLabelValues
	// hashes the labels and takes the vector's lock on every observation, some twenty
	// times per call.
	agiSeries  sync.Map // command → prometheus.Observer
	stepMu     sync.RWMutex
	stepSeries map[[2]string]prometheus.Counter // kind, result
}

// New registers the metrics (with Go and process collectors) in a new registry.
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), stepSeries: map[[2]string]prometheus.Counter{}}
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idv_calls_total", Help: "Calls that reached idv, by service line and script."}, []string{"line", "script"})
	m.active = prometheus.NewGauge(prometheus.GaugeOpts{Name: "idv_calls_active", Help: "Calls in idv now."})
	m.outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idv_outcomes_total", Help: "Ended calls by line, IDV_STATUS, IDV_REASON and IDV_METHOD."}, []string{"line", "status", "reason", "method"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "idv_call_duration_seconds", Help: "Time from a call's arrival in idv to its end (routing included).",
		Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 900, 3600}}, []string{"line"})
	m.agi = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "idv_agi_command_seconds", Help: "Round trip of one AGI command to Asterisk (prompts and waits included).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .05, .25, 1, 5, 30}}, []string{"command"})
	m.crm = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "idv_crm_request_seconds", Help: "CRM requests by endpoint and result.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"endpoint", "result"})
	m.crmErrs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idv_crm_errors_total", Help: "Failed CRM requests by endpoint and kind (timeout, connect, http_NNN, bad_json, …)."}, []string{"endpoint", "kind"})
	m.steps = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idv_steps_total", Help: "Flow steps by kind and result (prompts, digit entries, routes, hang-ups, errors)."}, []string{"step", "result"})
	m.guard = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idv_guard_refusals_total", Help: "Calls a security limit stopped (IDV_REASON=LOCKED), by check — verify (lockout) or identify (throttling) — and reason, the limit reached: caller, withheld, customer or global."}, []string{"check", "reason"})
	for check, reasons := range guardReasons {
		for _, r := range reasons {
			m.guard.WithLabelValues(check, string(r)) // a series at 0 to alert on before the first refusal
		}
	}
	m.Registry.MustRegister(m.guard)
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idv_agi_connections_refused_total", Help: "FastAGI connections refused before their environment was read, by reason: max_connections (answered FAILURE) or allow (peer not in agi.allow)."}, []string{"reason"})
	for _, reason := range []string{"max_connections", "allow"} {
		m.refused.WithLabelValues(reason) // a series at 0 before the first refusal
	}
	m.Registry.MustRegister(m.refused)
	m.unknownLine = prometheus.NewCounter(prometheus.CounterOpts{Name: "idv_unknown_line_calls_total", Help: "Calls answered FAILURE (the dialplan falls back) because their ?line= names a service line that is not configured."})
	m.Registry.MustRegister(m.unknownLine)
	m.Registry.MustRegister(m.calls, m.active, m.outcomes, m.duration, m.agi, m.crm, m.crmErrs, m.steps,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// CallStarted counts a call arriving.
func (m *Metrics) CallStarted(_, line, script string) {
	m.calls.WithLabelValues(line, script).Inc()
	m.active.Inc()
}

// CallEnded counts a call's outcome; in is nil when the flow did not run to its end.
func (m *Metrics) CallEnded(_ string, in *flow.Interaction) {
	m.active.Dec()
	if in == nil {
		return
	}
	m.outcomes.WithLabelValues(in.Line, string(in.Status), string(in.Reason), string(in.Method)).Inc()
	if !in.Ended.IsZero() {
		m.duration.WithLabelValues(in.Line).Observe(in.Ended.Sub(in.Started).Seconds())
	}
}

// Step counts one flow event.
func (m *Metrics) Step(_ *flow.Interaction, ev flow.Event) {
	switch ev.Kind {
	case flow.EventCRM:
		if ev.Latency > 0 {
			m.crm.WithLabelValues(ev.Name, string(ev.Result)).Observe(ev.Latency.Seconds())
		}
		if !ev.Result.IsAnswer() {
			m.crmErrs.WithLabelValues(ev.Name, string(ev.Result)).Inc()
		}
	case flow.EventPrompt, flow.EventDigits, flow.EventRoute, flow.EventHangup, flow.EventError, flow.EventANI, flow.EventLanguage, flow.EventGuard:
		result := string(ev.Result)
		if ev.Kind == flow.EventRoute {
			result = routeKind(ev.Name)
		}
		m.step(string(ev.Kind), result).Inc()
		if ev.Kind == flow.EventGuard {
			m.guard.WithLabelValues(ev.Name, guardReason(ev)).Inc()
		}
	}
}

// guardReasons are the limits each check of the Guard reaches (flow.Limit).
var guardReasons = map[string][]flow.Limit{
	"verify":   {flow.LimitCaller, flow.LimitWithheld, flow.LimitCustomer},
	"identify": {flow.LimitCaller, flow.LimitWithheld, flow.LimitGlobal},
}

// guardReason is the limit a guard event names (its Detail), or "unknown".
func guardReason(ev flow.Event) string {
	if slices.Contains(guardReasons[ev.Name], flow.Limit(ev.Detail)) {
		return ev.Detail
	}
	return "unknown"
}

// routeKind is the label a route counts by: what it does (queue, goto, continue), not
// where it goes, which would make a series per queue and option string.
func routeKind(route string) string {
	r, err := flow.ParseRoute(route)
	if err != nil {
		return "unknown"
	}
	return r.Kind.String()
}

// AGIRefused counts a FastAGI connection refused (agi.Server.OnRefused).
func (m *Metrics) AGIRefused(reason string) {
	m.refused.WithLabelValues(reason).Inc()
}

// UnknownLine counts a call that named a line that is not configured (app.Calls).
func (m *Metrics) UnknownLine() { m.unknownLine.Inc() }

// AGICommand observes one AGI command's round trip.
func (m *Metrics) AGICommand(command string, took time.Duration) {
	o, ok := m.agiSeries.Load(command)
	if !ok {
		o, _ = m.agiSeries.LoadOrStore(command, m.agi.WithLabelValues(command))
	}
	o.(prometheus.Observer).Observe(took.Seconds())
}

// step is the counter of a step kind and result.
func (m *Metrics) step(kind, result string) prometheus.Counter {
	key := [2]string{kind, result}
	m.stepMu.RLock()
	c, ok := m.stepSeries[key]
	m.stepMu.RUnlock()
	if ok {
		return c
	}
	c = m.steps.WithLabelValues(kind, result)
	m.stepMu.Lock()
	m.stepSeries[key] = c
	m.stepMu.Unlock()
	return c
}
