package loadtest

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// sequence is what idv sends for a caller found by number: the baseline replays it.
var sequence = []string{"ANSWER", "SET VARIABLE __IDV_INTERACTION 01X", "STREAM FILE idv/welcome \"\"",
	"SET VARIABLE __IDV_STATUS IDENTIFIED", "STREAM FILE idv/transfer \"\"", `EXEC Queue "support"`, "GET VARIABLE QUEUESTATUS"}

func baseline(t *testing.T, seqs Sequences) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ServeBaseline(ln, seqs) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}

// TestRunMeasuresEveryCallAndCommand: every call of the cap is made, no more than the
// concurrency at once, and every AGI command and flow is timed.
func TestRunMeasuresEveryCallAndCommand(t *testing.T) {
	mix := []Scenario{{Name: "ani", Weight: 1, ANI: "+81312345679", Status: "IDENTIFIED"}}
	addr := baseline(t, Sequences{"ani": sequence})
	var progress strings.Builder
	s, err := Run(context.Background(), Options{Target: addr, ScriptFor: BaselineScript, Mix: mix, Concurrency: 20, Calls: 300, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if s.Calls != 300 || s.Completed != 300 || s.ErrorCount() != 0 || s.Cut != 0 {
		t.Fatalf("calls %d completed %d errors %v cut %d", s.Calls, s.Completed, s.Errors, s.Cut)
	}
	if s.Command.N != 300*len(sequence) || s.Flow.N != 300 || s.PeakInFlight > 20 || s.PeakInFlight < 1 {
		t.Errorf("commands timed %d, flows %d, peak %d", s.Command.N, s.Flow.N, s.PeakInFlight)
	}
	if !(s.Command.P50 <= s.Command.P95 && s.Command.P95 <= s.Command.P99 && s.Command.P99 <= s.Command.Max) {
		t.Errorf("percentiles out of order: %+v", s.Command)
	}
	if !strings.Contains(progress.String(), "300 calls") {
		t.Errorf("progress did not end at 300 calls: %q", progress.String())
	}
	var out strings.Builder
	s.Print(&out, "baseline")
	if !strings.Contains(out.String(), "300 started, 300 completed, 0 failed") {
		t.Errorf("summary:\n%s", out.String())
	}
}

// TestRunCountsErrorsByKind: a refused connection, a wrong outcome and a server that
// never answers each count as their own kind; none is reported as completed.
func TestRunCountsErrorsByKind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // holds the call: reads nothing, sends nothing
		}
	}()
	wrong := baseline(t, Sequences{"ani": sequence})
	for _, tc := range []struct {
		target, kind string
		status       string
	}{
		{refused, "connect", "IDENTIFIED"},
		{wrong, "unexpected_outcome", "VERIFIED"},
		{silent.Addr().String(), "timeout", "IDENTIFIED"},
	} {
		mix := []Scenario{{Name: "ani", Weight: 1, ANI: "+81312345679", Status: tc.status}}
		s, err := Run(context.Background(), Options{Target: tc.target, ScriptFor: BaselineScript, Mix: mix, Concurrency: 2, Calls: 4,
			CallTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if s.Errors[tc.kind] != 4 || s.Completed != 0 || s.ErrorCount() != 4 {
			t.Errorf("%s: errors %v, completed %d", tc.kind, s.Errors, s.Completed)
		}
		// The summary says what the first failure of a kind was, where there is a text.
		var out strings.Builder
		s.Print(&out, "run")
		if want := map[string]string{"connect": "connection refused", "timeout": "i/o timeout"}[tc.kind]; !strings.Contains(out.String(), want) {
			t.Errorf("%s: the summary does not say %q:\n%s", tc.kind, want, out.String())
		}
	}
}

// TestDurationCapCutsCallsInProgress: calls still in a (long) prompt at the time cap are
// cut and counted as cut, not as failures.
func TestDurationCapCutsCallsInProgress(t *testing.T) {
	mix := []Scenario{{Name: "ani", Weight: 1, ANI: "+81312345679", Status: "IDENTIFIED"}}
	addr := baseline(t, Sequences{"ani": sequence})
	s, err := Run(context.Background(), Options{Target: addr, ScriptFor: BaselineScript, Mix: mix, Concurrency: 5,
		Duration: 300 * time.Millisecond, PromptTime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if s.Cut != 5 || s.ErrorCount() != 0 || s.Completed != 0 || s.Calls != 5 {
		t.Errorf("calls %d cut %d errors %v completed %d", s.Calls, s.Cut, s.Errors, s.Completed)
	}
}

func TestRunRefusesOtherHostsAndUncappedRuns(t *testing.T) {
	if _, err := Run(context.Background(), Options{Target: "192.0.2.1:4573", Concurrency: 1, Calls: 1}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("remote target: %v", err)
	}
	if _, err := Run(context.Background(), Options{Target: "127.0.0.1:4573", Concurrency: 1}); err == nil || !strings.Contains(err.Error(), "cap") {
		t.Errorf("no cap: %v", err)
	}
}

func TestMix(t *testing.T) {
	mix, err := ParseMix("ani-verified=3,opt-out=1")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for n := range 400 {
		counts[pick(mix, n).Name]++
	}
	if counts["ani-verified"] != 300 || counts["opt-out"] != 100 {
		t.Errorf("400 calls of 3:1 played as %v", counts)
	}
	// Interleaved, not in blocks: played in blocks, the second call would be the first
	// block's (ani-verified) too.
	if pick(mix, 0).Name == pick(mix, 1).Name {
		t.Errorf("the mix is played in blocks, not interleaved: %s then %s", pick(mix, 0).Name, pick(mix, 1).Name)
	}
	for _, bad := range []string{"nosuch=1", "opt-out", "opt-out=-1", "opt-out=0"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
	if def, _ := ParseMix(""); len(def) != len(DefaultMix) {
		t.Errorf("default mix: %v", def)
	}
}

// TestMixStringIsWhatParseMixReads: the mix in the run's header can be given back to
// -mix to play the same calls.
func TestMixStringIsWhatParseMixReads(t *testing.T) {
	for _, s := range []string{"ani-verified=3,opt-out=1", "hangup=0,dtmf=7"} {
		mix, err := ParseMix(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := mixString(mix); got != s {
			t.Errorf("mixString(ParseMix(%q)) = %q", s, got)
		}
	}
	def, err := ParseMix(mixString(DefaultMix))
	if err != nil || !slices.Equal(def, DefaultMix) {
		t.Errorf("the default mix written out reads back as %v, %v", def, err)
	}
}
