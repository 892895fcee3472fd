package deploy

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/config"
)

// TestSystemdUnit: the unit runs idv as a non-root user with the config it checks first,
// reloads with SIGHUP, and gives idv more time to drain than idv itself takes.
func TestSystemdUnit(t *testing.T) {
	text, err := os.ReadFile("systemd/idv.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string]string{}
	for _, l := range strings.Split(string(text), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			unit[k] = v
		}
	}
	if u := unit["User"]; u == "" || u == "root" {
		t.Errorf("User=%q, want a system user", u)
	}
	if !strings.Contains(unit["ExecReload"], "-HUP $MAINPID") {
		t.Errorf("ExecReload=%q, want SIGHUP", unit["ExecReload"])
	}
	if unit["ExecStart"] != "/usr/local/bin/idv serve -config /etc/idv/config.toml" ||
		unit["ExecStartPre"] != "/usr/local/bin/idv check -config /etc/idv/config.toml" {
		t.Errorf("ExecStart=%q ExecStartPre=%q", unit["ExecStart"], unit["ExecStartPre"])
	}
	if unit["Restart"] != "on-failure" {
		t.Errorf("Restart=%q", unit["Restart"])
	}
	stop, err := time.ParseDuration(strings.TrimSpace(unit["TimeoutStopSec"]) + "s")
	if err != nil || stop <= config.Defaults().AGI.ShutdownTimeout {
		t.Errorf("TimeoutStopSec=%s must exceed idv's shutdown_timeout %s", unit["TimeoutStopSec"], config.Defaults().AGI.ShutdownTimeout)
	}
	if !strings.Contains(unit["ReadWritePaths"], "/var/lib/idv") || unit["WorkingDirectory"] != "/var/lib/idv" {
		t.Error("the database directory must be writable and the working directory")
	}
}
