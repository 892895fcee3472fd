package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCheckWarnsOfAnOpenAGIPort: idv check passes a configuration whose FastAGI port
// other hosts can reach with agi.allow empty, and warns naming agi.allow; with Asterisk's
// address in agi.allow it says nothing of it.
func TestCheckWarnsOfAnOpenAGIPort(t *testing.T) {
	for _, tc := range []struct {
		allow string
		warn  bool
	}{{"[]", true}, {`["10.1.2.3"]`, false}} {
		path := filepath.Join(t.TempDir(), "idv.toml")
		os.WriteFile(path, []byte("[agi]\nlisten = \"0.0.0.0:4573\"\nallow = "+tc.allow+"\n[sounds]\ndir = \"\"\n"), 0o600)
		var out strings.Builder
		if err := check([]string{"-config", path}, &out); err != nil {
			t.Fatal(err)
		}
		warned := strings.Contains(out.String(), path+": warning: agi.allow: empty while agi.listen \"0.0.0.0:4573\"")
		// sounds.dir = "" skips the prompts' check, and the OK says so.
		if warned != tc.warn || !strings.Contains(out.String(), path+": OK — 1 line, prompts not checked") {
			t.Errorf("allow = %s: idv check said\n%s", tc.allow, out.String())
		}
	}
}

// TestCheckDialplanAgainstTheShippedFiles: the shipped dialplan and config.toml agree
// (every AGI line and script exists, every goto: route's context is defined); a copy
// with a mistyped line fails, naming the file, the line number and the line.
func TestCheckDialplanAgainstTheShippedFiles(t *testing.T) {
	var out strings.Builder
	if err := check([]string{"-config", "../../config.toml", "-dialplan", "../../deploy/asterisk/extensions.conf"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "AGI calls into idv") || !strings.Contains(out.String(), "OK") {
		t.Errorf("idv check -dialplan said:\n%s", out.String())
	}

	dir := t.TempDir()
	for _, f := range []string{"extensions.conf", "extensions_idv.conf"} {
		data, err := os.ReadFile(filepath.Join("../../deploy/asterisk", f))
		if err != nil {
			continue // the sample may be one file
		}
		os.WriteFile(filepath.Join(dir, f), []byte(strings.Replace(string(data), "idv?line=retail", "idv?line=retial", 1)), 0o644)
	}
	out.Reset()
	err := check([]string{"-config", "../../config.toml", "-dialplan", filepath.Join(dir, "extensions.conf")}, &out)
	if err == nil || !strings.Contains(out.String(), `service line "retial" is not configured`) ||
		!regexp.MustCompile(`extensions(_idv)?\.conf:\d+: AGI\(`).MatchString(out.String()) {
		t.Errorf("a mistyped line: %v\n%s", err, out.String())
	}
}
