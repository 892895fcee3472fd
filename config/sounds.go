package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Sounds says where idv finds the prompts to check them at start-up, and in which
// languages they must exist. Asterisk plays them from its own sounds directory.
type Sounds struct {
	Dir       string   `toml:"dir"`
	Languages []string `toml:"languages"`
}

func (c *Config) checkSoundLanguages() error {
	if len(c.Sounds.Languages) == 0 {
		return c.fail("sounds.languages", "must list at least one language, e.g. [\"en\"]")
	}
	for _, l := range c.Sounds.Languages {
		if !validLanguage(l) {
			return c.fail("sounds.languages", "%q is not a language code such as \"en\" or \"pt_BR\"", l)
		}
	}
	return nil
}

// SoundFormats are the file extensions Asterisk can play a prompt from.
var SoundFormats = []string{"wav", "ulaw", "alaw", "gsm", "sln", "sln16", "g722", "wav16"}

// CheckSounds makes sure that every prompt a line names exists in every language of
// sounds.languages under sounds.dir, so that a missing file is found at start-up rather
// than by a caller. An empty sounds.dir skips the check (prompts live on another host).
func (c *Config) CheckSounds() error {
	dir := c.Sounds.Dir
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return c.fail("sounds.dir", "%q is not a directory (set sounds.dir = \"\" when the prompts are only on the Asterisk host)", dir)
	}
	var missing []string
	lines := make([]string, 0, len(c.Lines.ByName))
	for n := range c.Lines.ByName {
		lines = append(lines, n)
	}
	sort.Strings(lines)
	for _, n := range lines {
		names := c.Lines.ByName[n].PromptsInUse()
		keys := make([]string, 0, len(names))
		for k := range names {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			prompt := names[k]
			if prompt == "" {
				continue
			}
			for _, lang := range c.Sounds.Languages {
				if !soundExists(filepath.Join(dir, lang, prompt)) {
					missing = append(missing, fmt.Sprintf("lines.%s.%s: %s/%s/%s.{%s}", n, k, dir, lang, prompt,
						strings.Join(SoundFormats, ",")))
				}
			}
		}
	}
	if len(missing) > 0 {
		return &Error{File: c.File, Reason: fmt.Sprintf("%d prompt files missing:\n  %s", len(missing), strings.Join(missing, "\n  "))}
	}
	return nil
}

func soundExists(base string) bool {
	for _, ext := range SoundFormats {
		if st, err := os.Stat(base + "." + ext); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}
