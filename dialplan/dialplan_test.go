package dialplan

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/idv-project/idv/flow"
)

// TestCheckFindsTyposWithFileAndLine: a dialplan with a mistyped line (in both the
// ?line= and the argument form), an unknown script and a goto: route to a missing
// context is reported with file and line number; the good calls, a local AGI script, an
// EAGI, comments and a line made at run time are not errors, and an #include is read.
func TestCheckFindsTyposWithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "extensions.conf")
	os.WriteFile(main, []byte(`[globals]
IDV=127.0.0.1:4573
#include "idv-more.conf"
#tryinclude missing-local.conf

[idv-inbound]
exten => 1000,1,AGI(agi://${IDV}/idv?line=retail)
 same => n,AGI(agi://${IDV}/idv?line=retial)   ; a typo
 same => n,AGI(agi://${IDV}/idv,retial)
 same => n,AGI(agi://${IDV}/idv)
 same => n,agi(hagi://idv.example.com/identify?line=default&x=1)
 same => n,AGI(agi://${IDV}/verfy?line=retail)
 same => n,AGI(/var/lib/asterisk/agi-bin/local.sh,retial)
 same => n,EAGI(agi://${IDV}/idv?line=nosuch)
 same => n,AGI(agi://${IDV}/idv?line=${LINE})
; same => n,AGI(agi://${IDV}/idv?line=commented)
`), 0o644)
	os.WriteFile(filepath.Join(dir, "idv-more.conf"), []byte("[idv-selfservice]\nexten => s,1,GotoIf($[${X}]?a,b,c:d,e,f)\n same => n,AGI(agi://h/agent)\n"), 0o644)
	plan, err := Read(main)
	if err != nil {
		t.Fatal(err)
	}
	retail := &flow.Line{Name: "retail", Routes: flow.Routes{Verified: flow.Route{Kind: flow.RouteGoto, Context: "idv-selfservice", Extension: "s", Priority: "1"},
		OptedOut: flow.Route{Kind: flow.RouteGoto, Context: "unauthenticated", Extension: "s", Priority: "1"}}}
	lines := flow.Lines{ByName: map[string]*flow.Line{"default": {Name: "default"}, "retail": retail}}
	var got []string
	for _, p := range plan.Check(lines, []string{"idv", "identify", "verify", "agent"}, "idv.toml") {
		got = append(got, p.String())
	}
	want := []string{
		main + `:8: AGI(agi://${IDV}/idv?line=retial): service line "retial" is not configured (lines: default, retail); idv answers FAILURE`,
		main + `:9: AGI(agi://${IDV}/idv,retial): service line "retial" is not configured (lines: default, retail); idv answers FAILURE`,
		main + `:12: AGI(agi://${IDV}/verfy?line=retail): idv serves no script "verfy" (scripts: idv, identify, verify, agent)`,
		main + `:15: warning: AGI(agi://${IDV}/idv?line=${LINE}): the script or line is made at run time; not checked`,
		`idv.toml: lines.retail.routes.opted_out: "goto:unauthenticated,s,1" goes to context "unauthenticated", which the dialplan does not define`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(plan.Calls) != 8 {
		t.Errorf("%d AGI calls read, want 8 (the included file's agent call counted)", len(plan.Calls))
	}
}

// TestReadNamesAMissingFile: a dialplan that cannot be read is an error naming it; a
// missing #include too, with the including file and line.
func TestReadNamesAMissingFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(filepath.Join(dir, "none.conf")); err == nil || !strings.Contains(err.Error(), "none.conf") {
		t.Errorf("missing file: %v", err)
	}
	main := filepath.Join(dir, "extensions.conf")
	os.WriteFile(main, []byte("[a]\n#include gone.conf\n"), 0o644)
	if _, err := Read(main); err == nil || !strings.Contains(err.Error(), main+":2") || !strings.Contains(err.Error(), "gone.conf") {
		t.Errorf("missing include: %v", err)
	}
}

// TestReadEndsOnHostileFiles: includes that fan out through symlinks are read once each,
// a FIFO or a device is refused instead of read for ever, a line over the limit is an
// error that names the file and where, and "#INCLUDE<TAB>file" is read as Asterisk reads
// it.
func TestReadEndsOnHostileFiles(t *testing.T) {
	dir := t.TempDir()
	fan := filepath.Join(dir, "fan")
	os.Mkdir(fan, 0o755)
	os.WriteFile(filepath.Join(fan, "f.conf"), []byte("#tryinclude s1/f.conf\n#tryinclude s2/f.conf\n[idv-x]\n"), 0o644)
	os.Symlink(".", filepath.Join(fan, "s1"))
	os.Symlink(".", filepath.Join(fan, "s2"))
	if p, err := Read(filepath.Join(fan, "f.conf")); err != nil || len(p.Contexts) != 1 {
		t.Errorf("fan-out through symlinks: %v, %v", p, err)
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err == nil {
		os.WriteFile(filepath.Join(dir, "f2.conf"), []byte("#include fifo\n"), 0o644)
		if _, err := Read(filepath.Join(dir, "f2.conf")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a FIFO include: %v", err)
		}
	}

	long := filepath.Join(dir, "long.conf")
	os.WriteFile(long, []byte("[a]\nexten => s,1,NoOp("+strings.Repeat("x", 2<<20)+")\n"), 0o644)
	if _, err := Read(long); err == nil || !strings.Contains(err.Error(), "after line 1") {
		t.Errorf("a line over the limit: %v", err)
	}

	os.WriteFile(filepath.Join(dir, "b.conf"), []byte("[idv-b]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.conf"), []byte("#INCLUDE\tb.conf\n"), 0o644)
	if p, err := Read(filepath.Join(dir, "c.conf")); err != nil || p.Contexts["idv-b"] == (Pos{}) {
		t.Errorf("#INCLUDE with a tab: %v, %v", p, err)
	}
}
