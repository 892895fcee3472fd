package store_test

import (
	"context"
	"errors"
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

// TestQueueOutcomeReachesReports: the result ARI reports for a queued call is what the
// report groups and detail rows carry, and what the interaction view derives from the
// stored steps.
func TestQueueOutcomeReachesReports(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, driver)
			t0 := time.Date(2026, 11, 2, 9, 7, 0, 0, time.UTC)
			want := queued(t, s, t0)
			q := store.Query{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}
			groups, err := s.ReportGroups(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range groups {
				got = append(got, fmt.Sprintf("%s %s %d", g.QueueResult, g.QueueStatus, g.N))
			}
			slices.Sort(got)
			if fmt.Sprint(got) != "[abandoned  1 answered  1 timeout TIMEOUT 1]" {
				t.Errorf("groups by queue result and status: %q", got)
			}
			rows, _, err := s.DetailRows(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				in, err := s.Interaction(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if r.QueueResult != want[r.ID] || in.QueueResult() != r.QueueResult {
					t.Errorf("%s: detail row %q, interaction %q, want %q", r.ID, r.QueueResult, in.QueueResult(), want[r.ID])
				}
			}
		})
	}
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

// TestMigrationFillsQueueResult: calls recorded before the queue_result column get the
// result of their last agent step; calls that never reached a queue keep none.
func TestMigrationFillsQueueResult(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, driver)
			t0 := time.Date(2026, 11, 2, 9, 7, 0, 0, time.UTC)
			want := queued(t, s, t0)
			if err := s.Record(ctx, &flow.Interaction{ID: "01SELF", Line: "retail", Script: "idv", Started: t0,
				Route: "goto:selfservice,s,1", Events: []flow.Event{{At: t0, Kind: flow.EventStart, Name: "idv"}}}); err != nil {
				t.Fatal(err)
			}
			want["01SELF"] = ""
			if _, err := s.TestDB().ExecContext(ctx, `UPDATE interactions SET queue_result = ''`); err != nil {
				t.Fatal(err)
			}
			if err := s.TestRerunMigration(ctx, "UPDATE interactions SET queue_result"); err != nil {
				t.Fatal(err)
			}
			rows, _, err := s.DetailRows(ctx, store.Query{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
			if err != nil || len(rows) != len(want) {
				t.Fatalf("%d rows, %v", len(rows), err)
			}
			for _, r := range rows {
				if r.QueueResult != want[r.ID] {
					t.Errorf("%s: queue result %q, want %q", r.ID, r.QueueResult, want[r.ID])
				}
			}
		})
	}
}

// TestOnlyACallInProgressReachesAnAgent: the agent is set on a call still in progress;
// a call that has ended, or an id that names none, is left as it was (a stray FastAGI
// client sending another agent's interaction id must not move that call to its desk).
func TestOnlyACallInProgressReachesAnAgent(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, driver)
			t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
			for _, in := range []*flow.Interaction{
				{ID: "01INQUEUE", Started: t0},
				{ID: "01ENDED", Started: t0, Ended: t0.Add(time.Minute)},
			} {
				in.Line, in.Script, in.Status, in.Reason, in.Method = "retail", "idv", flow.StatusVerified, flow.ReasonOK, flow.MethodANI
				if err := s.Record(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SetAgent(ctx, "01INQUEUE", "PJSIP/agent1"); err != nil {
				t.Fatalf("a call in the queue: %v", err)
			}
			for id, want := range map[string]string{"01INQUEUE": "PJSIP/agent1", "01ENDED": ""} {
				in, err := s.Interaction(ctx, id)
				if err != nil || in.Agent != want {
					t.Errorf("%s: agent %q, %v; want %q", id, in.Agent, err, want)
				}
			}
			for _, id := range []string{"01ENDED", "01NOSUCH"} {
				if err := s.SetAgent(ctx, id, "PJSIP/agent9"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: %v, want ErrNotFound", id, err)
				}
			}
		})
	}
}
