package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/crm/demo"
)

// TestEveryKeyIsClassified: each key of config.toml says whether a reload applies it or
// only a restart does; a new key fails here until it is classified.
func TestEveryKeyIsClassified(t *testing.T) {
	keys := config.Keys()
	for _, k := range keys {
		if _, ok := restart[k]; !ok {
			t.Errorf("config key %s is not classified in restart (reload or restart?)", k)
		}
	}
	for k := range restart {
		if !slices.Contains(keys, k) {
			t.Errorf("restart classifies %s, which config.toml does not have", k)
		}
	}
}

// TestReloadAppliesWhatItSays: privacy.record_identifier reaches the next call at once,
// and the log does not claim it needs a restart; agi.listen keeps its running value and
// the log names it.
func TestReloadAppliesWhatItSays(t *testing.T) {
	crmAddr := startDemoCRM(t)
	db := filepath.Join(t.TempDir(), "idv.db")
	text := func(record bool, listen string) string {
		return site{AGI: fmt.Sprintf("listen = %q", listen), Privacy: fmt.Sprintf("record_identifier = %t", record), DB: db,
			CRM: "http://" + crmAddr, Extra: "[lines.default]\nani_lookup = false\n"}.text(t)
	}
	cfg, err := config.Parse("t.toml", text(false, "127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	a, logs := startSite(t, cfg)
	identifier := func() string {
		t.Helper()
		res, err := agitest.Caller{ANI: "anonymous", Keys: "100235#"}.Call(context.Background(), a.AGIAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		in, err := a.Store.Interaction(context.Background(), res.Var("IDV_INTERACTION"))
		if err != nil {
			t.Fatal(err)
		}
		return in.Identifier
	}
	if got := identifier(); got != "" {
		t.Fatalf("identifier %q recorded with record_identifier = false", got)
	}
	next, err := config.Parse("t.toml", text(true, "127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	running, err := a.Reload(next)
	if err != nil {
		t.Fatal(err)
	}
	if got := identifier(); got != "100235" {
		t.Errorf("after the reload the identifier recorded is %q, want 100235", got)
	}
	if running.AGI.Listen != "127.0.0.1:0" {
		t.Errorf("agi.listen in force after the reload: %q, want the running value", running.AGI.Listen)
	}
	l := logs.String()
	if !strings.Contains(l, `"key":"agi.listen"`) || strings.Contains(l, `"key":"privacy.record_identifier"`) {
		t.Errorf("the reload's log does not say what needs a restart:\n%s", l)
	}
}

func startDemoCRM(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(demo.New(demo.Seed).Handler())
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// TestReloadLetsReportsNameANewLine: a line added by a reload can be named in a report
// filter at once, before its first call; before the reload it is refused as unknown.
func TestReloadLetsReportsNameANewLine(t *testing.T) {
	s := site{Web: `listen = "127.0.0.1:0"`}
	a, _ := startSite(t, s.config(t))
	get := func() int {
		resp, err := http.Get("http://" + a.WebAddr().String() + "/api/reports/outcomes?range=today&format=csv&line=business")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusBadRequest {
		t.Fatalf("a line nobody configured: %d, want 400", code)
	}
	s.Extra = "[lines.business]\nverify = true"
	next, err := config.Parse("t.toml", s.text(t))
	if err != nil {
		t.Fatal(err)
	}
	next.Store = a.cfg.Store // the same database
	if _, err := a.Reload(next); err != nil {
		t.Fatal(err)
	}
	if code := get(); code != http.StatusOK {
		t.Errorf("the line added by the reload: %d, want 200", code)
	}
}
