package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocumentedFlagsExist: every idv command line in the README and docs/ writes its
// flags as -h shows them (one dash), and names only flags the command has, so that a
// line copied from the docs runs.
func TestDocumentedFlagsExist(t *testing.T) {
	bin := idvBinary(t)
	flagsOf := map[string]map[string]bool{}
	known := func(cmd string) map[string]bool {
		if f, ok := flagsOf[cmd]; ok {
			return f
		}
		out, _ := exec.Command(bin, cmd, "-h").CombinedOutput() // -h exits 0 or 2; the text is what counts
		f := map[string]bool{"h": true}
		for _, m := range regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(out), -1) {
			f[m[1]] = true
		}
		flagsOf[cmd] = f
		return f
	}
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	invocation := regexp.MustCompile(`\bidv (serve|call|democrm|check|report|loadtest|backup|hash-password)\b([^#\x60|;&]*)`)
	flagLike := regexp.MustCompile(`^--?[a-z]`)
	checked := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(data), "\n") {
			for _, m := range invocation.FindAllStringSubmatch(line, -1) {
				for _, tok := range strings.Fields(m[2]) {
					if !flagLike.MatchString(tok) {
						continue
					}
					checked++
					name, _, _ := strings.Cut(strings.TrimPrefix(tok, "-"), "=")
					switch {
					case strings.HasPrefix(tok, "--"):
						t.Errorf("%s:%d: %q: write idv's flags with one dash, as idv %s -h shows them", file, n+1, tok, m[1])
					case !known(m[1])[name]:
						t.Errorf("%s:%d: idv %s has no flag -%s", file, n+1, m[1], name)
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d flags found in the docs; the pattern misses idv's command lines", checked)
	}
}
