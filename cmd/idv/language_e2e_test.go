package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/config"
)

func TestLanguages(t *testing.T) {
	h := newHarness(t, "", "[lines.japan]\nlanguage = \"ja\"")
	t.Run("a line's language is set before the first prompt", func(t *testing.T) {
		res, in := h.call(agitest.Caller{Script: "idv?line=japan", ANI: "+81312345679"})
		if len(res.Prompts) == 0 || res.Prompts[0].Lang != "ja" || strings.Join(res.Languages, ",") != "ja" || in.Language != "ja" {
			t.Errorf("prompts %+v languages set %q record %q", res.Prompts, res.Languages, in.Language)
		}
	})
	t.Run("the customer's language from the CRM switches the rest of the call", func(t *testing.T) {
		res, in := h.call(agitest.Caller{ANI: "+81312345678", Language: "en", Keys: "1234#"})
		var welcome, secret string
		for _, p := range res.Prompts {
			switch p.File {
			case "idv/welcome":
				welcome = p.Lang
			case "idv/enter-secret":
				secret = p.Lang
			}
		}
		if welcome != "en" || secret != "ja" || in.Language != "ja" || res.Var("IDV_STATUS") != "VERIFIED" {
			t.Errorf("welcome in %q, secret prompt in %q, record %q", welcome, secret, in.Language)
		}
	})
	t.Run("a language without prompts is not switched to", func(t *testing.T) {
		res, in := h.call(agitest.Caller{ANI: "+4930123456", Language: "en"})
		if len(res.Languages) != 0 || in.Language != "en" {
			t.Errorf("languages set %q, record %q", res.Languages, in.Language)
		}
	})
}

func TestMissingSoundsAreReportedAtStartUp(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sounds", "en", "idv"), 0o755)
	os.WriteFile(filepath.Join(dir, "sounds", "en", "idv", "welcome.wav"), []byte("RIFF"), 0o644)
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("[sounds]\nlanguages = [\"en\"]\n"), 0o644)
	err := serve([]string{"-config", path})
	if err == nil || !strings.Contains(err.Error(), "lines.default.prompts.enter_id: "+filepath.Join(dir, "sounds")+"/en/idv/enter-id.{wav") ||
		strings.Contains(err.Error(), "prompts.welcome:") {
		t.Errorf("serve = %v", err)
	}
	cfg, err := config.Load("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckSounds(); err != nil {
		t.Errorf("the shipped config names prompts the repository lacks: %v", err)
	}
}
