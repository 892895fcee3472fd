package flow

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// The one bucketing of an interaction, for the live tiles and the reports: the reason
// goes before the status.
func TestOutcomeOf(t *testing.T) {
	cases := []struct {
		name   string
		status Status
		reason Reason
		want   Outcome
	}{
		{"a verified caller counts as verified", StatusVerified, ReasonOK, OutcomeVerified},
		{"an identified caller without verification counts as identified", StatusIdentified, ReasonNotRequired, OutcomeIdentified},
		{"a caller who failed the secret counts as identified", StatusIdentified, ReasonVerifyFailed, OutcomeIdentified},
		{"a locked-out caller counts as identified", StatusIdentified, ReasonLocked, OutcomeIdentified},
		{"a caller not found counts as unidentified", StatusUnidentified, ReasonNotFound, OutcomeUnidentified},
		{"a hang-up counts by its status", StatusIdentified, ReasonHangup, OutcomeIdentified},
		{"an unknown status counts as unidentified", "", "", OutcomeUnidentified},
		{"opting out counts as opted out", StatusUnidentified, ReasonOptedOut, OutcomeOptedOut},
		{"a back-end failure counts as an error, even for an identified caller", StatusIdentified, ReasonBackendUnavailable, OutcomeError},
		{"a back-end failure counts as an error, even for a verified caller", StatusVerified, ReasonBackendUnavailable, OutcomeError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := OutcomeOf(tc.status, tc.reason); got != tc.want {
				t.Errorf("OutcomeOf(%q, %q) = %q, want %q", tc.status, tc.reason, got, tc.want)
			}
			in := &Interaction{Status: tc.status, Reason: tc.reason}
			if got := in.Outcome(); got != tc.want {
				t.Errorf("Interaction.Outcome() = %q, want %q", got, tc.want)
			}
		})
	}
	if got := len(Outcomes()); got != 5 {
		t.Errorf("%d outcomes listed, want 5", got)
	}
}

// A CRM event's result is either the back end's answer or the kind of failure that kept
// the answer from coming.
func TestResultIsAnswer(t *testing.T) {
	answers := []Result{ResultFound, ResultNotFound, ResultSeveral, ResultVerified, ResultRejected, ResultLocked}
	failures := []Result{ResultTimeout, ResultBudgetExhausted, ResultError, "connect", "http_503", "bad_json", "circuit_open", ""}
	for _, r := range answers {
		if !r.IsAnswer() {
			t.Errorf("%q is not an answer", r)
		}
	}
	for _, r := range failures {
		if r.IsAnswer() {
			t.Errorf("%q is an answer", r)
		}
	}
}

type kindErr string

func (e kindErr) Error() string { return "crm: " + string(e) }
func (e kindErr) Kind() string  { return string(e) }

// The Kind() contract of Directory errors, as the CRM event records it.
func TestErrorKind(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Result
	}{
		{"the kind an error gives is the result", kindErr("http_503"), "http_503"},
		{"a wrapped error's kind is found", fmt.Errorf("identify 100234: %w", kindErr("timeout")), ResultTimeout},
		{"an error without a kind is an error", errors.New("boom"), ResultError},
		{"an empty kind is an error", kindErr(""), ResultError},
		{"a kind that reads as an answer is an error, never an answer", kindErr("found"), ResultError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorKind(tc.err); got != tc.want {
				t.Errorf("errorKind(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestPhaseInIVR(t *testing.T) {
	for p, want := range map[Phase]bool{PhaseWelcome: true, PhaseIdentify: true, PhaseVerify: true, PhaseRouting: true,
		PhaseQueue: false, PhaseAgent: false, "": false} {
		if got := p.InIVR(); got != want {
			t.Errorf("Phase(%q).InIVR() = %v, want %v", p, got, want)
		}
	}
}

// The IVR's phases are listed once, in the order a call goes through them; the list is
// the caller's to keep (changing it changes nothing in flow).
func TestIVRPhasesInOrder(t *testing.T) {
	want := []Phase{PhaseWelcome, PhaseIdentify, PhaseVerify, PhaseRouting}
	got := IVRPhases()
	if !slices.Equal(got, want) {
		t.Fatalf("IVRPhases() = %v, want %v", got, want)
	}
	for _, p := range got {
		if !p.InIVR() {
			t.Errorf("%q is listed but not InIVR", p)
		}
	}
	got[0] = PhaseQueue
	if !PhaseWelcome.InIVR() || PhaseQueue.InIVR() || IVRPhases()[0] != PhaseWelcome {
		t.Error("changing the returned list changed the IVR's phases")
	}
}

// The steps ARI adds after the flow are in the queue until an agent answers, then with
// the agent.
func TestQueueOutcomeEvents(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	type step struct {
		phase  Phase
		result Result
	}
	cases := []struct {
		name string
		out  QueueOutcome
		want []step
	}{
		{"answered: entered, answered, ended with the agent",
			QueueOutcome{Queue: "support", Agent: "PJSIP/agent1", Entered: t0, Answered: t0.Add(20 * time.Second),
				Ended: t0.Add(80 * time.Second), Result: QueueAnswered, Cause: 16, CauseTxt: "Normal Clearing"},
			[]step{{PhaseQueue, ResultEntered}, {PhaseAgent, "answered"}, {PhaseAgent, "answered"}}},
		{"abandoned: entered, ended in the queue",
			QueueOutcome{Queue: "support", Entered: t0, Ended: t0.Add(30 * time.Second), Result: QueueAbandoned, Cause: 16},
			[]step{{PhaseQueue, ResultEntered}, {PhaseQueue, "abandoned"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs := tc.out.Events()
			if len(evs) != len(tc.want) {
				t.Fatalf("%d events, want %d: %+v", len(evs), len(tc.want), evs)
			}
			for i, ev := range evs {
				if ev.Kind != EventAgent || ev.Phase != tc.want[i].phase || ev.Result != tc.want[i].result {
					t.Errorf("event %d: %s %s %s, want agent %s %s", i, ev.Kind, ev.Phase, ev.Result, tc.want[i].phase, tc.want[i].result)
				}
			}
			in := &Interaction{Events: evs}
			if in.QueueResult() != tc.out.Result {
				t.Errorf("QueueResult() = %q, want %q", in.QueueResult(), tc.out.Result)
			}
			if last := evs[len(evs)-1]; !last.At.Equal(tc.out.Ended) || last.Detail != fmt.Sprintf("hangup cause %d %s", tc.out.Cause, tc.out.CauseTxt) {
				t.Errorf("last event at %v detail %q", last.At, last.Detail)
			}
		})
	}
}
