package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/idv-project/idv/loadtest"
)

// loadSecurity is the [security] table of the idv serve a load test starts, for the
// in-process benchmarks (bench_test.go) to run under the same limits.
const loadSecurity = loadtest.SecurityTOML

// TestLoadtestCommand runs `idv loadtest -baseline` as a user would: it starts its own
// idv serve and demo CRM, plays the default mix against the baseline and idv, and prints
// the summaries and the ratios, with every call completed: the bare baseline, the fair
// floor (same CRM requests and records) and idv.
func TestLoadtestCommand(t *testing.T) {
	out, err := exec.Command(idvBinary(t), "loadtest", "-baseline", "-n", "400", "-c", "20").CombinedOutput()
	if err != nil {
		t.Fatalf("idv loadtest: %v\n%s", err, out)
	}
	text := string(out)
	if n := strings.Count(text, "400 started, 400 completed, 0 failed"); n != 3 {
		t.Errorf("want the baseline, the fair floor and idv each to complete 400 calls:\n%s", text)
	}
	for _, want := range []string{"idv / baseline (same calls, same run)", "idv / fair floor (same calls, same run)",
		"server CPU / call", "AGI cmd p50 / p99", "no-wait cmd p99", "KiB per call", "flows/s per core used"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`AGI cmd +p50 [0-9.]+ms +p95 [0-9.]+ms +p99 [0-9.]+ms`).MatchString(text) {
		t.Errorf("no AGI command percentiles:\n%s", text)
	}
}

// TestLoadtestRefusesRemoteTargets: load goes to this machine only.
func TestLoadtestRefusesRemoteTargets(t *testing.T) {
	out, err := exec.Command(idvBinary(t), "loadtest", "-target", "192.0.2.10:4573", "-n", "1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not on loopback") {
		t.Errorf("remote target: %v\n%s", err, out)
	}
}
