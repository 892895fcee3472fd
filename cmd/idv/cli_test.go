package main

import (
	"os"
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
