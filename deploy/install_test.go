package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/idv-project/idv/config"
)

// docBlock returns the fenced code block that follows the line starting with marker (an
// HTML comment, invisible once rendered) in a Markdown file.
func docBlock(t *testing.T, path, marker string) string {
	t.Helper()
	text := confText(t, path)
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("%s has no %q", path, marker)
	}
	rest := text[i:]
	rest = rest[strings.Index(rest, "\n")+1:]
	open := strings.Index(rest, "```")
	if open < 0 || strings.TrimSpace(rest[:open]) != "" {
		t.Fatalf("%s: no code block right after %q", path, marker)
	}
	body := rest[open:]
	body = body[strings.Index(body, "\n")+1:]
	end := strings.Index(body, "```")
	if end < 0 {
		t.Fatalf("%s: the block after %q is not closed", path, marker)
	}
	return body[:end]
}

// rooted rewrites a shell script's absolute /etc, /usr and /var paths under root, and
// drops the group and owner options naming the idv user, which a test machine lacks.
// Nothing else of the script changes.
func rooted(script, root string) string {
	script = regexp.MustCompile(`(^|[\s"'=|:])/(etc|usr|var)/`).ReplaceAllString(script, "${1}"+root+"/$2/")
	return regexp.MustCompile(`\s-[og] idv\b`).ReplaceAllString(script, "")
}

// TestInstallStepsPassCheck follows docs/asterisk.md's install steps literally, under a
// temporary root instead of /, from the repository as an administrator would: the
// installed idv check passes on the installed configuration, the prompts it checks are
// where sounds.dir points, and the database lands where the systemd unit lets idv write.
func TestInstallStepsPassCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds idv")
	}
	script := docBlock(t, "../docs/asterisk.md", "<!-- install:")
	// The root has what every systemd host has before idv; the steps make the rest.
	root := t.TempDir()
	for _, dir := range []string{"etc/systemd/system", "usr/local/bin", "var/lib"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := exec.Command("bash", "-euc", rooted(script, root))
	run.Dir = ".."
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("the install steps failed: %v\n%s\nsteps run:\n%s", err, out, rooted(script, root))
	}

	cfgPath := filepath.Join(root, "etc/idv/config.toml")
	out, err := exec.Command(filepath.Join(root, "usr/local/bin/idv"), "check", "-config", cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("idv check -config %s: %v\n%s", cfgPath, err, out)
	}
	if !strings.Contains(string(out), ": OK") {
		t.Errorf("idv check said:\n%s", out)
	}

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "usr/share/idv/sounds"); cfg.Sounds.Dir != want {
		t.Errorf("sounds.dir = %s, want %s", cfg.Sounds.Dir, want)
	}
	unit := confText(t, filepath.Join(root, "etc/systemd/system/idv.service"))
	writable := regexp.MustCompile(`(?m)^ReadWritePaths=(.*)$`).FindStringSubmatch(unit)
	if writable == nil {
		t.Fatal("the installed unit has no ReadWritePaths")
	}
	inside := false
	for _, dir := range strings.Fields(writable[1]) {
		if strings.HasPrefix(cfg.Store.Path, filepath.Join(root, dir)+"/") {
			inside = true
		}
	}
	if !inside {
		t.Errorf("the database %s is outside the unit's ReadWritePaths=%s (under %s): idv could not write it", cfg.Store.Path, writable[1], root)
	}
	if !strings.Contains(unit, "-config /etc/idv/config.toml") {
		t.Error("the installed unit does not run the installed configuration")
	}
	if fi, err := os.Stat(cfgPath); err != nil || fi.Mode().Perm()&0o007 != 0 {
		t.Errorf("config.toml (CRM credentials, password hashes) is readable by everyone: %v", fi.Mode())
	}
}
