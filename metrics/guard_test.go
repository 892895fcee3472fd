package metrics_test

import (
	"maps"
	"testing"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/metrics"
)

// TestGuardRefusalsByReason: lockouts and throttling count by check and by the limit
// reached, so that each can be alerted on; every series exists at 0 before the first.
func TestGuardRefusalsByReason(t *testing.T) {
	m := metrics.New()
	zero := counters(t, m, "idv_guard_refusals_total")
	if len(zero) != 6 || zero["check=verify,reason=customer"] != 0 || zero["check=identify,reason=withheld"] != 0 {
		t.Errorf("series before any refusal: %v", zero)
	}
	in := &flow.Interaction{ID: "01A", Line: "retail"}
	for _, ev := range []flow.Event{
		{Kind: flow.EventGuard, Name: "verify", Result: flow.ResultLockout, Detail: string(flow.LimitCaller)},
		{Kind: flow.EventGuard, Name: "verify", Result: flow.ResultLockout, Detail: string(flow.LimitCaller)},
		{Kind: flow.EventGuard, Name: "verify", Result: flow.ResultLockout, Detail: string(flow.LimitCustomer)},
		{Kind: flow.EventGuard, Name: "identify", Result: flow.ResultRateLimited, Detail: string(flow.LimitWithheld)},
		{Kind: flow.EventGuard, Name: "identify", Result: flow.ResultRateLimited},
		{Kind: flow.EventPrompt, Name: "idv/locked", Result: flow.ResultPlayed},
	} {
		m.Step(in, ev)
	}
	want := map[string]float64{
		"check=verify,reason=caller": 2, "check=verify,reason=withheld": 0, "check=verify,reason=customer": 1,
		"check=identify,reason=caller": 0, "check=identify,reason=withheld": 1, "check=identify,reason=global": 0,
		"check=identify,reason=unknown": 1,
	}
	if got := counters(t, m, "idv_guard_refusals_total"); !maps.Equal(got, want) {
		t.Errorf("refusals %v, want %v", got, want)
	}
}
