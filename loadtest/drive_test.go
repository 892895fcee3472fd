package loadtest

import (
	"context"
	"strings"
	"testing"
)

// aniMix is one scenario the baseline server of the tests plays to its end.
var aniMix = []Scenario{{Name: "ani", Weight: 1, ANI: "+81312345679", Status: "IDENTIFIED"}}

// TestDriveAgainstATarget: with a target, Drive starts nothing, reads the memory from
// the -metrics endpoint, and prints the header and the summary of every call.
func TestDriveAgainstATarget(t *testing.T) {
	target := baseline(t, Sequences{"ani": sequence})
	metrics, reads := metricsServer(t, rssGauge(123456789))
	var out, progress strings.Builder
	err := Drive(context.Background(), Plan{
		Load:       Options{Target: target, Script: BaselineScript(aniMix[0]), Mix: aniMix, Concurrency: 4, Calls: 40},
		MetricsURL: metrics,
	}, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"mix ani=1; 4 at once; cap 40 calls / 0s; prompt 0s, key 0s, queue 0s\n",
		"idv\n  calls      40 started, 40 completed, 0 failed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	if reads.Load() == 0 {
		t.Error("the memory was not read from -metrics")
	}
	if strings.Contains(out.String(), "started idv serve") || strings.Contains(out.String(), "baseline") {
		t.Errorf("Drive started servers for a run with a target:\n%s", out.String())
	}
	if !strings.HasPrefix(progress.String(), "idv:\n") {
		t.Errorf("progress: %q", progress.String())
	}
}

// TestDriveRunsTheBaselineAsAChild: -baseline saves the commands of the warm-up call,
// starts the baseline process with them, plays the same calls against it (which it can
// end as expected only with those commands), and prints the ratios.
func TestDriveRunsTheBaselineAsAChild(t *testing.T) {
	target := baseline(t, Sequences{"ani": sequence})
	var out, progress strings.Builder
	err := Drive(context.Background(), Plan{
		Load:     Options{Target: target, Script: BaselineScript(aniMix[0]), Mix: aniMix, Concurrency: 4, Calls: 40},
		Baseline: true,
		Processes: Processes{Executable: testExecutable(t), Baseline: func(addr, sequences string) []string {
			return []string{childArg, "serve-baseline", addr, sequences}
		}},
	}, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	if n := strings.Count(text, "40 started, 40 completed, 0 failed"); n != 2 {
		t.Errorf("want the baseline and the target each to complete 40 calls:\n%s", text)
	}
	for _, want := range []string{"baseline: bare zaf/agi server, same command sequences\n", "idv / baseline (same calls, same run)\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if !strings.Contains(progress.String(), "baseline (zaf/agi, same commands, no flow, CRM or store):\n") {
		t.Errorf("progress: %q", progress.String())
	}
}

// TestDriveRefuses: load goes to this machine only, and a run without a target or a
// baseline run needs to know how to start its servers.
func TestDriveRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		plan Plan
		want string
	}{
		{"a remote target", Plan{Load: Options{Target: "192.0.2.10:4573", Concurrency: 1, Calls: 1}}, "not on loopback"},
		{"no target and no way to start idv", Plan{Load: Options{Concurrency: 1, Calls: 1}}, "no target"},
		{"a baseline it cannot start", Plan{Load: Options{Target: "127.0.0.1:4573", Concurrency: 1, Calls: 1}, Baseline: true}, "Processes.Baseline"},
	} {
		var out strings.Builder
		if err := Drive(context.Background(), tc.plan, &out, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}
