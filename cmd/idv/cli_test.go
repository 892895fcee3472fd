package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCallCommand: what a person sees when trying idv from a terminal.
func TestCallCommand(t *testing.T) {
	h := newHarness(t, "")
	var out strings.Builder
	if err := callTo(&out, []string{"-addr", h.addr, "-ani", "+81312345678", "-keys", "1234#"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"▶ idv/welcome", "▶ idv/enter-secret             interrupted (caller pressed 1)", `keys delivered: "1234#"`,
		"__IDV_STATUS=VERIFIED", "__IDV_CUSTOMER_NAME=佐藤 花子", "__IDV_ATTEMPTS=0/1", "EXEC Queue(support,,,,300)", "AGISTATUS=SUCCESS",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestServeRefusesABadConfig: start-up fails with the file, the key and the reason.
func TestServeRefusesABadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(path, []byte("[lines.retail]\nverify_attempts = 0\n"), 0o600)
	err := serve([]string{"-config", path})
	if err == nil || !strings.Contains(err.Error(), path+": lines.retail.verify_attempts: 0 is outside 1..10") {
		t.Errorf("serve = %v", err)
	}
}

// TestScenarioFiles replays every scenario shipped in deploy/scenarios; their expect lines
// must hold.
func TestScenarioFiles(t *testing.T) {
	h := newHarness(t, "")
	files, _ := filepath.Glob("../../deploy/scenarios/*.txt")
	if len(files) < 4 {
		t.Fatalf("%d scenario files", len(files))
	}
	for _, f := range files {
		var out strings.Builder
		if err := callTo(&out, []string{"-scenario", f, "-addr", h.addr, "-sounds", "../../sounds"}); err != nil {
			t.Errorf("%s: %v\n%s", filepath.Base(f), err, out.String())
		}
		if !strings.Contains(out.String(), "Thank you for calling.") {
			t.Errorf("%s: prompt text not shown:\n%s", filepath.Base(f), out.String())
		}
	}
	var out strings.Builder
	err := callTo(&out, []string{"-addr", h.addr, "-ani", "anonymous", "-keys", "*", "-expect", "IDV_STATUS=VERIFIED"})
	if err == nil || !strings.Contains(err.Error(), `IDV_STATUS="UNIDENTIFIED", expected "VERIFIED"`) {
		t.Errorf("an unmet expectation gave %v", err)
	}
}

// TestCallFailsWhenTheCallEndsInFailure: a call that ends AGISTATUS=FAILURE — here a
// mistyped -line, which idv refuses — makes idv call exit non-zero and say why, unless
// the caller expects FAILURE; -play without sox's play says so instead of doing nothing.
func TestCallFailsWhenTheCallEndsInFailure(t *testing.T) {
	h := newHarness(t, "")
	var out strings.Builder
	err := callTo(&out, []string{"-addr", h.addr, "-line", "retial", "-ani", "+81312345678"})
	if err == nil || !strings.Contains(err.Error(), "AGISTATUS=FAILURE") || !strings.Contains(err.Error(), "unknown -line") {
		t.Errorf("a refused call gave %v; want an error naming AGISTATUS=FAILURE and the likely cause\n%s", err, out.String())
	}
	if err := callTo(&out, []string{"-addr", h.addr, "-line", "retial", "-expect", "AGISTATUS=FAILURE"}); err != nil {
		t.Errorf("a call expected to fail: %v", err)
	}

	t.Setenv("PATH", t.TempDir()) // no sox
	out.Reset()
	if err := callTo(&out, []string{"-addr", h.addr, "-ani", "anonymous", "-keys", "*", "-play"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "warning: -play needs sox's play command") {
		t.Errorf("-play without sox said nothing of it:\n%s", out.String())
	}
}

// TestVersionNamesTheRevision: a binary built from a git checkout says which commit it
// was built from (and when that commit was made), beside its module and Go release, so
// that an administrator can tell which source runs.
func TestVersionNamesTheRevision(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): no revision to compare", err)
	}
	bin := filepath.Join(t.TempDir(), "idv")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"idv ", "module   github.com/idv-project/idv", "revision " + strings.TrimSpace(string(head)) + " (", "committed 20", "go       go1."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("idv version lacks %q:\n%s", want, out)
		}
	}
}

// TestHelpHidesInternalFlags: -h lists a command's flags for people, not the flags idv
// passes to its own child processes (idv loadtest's -serve-baseline and the like).
func TestHelpHidesInternalFlags(t *testing.T) {
	fs := newFlagSet("loadtest", "[flags]", "Acts as many Asterisk instances.")
	fs.Int("c", 50, "calls in progress at once")
	fs.String("serve-baseline", "", internal+" serve the baseline on this address")
	var out strings.Builder
	fs.SetOutput(&out)
	fs.Usage()
	if !strings.Contains(out.String(), "-c int") || !strings.Contains(out.String(), "(default 50)") ||
		strings.Contains(out.String(), "serve-baseline") || strings.Contains(out.String(), internal) {
		t.Errorf("idv loadtest -h:\n%s", out.String())
	}
}
