package main

import (
	"os"
	"path/filepath"
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
		if warned != tc.warn || !strings.Contains(out.String(), path+": OK") {
			t.Errorf("allow = %s: idv check said\n%s", tc.allow, out.String())
		}
	}
}
