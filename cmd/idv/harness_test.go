package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idv-project/idv/app"
	"github.com/idv-project/idv/internal/testlog"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// harness is a running idv service — real FastAGI over TCP, real HTTP CRM, real SQLite —
// as cmd/idv wires it from a config file.
type harness struct {
	t    testing.TB
	svc  *app.App
	addr string
	logs *testlog.Buffer
	db   string
}

// testConfig is the configuration the end-to-end tests run: the documented defaults
// with lines for each rule under test: the log level, the [store] keys, the CRM's base URL.
const testConfig = `
[agi]
listen = "127.0.0.1:0"
[log]
level = %q
format = "json"
[democrm]
enabled = false
[sounds]
dir = ""
[web]
listen = "127.0.0.1:0"
%s
[store]
%s
[crm]
base_url = %q
request_timeout = "300ms"

[lines.default]
crm_budget = "2s"
[lines.default.routes]
opted_out = "goto:unauthenticated,s,1"
error = "queue:fallback"

[lines.retail]
dnis = ["1000"]
verify = true
[lines.retail.routes]
verified = "goto:selfservice,s,1"
identified = "queue:retail"
unidentified = "queue:retail"
opted_out = "queue:retail"

[lines.noani]
ani_lookup = false

[lines.short]
id_max_digits = 6
identify_attempts = 2
opt_out_key = ""
`

// testStoreKeys are more [store] keys for the next harness.
var testStoreKeys = ""

// testStore is the back end the harness records to.
var testStore = store.SQLite

// testDSN, when set, is the PostgreSQL database of the next harnesses (instances that
// share one); else each gets its own.
var testDSN = ""

// testWeb is the rest of the [web] table.
var testWeb = "open = true"

// testLogLevel is debug for tests (every step is asserted on) and quieter for benchmarks.
var testLogLevel = "debug"

// newHarness starts idv against the CRM at crmURL ("" = a fresh demo CRM).
func newHarness(t testing.TB, crmURL string, extra ...string) *harness {
	t.Helper()
	if crmURL == "" {
		crm := httptest.NewServer(demo.New(demo.Seed).Handler())
		t.Cleanup(crm.Close)
		crmURL = crm.URL
	}
	db := filepath.Join(t.TempDir(), "idv.db")
	storeKeys := fmt.Sprintf("path = %q", db)
	if testStore != store.SQLite {
		dsn := testDSN
		if dsn == "" {
			_, dsn = storetest.DSN(t, testStore)
		}
		storeKeys = fmt.Sprintf("driver = %q\ndsn = %q", testStore, dsn)
	}
	storeKeys += "\n" + testStoreKeys
	text := fmt.Sprintf(testConfig, testLogLevel, testWeb, storeKeys, crmURL) + strings.Join(extra, "\n")
	cfg, err := config.Parse("test.toml", text)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	svc, err := app.Start(context.Background(), cfg, app.NewLogger(cfg.Log, logs))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, svc: svc, addr: svc.AGIAddr().String(), logs: logs, db: db}
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.svc != nil {
		h.svc.Shutdown()
		h.svc = nil
	}
}

// call places one call and returns what Asterisk saw and the stored record.
func (h *harness) call(c agitest.Caller) (*agitest.Result, *flow.Interaction) {
	h.t.Helper()
	res, err := c.Call(context.Background(), h.addr)
	if err != nil {
		h.t.Fatalf("call: %v\nlogs:\n%s", err, h.logs)
	}
	id := res.Var("IDV_INTERACTION")
	if id == "" {
		return res, nil
	}
	// The server closes the connection after its last write to the store, so the record
	// is complete once the stand-in has seen the connection end.
	in, err := h.svc.Store.Interaction(context.Background(), id)
	if err != nil {
		h.t.Fatalf("record of %s: %v", id, err)
	}
	return res, in
}
