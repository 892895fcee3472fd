package metrics_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/metrics"
)

// counters reads a counter family as "label=value,…" → count.
func counters(t *testing.T, m *metrics.Metrics, name string) map[string]float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := strings.Join(labels, ",")
			if c := s.GetCounter(); c != nil {
				out[key] = c.GetValue()
			} else if h := s.GetHistogram(); h != nil {
				out[key] = float64(h.GetSampleCount())
			}
		}
	}
	return out
}

// A CRM answer of any kind is no error; every failure counts by its kind, whatever the
// adapter calls it.
func TestCRMErrorsAreTheFailures(t *testing.T) {
	m := metrics.New()
	in := &flow.Interaction{ID: "01A", Line: "retail"}
	for _, ev := range []flow.Event{
		{Kind: flow.EventCRM, Name: flow.OpByPhone, Result: flow.ResultFound, Latency: 12 * time.Millisecond},
		{Kind: flow.EventCRM, Name: flow.OpByPhone, Result: flow.ResultSeveral, Latency: 9 * time.Millisecond},
		{Kind: flow.EventCRM, Name: flow.OpByID, Result: flow.ResultNotFound, Latency: 8 * time.Millisecond},
		{Kind: flow.EventCRM, Name: flow.OpVerify, Result: flow.ResultRejected, Latency: 30 * time.Millisecond},
		{Kind: flow.EventCRM, Name: flow.OpVerify, Result: flow.ResultLocked, Latency: 30 * time.Millisecond},
		{Kind: flow.EventCRM, Name: flow.OpByID, Result: "http_503", Latency: 40 * time.Millisecond},
		{Kind: flow.EventCRM, Name: flow.OpByID, Result: "some_new_kind", Latency: time.Millisecond},
		{Kind: flow.EventCRM, Name: flow.OpVerify, Result: flow.ResultBudgetExhausted},
	} {
		m.Step(in, ev)
	}
	want := map[string]float64{"endpoint=by_id,kind=http_503": 1, "endpoint=by_id,kind=some_new_kind": 1,
		"endpoint=verify,kind=budget_exhausted": 1}
	if got := counters(t, m, "idv_crm_errors_total"); !maps.Equal(got, want) {
		t.Errorf("CRM errors %v, want %v", got, want)
	}
	// A request refused before it was sent has no latency to observe.
	latency := counters(t, m, "idv_crm_request_seconds")
	if keys := slices.Sorted(maps.Keys(latency)); len(keys) != 7 || latency["endpoint=by_phone,result=found"] != 1 {
		t.Errorf("CRM latencies %v", latency)
	}
}

// Other steps count by kind and result; a route counts by what it does (a route flow
// cannot read counts as unknown).
func TestStepsByKindAndResult(t *testing.T) {
	m := metrics.New()
	in := &flow.Interaction{ID: "01A", Line: "retail"}
	for _, ev := range []flow.Event{
		{Kind: flow.EventStart},
		{Kind: flow.EventPrompt, Name: "idv/welcome", Result: flow.ResultPlayed},
		{Kind: flow.EventDigits, Name: flow.EntrySecret, Result: flow.ResultTerminator, Count: 4},
		{Kind: flow.EventGuard, Name: "verify", Result: flow.ResultLockout},
		{Kind: flow.EventOutcome, Name: "IDENTIFIED", Result: "LOCKED"},
		{Kind: flow.EventRoute, Name: "queue:security,,,,300"},
		{Kind: flow.EventRoute, Name: "goto:idv-fallback,s,1"},
		{Kind: flow.EventRoute, Name: "continue"},
		{Kind: flow.EventRoute, Name: "voicemail:100"},
		{Kind: flow.EventQueue, Result: "TIMEOUT"},
	} {
		m.Step(in, ev)
	}
	want := map[string]float64{"result=played,step=prompt": 1, "result=terminator,step=digits": 1,
		"result=lockout,step=guard": 1, "result=queue,step=route": 1, "result=goto,step=route": 1, "result=continue,step=route": 1,
		"result=unknown,step=route": 1}
	if got := counters(t, m, "idv_steps_total"); !maps.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
}

func TestOutcomesAndActiveCalls(t *testing.T) {
	m := metrics.New()
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m.CallStarted("01A", "retail", "idv")
	m.CallStarted("01B", "retail", "idv")
	m.CallEnded("01A", &flow.Interaction{Line: "retail", Status: flow.StatusVerified, Reason: flow.ReasonOK, Method: flow.MethodANI,
		Started: t0, Ended: t0.Add(20 * time.Second)})
	m.CallEnded("01B", nil)
	if got, want := counters(t, m, "idv_outcomes_total"), map[string]float64{"line=retail,method=ANI,reason=OK,status=VERIFIED": 1}; !maps.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if got := counters(t, m, "idv_calls_total"); got["line=retail,script=idv"] != 2 {
		t.Errorf("calls %v", got)
	}
	families, _ := m.Registry.Gather()
	for _, f := range families {
		if f.GetName() == "idv_calls_active" && f.GetMetric()[0].GetGauge().GetValue() != 0 {
			t.Errorf("%v calls active after both ended", f.GetMetric()[0].GetGauge().GetValue())
		}
	}
}
