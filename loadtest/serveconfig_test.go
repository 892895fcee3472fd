package loadtest

import (
	"path/filepath"
	"testing"

	"github.com/idv-project/idv/config"
)

// TestServeConfigIsAConfigIdvAccepts: idv serve reads the file the load test writes,
// with FastAGI on the child's address, the demo CRM of the run, SQLite in the run's
// directory, no web server and limits no load run reaches.
func TestServeConfigIsAConfigIdvAccepts(t *testing.T) {
	dir := t.TempDir()
	path, err := serveConfig(dir, "127.0.0.1:40123", "127.0.0.1:40124")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("idv does not accept the load test's config: %v", err)
	}
	for _, c := range []struct{ key, got, want string }{
		{"agi.listen", cfg.AGI.Listen, "127.0.0.1:40123"},
		{"crm.base_url", cfg.CRM.BaseURL, "http://127.0.0.1:40124"},
		{"store.path", cfg.Store.Path, filepath.Join(dir, "idv.db")},
		{"web.listen", cfg.Web.Listen, ""},
		{"log.format", cfg.Log.Format, "json"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.key, c.got, c.want)
		}
	}
	if cfg.DemoCRM.Enabled {
		t.Error("democrm.enabled: the demo CRM runs as its own process, not inside idv")
	}
	if cfg.Security.LockoutFailures < 1e9 || cfg.Security.PerANI < 1e9 {
		t.Errorf("security: lockout after %d failures, %d identifications per ANI: a load run reaches them",
			cfg.Security.LockoutFailures, cfg.Security.PerANI)
	}
}
