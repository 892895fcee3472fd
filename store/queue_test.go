package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// queued records three calls routed to the support queue and their outcomes as ARI
// reports them: answered, abandoned (the caller hung up in the queue, QUEUESTATUS unset)
// and timed out. It returns the results by interaction.
func queued(t *testing.T, s *store.Store, t0 time.Time) map[string]flow.QueueResult {
	t.Helper()
	ctx := context.Background()
	outcomes := map[string]flow.QueueOutcome{
		"01QANSWERED": {Queue: "support", Agent: "PJSIP/agent1", Entered: t0, Answered: t0.Add(20 * time.Second),
			Ended: t0.Add(80 * time.Second), Result: flow.QueueAnswered, Cause: 16, CauseTxt: "Normal Clearing"},
		"01QABANDONED": {Queue: "support", Entered: t0, Ended: t0.Add(30 * time.Second), Result: flow.QueueAbandoned,
			Cause: 16, CauseTxt: "Normal Clearing"},
		"01QTIMEOUT": {Queue: "support", Entered: t0, Ended: t0.Add(300 * time.Second), Result: flow.QueueLeft("TIMEOUT"),
			Cause: 16, CauseTxt: "Normal Clearing"},
	}
	want := map[string]flow.QueueResult{}
	for id, o := range outcomes {
		in := &flow.Interaction{ID: id, Line: "retail", Script: "idv", Started: t0.Add(-10 * time.Second), Status: flow.StatusVerified,
			Reason: flow.ReasonOK, Method: flow.MethodANI, Route: "queue:support,t,,,300",
			Events: []flow.Event{{At: t0.Add(-10 * time.Second), Kind: flow.EventStart, Name: "idv"}}}
		if o.Result == flow.QueueLeft("TIMEOUT") {
			in.QueueStatus = "TIMEOUT"
		}
		if err := s.Record(ctx, in); err != nil {
			t.Fatal(err)
		}
		if err := s.QueueOutcome(ctx, id, o); err != nil {
			t.Fatal(err)
		}
		want[id] = o.Result
	}
	return want
}

// TestQueueOutcomeSteps: the queue steps are stored as QueueOutcome.Events gives them —
// entered, answered with the wait as latency, the end with the hang-up cause — after the
// flow's own events.
func TestQueueOutcomeSteps(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, driver)
			t0 := time.Date(2026, 11, 2, 9, 7, 0, 0, time.UTC)
			queued(t, s, t0)
			for id, want := range map[string][]string{
				"01QANSWERED": {"start idv  0s ", "agent support entered 0s ", "agent PJSIP/agent1 answered 20s ",
					"agent PJSIP/agent1 answered 0s hangup cause 16 Normal Clearing"},
				"01QABANDONED": {"start idv  0s ", "agent support entered 0s ", "agent  abandoned 0s hangup cause 16 Normal Clearing"},
			} {
				in, err := s.Interaction(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, ev := range in.Events {
					got = append(got, fmt.Sprintf("%s %s %s %s %s", ev.Kind, ev.Name, ev.Result, ev.Latency, ev.Detail))
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: steps\n%q\nwant\n%q", id, got, want)
				}
			}
		})
	}
}
