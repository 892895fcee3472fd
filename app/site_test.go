package app

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/internal/testlog"
	"github.com/rs/zerolog"
)

// site is the configuration of an App under test: FastAGI on a free loopback port, JSON
// logs, SQLite in a temporary directory, the given CRM, no demo CRM, no prompt files
// checked and no web server, each unless its table's extra lines say otherwise.
type site struct {
	AGI, Privacy, Web, Extra string // extra lines of [agi], [privacy], [web]; whole tables after
	Log                      string // extra lines of [log]
	DB                       string // "" for a new database
	CRM                      string // base_url; "" for a CRM that is never called
}

// config parses the site's configuration.
func (s site) config(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse("t.toml", s.text(t))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (s site) text(t *testing.T) string {
	t.Helper()
	if s.DB == "" {
		s.DB = filepath.Join(t.TempDir(), "idv.db")
	}
	if s.CRM == "" {
		s.CRM = "http://127.0.0.1:1"
	}
	if s.AGI == "" {
		s.AGI = `listen = "127.0.0.1:0"`
	}
	if s.Web == "" {
		s.Web = `listen = ""`
	}
	return fmt.Sprintf(`[agi]
%s
[log]
format = "json"
%s
[privacy]
%s
[store]
path = %q
[democrm]
enabled = false
[crm]
base_url = %q
[sounds]
dir = ""
[web]
%s
%s`, s.AGI, s.Log, s.Privacy, s.DB, s.CRM, s.Web, s.Extra)
}

// startSite starts an App on cfg, shut down when the test ends, and returns it with its
// log.
func startSite(t *testing.T, cfg *config.Config) (*App, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	a, err := Start(context.Background(), cfg, zerolog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	return a, logs
}
