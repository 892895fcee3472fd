package config

import (
	"os"
	"testing"
)

// FuzzParse: any file gives a configuration or an error naming the file, never a panic; a
// configuration it accepts has a default line.
func FuzzParse(f *testing.F) {
	shipped, _ := os.ReadFile("../config.toml")
	f.Add(string(shipped))
	f.Add("[lines.a]\nverify = true\n[lines.a.routes]\nverified = \"goto:x,s,1\"")
	f.Add("[[report.schedule]]\nname=\"a\"\ncron=\"@daily\"\nreport=\"outcomes\"\nrange=\"yesterday\"\nformats=[\"pdf\"]\ndirectory=\"/tmp\"")
	f.Add("[agi]\nlisten = 4573")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := Parse("fuzz.toml", text)
		if err != nil {
			if len(err.Error()) < len("fuzz.toml") || err.Error()[:len("fuzz.toml")] != "fuzz.toml" {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if cfg.Lines.ByName["default"] == nil {
			t.Fatal("accepted a configuration without a default line")
		}
	})
}
