package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/idv-project/idv/app"
	"github.com/idv-project/idv/internal/testlog"

	"go.uber.org/goleak"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
)

// faultyCRM serves the demo CRM but breaks the operations op matches.
func faultyCRM(t *testing.T, broken func(r *http.Request) bool, fault http.HandlerFunc) string {
	t.Helper()
	real := demo.New(demo.Seed).Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken(r) {
			fault(w, r)
			return
		}
		real.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func verifyOp(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/verify") }

func TestBackendFailuresRouteTheCaller(t *testing.T) {
	// A port nothing listens on: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + ln.Addr().String()
	ln.Close()

	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
	}
	body := func(s string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(s)) }
	}
	// hang never answers; it returns only when idv gives up and closes the request,
	// so the test finishes only if idv enforces its timeouts. (The server notices the
	// client leaving only once the request body has been read.)
	hang := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}
	huge := func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"customers":[{"id":"1","name":"`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for i := 0; i < 32 && r.Context().Err() == nil; i++ {
			w.Write(chunk)
		}
	}
	always := func(*http.Request) bool { return true }

	cases := []struct {
		name      string
		crm       string
		line      string
		keys      string
		ani       string
		status    string
		customer  string
		crmResult string // the CRM event's result in the record and the log
	}{
		{"CRM refusing connections", downURL, "", "", "+81312345679", "UNIDENTIFIED", "", "connect"},
		{"CRM answering 500", faultyCRM(t, always, status(500)), "", "", "+81312345679", "UNIDENTIFIED", "", "http_500"},
		{"CRM answering 429", faultyCRM(t, always, status(429)), "", "", "+81312345679", "UNIDENTIFIED", "", "http_429"},
		{"CRM answering garbage", faultyCRM(t, always, body(`<html>oops`)), "", "", "+81312345679", "UNIDENTIFIED", "", "bad_json"},
		{"CRM answering JSON of another shape", faultyCRM(t, always, body(`{"data":[]}`)), "", "", "+81312345679", "UNIDENTIFIED", "", "bad_json"},
		{"CRM answering a huge body", faultyCRM(t, always, huge), "", "", "+81312345679", "UNIDENTIFIED", "", "too_large"},
		{"CRM never answering: request timeout", faultyCRM(t, always, hang), "", "", "+81312345679", "UNIDENTIFIED", "", "timeout"},
		{"CRM slower than the call's budget", faultyCRM(t, always, hang), "tight", "", "+81312345679", "UNIDENTIFIED", "", "budget_exhausted"},
		{"identifier lookup failing", faultyCRM(t, func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/customers/") }, status(503)),
			"", "100235#", "anonymous", "UNIDENTIFIED", "", "http_503"},
		{"verification failing after identification", faultyCRM(t, verifyOp, status(502)), "", "1234#", "+81312345678", "IDENTIFIED", "100234", "http_502"},
		{"verification never answering", faultyCRM(t, verifyOp, hang), "", "1234#", "+81312345678", "IDENTIFIED", "100234", "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.crm, `[lines.tight]
crm_budget = "100ms"`)
			script := "idv"
			if tc.line != "" {
				script += "?line=" + tc.line
			}
			res, in := h.call(agitest.Caller{Script: script, ANI: tc.ani, Keys: tc.keys})
			method := "NONE"
			if tc.customer != "" {
				method = "ANI"
			}
			attempts := "0/0"
			switch {
			case tc.customer != "":
				attempts = "0/1"
			case tc.keys != "":
				attempts = "1/0"
			}
			checkCall(t, res, in, want{status: tc.status, reason: "BACKEND_UNAVAILABLE", method: method, customer: tc.customer,
				attempts: attempts, apps: []string{"Queue(fallback)"}, prompts: []string{"idv/service-unavailable"}})
			var crmEvent *flow.Event
			for i := range in.Events {
				if in.Events[i].Kind == flow.EventCRM && string(in.Events[i].Result) == tc.crmResult {
					crmEvent = &in.Events[i]
				}
			}
			if crmEvent == nil {
				t.Errorf("record has no CRM event with result %q: %+v", tc.crmResult, in.Events)
			}
			if !strings.Contains(h.logs.String(), `"result":"`+tc.crmResult+`"`) {
				t.Errorf("log does not say %q:\n%s", tc.crmResult, h.logs)
			}
		})
	}
}

// TestHangupAtEveryStep hangs up at each point of the flow. Every call must leave a
// closed record with HANGUP and the variables set on the dead channel, and the server
// must leave no goroutine behind.
func TestHangupAtEveryStep(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) }) // after the harness's own cleanups
	h := newHarness(t, "")
	afterKey := func(k string) func(agitest.Command) bool {
		return func(c agitest.Command) bool {
			return c.Name() == "WAIT FOR DIGIT" && c.Reply == "200 result="+k
		}
	}
	cases := []struct {
		name     string
		caller   agitest.Caller
		status   string
		customer string
	}{
		{"during the welcome prompt", agitest.Caller{ANI: "anonymous", HangupOnPrompt: "idv/welcome"}, "UNIDENTIFIED", ""},
		{"right after answer, before any prompt", agitest.Caller{ANI: "anonymous",
			HangupAfter: func(c agitest.Command) bool { return c.Name() == "ANSWER" }}, "UNIDENTIFIED", ""},
		{"while the CRM looks up the number", agitest.Caller{ANI: "+81312345679",
			HangupAfter: func(c agitest.Command) bool { return c.Name() == "STREAM FILE" }}, "IDENTIFIED", "100235"},
		{"during the identifier prompt", agitest.Caller{ANI: "anonymous", HangupOnPrompt: "idv/enter-id"}, "UNIDENTIFIED", ""},
		{"while typing the identifier", agitest.Caller{ANI: "anonymous", Keys: "100!"}, "UNIDENTIFIED", ""},
		{"while the CRM checks the identifier", agitest.Caller{ANI: "anonymous", Keys: "100235#", HangupAfter: afterKey("35")}, "IDENTIFIED", "100235"},
		{"during the not-found prompt", agitest.Caller{ANI: "anonymous", Keys: "999#", HangupOnPrompt: "idv/not-found"}, "UNIDENTIFIED", ""},
		{"during the secret prompt", agitest.Caller{ANI: "+81312345678", HangupOnPrompt: "idv/enter-secret"}, "IDENTIFIED", "100234"},
		{"while typing the secret", agitest.Caller{ANI: "+81312345678", Keys: "12!"}, "IDENTIFIED", "100234"},
		{"while the CRM checks the secret", agitest.Caller{ANI: "+81312345678", Keys: "1234#", HangupAfter: afterKey("35")}, "VERIFIED", "100234"},
		{"during the secret-wrong prompt", agitest.Caller{ANI: "+81312345678", Keys: "9999#", HangupOnPrompt: "idv/secret-wrong"}, "IDENTIFIED", "100234"},
		{"during the verified prompt", agitest.Caller{ANI: "+81312345678", Keys: "1234#", HangupOnPrompt: "idv/verified"}, "VERIFIED", "100234"},
		{"during the transfer prompt", agitest.Caller{ANI: "+81312345679", HangupOnPrompt: "idv/transfer"}, "IDENTIFIED", "100235"},
		{"during the too-many-attempts prompt", agitest.Caller{ANI: "anonymous", Keys: "1#2#3#", HangupOnPrompt: "idv/too-many-attempts"}, "UNIDENTIFIED", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, in := h.call(tc.caller)
			if !res.HungUp || res.AGIStatus != "HANGUP" {
				t.Errorf("caller hung up %v, AGISTATUS %s; want a hang-up", res.HungUp, res.AGIStatus)
			}
			if in == nil {
				t.Fatal("no record")
			}
			if in.Reason != flow.ReasonHangup || string(in.Status) != tc.status || in.CustomerID != tc.customer || in.Ended.IsZero() {
				t.Errorf("record %s/%s customer %q ended %v; want %s/HANGUP customer %q, closed", in.Status, in.Reason,
					in.CustomerID, in.Ended, tc.status, tc.customer)
			}
			if res.Var("IDV_REASON") != "HANGUP" || res.Var("IDV_STATUS") != tc.status {
				t.Errorf("variables on the dead channel: IDV_STATUS=%s IDV_REASON=%s", res.Var("IDV_STATUS"), res.Var("IDV_REASON"))
			}
			if len(res.Apps) != 0 {
				t.Errorf("a hung-up call was routed: %q", res.Apps)
			}
			for _, c := range res.Commands {
				if c.Dead && strings.HasPrefix(c.Reply, "511") && c.Name() != "CHANNEL STATUS" && c.Name() != "STREAM FILE" && c.Name() != "WAIT FOR DIGIT" {
					t.Errorf("idv sent %q on a dead channel (511)", c.Line)
				}
			}
		})
	}
	t.Run("in the queue, after routing", func(t *testing.T) {
		res, in := h.call(agitest.Caller{ANI: "+81312345679", QueueHangup: true})
		if in.Reason != flow.ReasonNotRequired || in.Route != "queue:support,,,,300" || len(res.Apps) != 1 {
			t.Errorf("record %s route %q apps %q: a hang-up after routing keeps the outcome", in.Reason, in.Route, res.Apps)
		}
	})
}

func TestScripts(t *testing.T) {
	h := newHarness(t, "")
	t.Run("identify only: sets the variables, returns to the dialplan, never asks for the secret", func(t *testing.T) {
		res, in := h.call(agitest.Caller{Script: "identify", ANI: "+81312345678"})
		checkCall(t, res, in, want{status: "IDENTIFIED", reason: "OK", method: "ANI", customer: "100234", attempts: "0/0",
			goTo: "inbound,s,2", noCRM: "verify"})
	})
	t.Run("step-up verify of a caller identified earlier", func(t *testing.T) {
		res, in := h.call(agitest.Caller{Script: "verify", Keys: "1234#",
			Vars: map[string]string{"IDV_CUSTOMER_ID": "100234", "IDV_CUSTOMER_NAME": "佐藤 花子", "IDV_METHOD": "ANI"}})
		checkCall(t, res, in, want{status: "VERIFIED", reason: "OK", method: "ANI", customer: "100234", name: "佐藤 花子",
			attempts: "0/1", goTo: "inbound,s,2"})
	})
	t.Run("step-up verify failing", func(t *testing.T) {
		res, in := h.call(agitest.Caller{Script: "verify", Keys: "1#2#3#", Vars: map[string]string{"IDV_CUSTOMER_ID": "100234"}})
		checkCall(t, res, in, want{status: "IDENTIFIED", reason: "VERIFY_FAILED", method: "NONE", customer: "100234", attempts: "0/3"})
	})
	t.Run("step-up verify with nobody identified", func(t *testing.T) {
		res, in := h.call(agitest.Caller{Script: "verify", Keys: "1234#"})
		checkCall(t, res, in, want{status: "UNIDENTIFIED", reason: "NOT_FOUND", method: "NONE", attempts: "0/0"})
	})
	t.Run("unknown script: FAILURE, so the dialplan falls back", func(t *testing.T) {
		res, err := agitest.Caller{Script: "bogus"}.Call(context.Background(), h.addr)
		if err != nil {
			t.Fatal(err)
		}
		if res.AGIStatus != "FAILURE" || len(res.Vars) != 0 {
			t.Errorf("AGISTATUS %s vars %v, want FAILURE and nothing set", res.AGIStatus, res.Vars)
		}
		if !strings.Contains(h.logs.String(), "unknown agi script") {
			t.Error("log does not name the unknown script")
		}
	})
}

// TestDeadCRMTripsTheBreaker: once the CRM has failed breaker_failures times in a row, the
// next callers are routed without waiting for it.
func TestDeadCRMTripsTheBreaker(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	h := newHarness(t, dead, "")
	var results []string
	for range 7 {
		res, in := h.call(agitest.Caller{ANI: "+81312345679"})
		if res.Var("IDV_REASON") != "BACKEND_UNAVAILABLE" || len(res.Apps) != 1 {
			t.Fatalf("caller not routed: %v %v", res.Vars, res.Apps)
		}
		for _, ev := range in.Events {
			if ev.Kind == flow.EventCRM {
				results = append(results, string(ev.Result))
			}
		}
	}
	if strings.Join(results, " ") != "connect connect connect connect connect circuit_open circuit_open" {
		t.Errorf("CRM results %v", results)
	}
	if !strings.Contains(h.logs.String(), `"result":"circuit_open"`) {
		t.Error("the log does not say the breaker is open")
	}
}

// TestLockoutAcrossCalls: rejected secrets accumulate over calls; at the limit the
// customer is LOCKED without being asked again, and a right secret before it resets the
// count. Throttling stops a number that keeps typing identifiers.
func TestLockoutAcrossCalls(t *testing.T) {
	h := newHarness(t, "", "[security]\nverify_lockout_failures = 4\nidentify_per_ani = 3")
	call := func(keys string) (string, *agitest.Result) {
		res, in := h.call(agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679", Keys: keys})
		return string(in.Reason), res
	}
	if r, _ := call("1111#3333#4444#"); r != "VERIFY_FAILED" { // 3 failures
		t.Fatalf("first call %s", r)
	}
	r, res := call("5555#") // the 4th failure locks
	if r != "LOCKED" || res.Var("IDV_STATUS") != "IDENTIFIED" {
		t.Fatalf("second call %s %v", r, res.Vars)
	}
	r, res = call("2222#") // the right PIN, but locked: not even asked
	if r != "LOCKED" || strings.Contains(strings.Join(res.PromptFiles(), " "), "enter-secret") {
		t.Errorf("third call %s, prompts %v", r, res.PromptFiles())
	}
	// Throttling: one number trying customer numbers is stopped; withheld callers are
	// many people, so the per-number limit does not lump them together.
	for _, tc := range []struct{ ani, want string }{{"0398765432", "NOT_FOUND LOCKED"}, {"anonymous", "NOT_FOUND NOT_FOUND"}} {
		var reasons []string
		for range 2 {
			_, in := h.call(agitest.Caller{ANI: tc.ani, Keys: "901#902#"})
			reasons = append(reasons, string(in.Reason))
		}
		if got := strings.Join(reasons, " "); got != tc.want {
			t.Errorf("caller %s: reasons %s, want %s", tc.ani, got, tc.want)
		}
	}
}

// TestStoreDownStillRoutes: with the database gone, callers are still identified and
// routed, and the log says the record could not be written.
func TestStoreDownStillRoutes(t *testing.T) {
	h := newHarness(t, "")
	h.svc.Store.Close()
	res, err := agitest.Caller{ANI: "+81312345679"}.Call(context.Background(), h.addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Var("IDV_STATUS") != "IDENTIFIED" || len(res.Apps) != 1 || res.Apps[0] != "Queue(support,,,,300)" {
		t.Errorf("caller not served: %v %v", res.Vars, res.Apps)
	}
	if !strings.Contains(h.logs.String(), `"name":"record"`) || !strings.Contains(h.logs.String(), "database is closed") {
		t.Errorf("the log does not say the record failed:\n%s", h.logs)
	}
}

// TestAsteriskFailsMidCall: Asterisk closes the socket after each kind of command, or
// answers it with garbage. The call never hangs idv: the record is closed and says what
// happened, and the log names it.
func TestAsteriskFailsMidCall(t *testing.T) {
	caller := agitest.Caller{ANI: "+81312345678", Keys: "1234#"}
	// run places the call, then waits for idv to finish with it (Shutdown waits for calls)
	// and reads the record.
	run := func(t *testing.T, c agitest.Caller) (*agitest.Result, *flow.Interaction, string) {
		h := newHarness(t, "")
		res, err := c.Call(context.Background(), h.addr)
		if err != nil {
			t.Fatal(err)
		}
		h.stop()
		st, err := store.Open(context.Background(), store.SQLite, h.db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		id := res.Var("IDV_INTERACTION")
		if id == "" {
			return res, nil, h.logs.String()
		}
		in, err := st.Interaction(context.Background(), id)
		if err != nil {
			t.Fatalf("no record: %v", err)
		}
		return res, in, h.logs.String()
	}
	for _, kind := range []string{"ANSWER", "SET VARIABLE", "STREAM FILE", "WAIT FOR DIGIT", "EXEC", "GET VARIABLE"} {
		t.Run("socket closed after "+kind, func(t *testing.T) {
			c := caller
			c.CloseAfter = func(cmd agitest.Command) bool { return cmd.Name() == kind }
			_, in, logs := run(t, c)
			if in == nil {
				return // closed before idv could tell Asterisk the id
			}
			routed := kind == "EXEC" || kind == "GET VARIABLE"
			if in.Ended.IsZero() || (!routed && in.Reason != flow.ReasonHangup) || (routed && in.Route != "queue:support,,,,300") {
				t.Errorf("record %s route %q ended %v", in.Reason, in.Route, in.Ended)
			}
			if !routed && !strings.Contains(logs, "connection to asterisk lost") {
				t.Error("the log does not say the connection was lost")
			}
		})
	}
	for _, garbage := range []string{"200 result=abc", "999 what", "200", "HANGUPX"} {
		t.Run("garbage reply "+garbage, func(t *testing.T) {
			c := caller
			n := 0
			c.Mangle = func(cmd agitest.Command) string {
				if n++; n == 3 { // the reply to the first STREAM FILE
					return garbage
				}
				return ""
			}
			res, in, logs := run(t, c)
			if in == nil || in.Ended.IsZero() {
				t.Fatalf("record %v", in)
			}
			if len(res.Apps) == 0 && in.Reason != flow.ReasonHangup {
				t.Errorf("neither routed nor recorded as gone: %s", in.Reason)
			}
			if !strings.Contains(logs, "agi STREAM FILE") {
				t.Errorf("the log does not name the bad reply:\n%s", logs)
			}
		})
	}
}

// TestFlappingCRM: a CRM that fails every other request serves every caller either way —
// identified, or routed with BACKEND_UNAVAILABLE — and never trips the breaker (the
// failures are not consecutive).
func TestFlappingCRM(t *testing.T) {
	var n atomic.Int32
	url := faultyCRM(t, func(r *http.Request) bool { return n.Add(1)%2 == 0 }, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	h := newHarness(t, url)
	counts := map[string]int{}
	for range 10 {
		res, in := h.call(agitest.Caller{ANI: "+81312345679"})
		if len(res.Apps) != 1 || in.Ended.IsZero() {
			t.Fatalf("caller not routed: %v", res.Vars)
		}
		counts[string(in.Reason)]++
	}
	if counts["NOT_REQUIRED"] != 5 || counts["BACKEND_UNAVAILABLE"] != 5 {
		t.Errorf("outcomes %v, want five of each", counts)
	}
	if strings.Contains(h.logs.String(), "circuit_open") {
		t.Error("alternating failures tripped the breaker")
	}
}

// TestLockedStoreDelaysNoCaller: with another process holding the database's write lock,
// callers are routed after at most store.record_timeout per write, and the log says so.
func TestLockedStoreDelaysNoCaller(t *testing.T) {
	testStoreKeys = `record_timeout = "200ms"`
	h := newHarness(t, "")
	testStoreKeys = ""
	// The service may be writing (its start-up prune) when the lock is taken: wait for it
	// rather than fail with SQLITE_BUSY (seen once in CI).
	other, err := sql.Open("sqlite", "file:"+h.db+"?_pragma=busy_timeout(60000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	res, err := agitest.Caller{ANI: "+81312345679"}.Call(context.Background(), h.addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Var("IDV_STATUS") != "IDENTIFIED" || len(res.Apps) != 1 {
		t.Errorf("caller not served: %v %v", res.Vars, res.Apps)
	}
	if !strings.Contains(h.logs.String(), `"name":"record"`) || !strings.Contains(h.logs.String(), "deadline exceeded") {
		t.Errorf("the log does not say the record timed out:\n%.3000s", h.logs)
	}
}

// TestReadOnlyAndFullStore: a database that has become read-only, or whose disk is full,
// still lets every caller through; the log says the record could not be written.
func TestReadOnlyAndFullStore(t *testing.T) {
	for _, tc := range []struct{ name, pragma, logs string }{
		{"read-only", "_pragma=query_only(1)", "attempt to write a readonly database"},
		{"disk full", "_pragma=max_page_count(1)", "database or disk is full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A first instance creates the database; the second opens it in that state.
			first := newHarness(t, "")
			first.call(agitest.Caller{ANI: "+81312345679"})
			first.stop()
			crm := httptest.NewServer(demo.New(demo.Seed).Handler())
			defer crm.Close()
			text := fmt.Sprintf(testConfig, "debug", "open = true", fmt.Sprintf("path = %q", first.db+"?"+tc.pragma), crm.URL)
			cfg, err := config.Parse("test.toml", text)
			if err != nil {
				t.Fatal(err)
			}
			if tc.pragma == "_pragma=max_page_count(1)" {
				cfg.Store.Path = first.db + "?_pragma=max_page_count(" + pageCount(t, first.db) + ")"
			}
			logs := &testlog.Buffer{}
			svc, err := app.Start(context.Background(), cfg, app.NewLogger(cfg.Log, logs))
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Shutdown()
			// The record's own failure, not the start-up prune's (which may fail alike
			// first: a read-only database is read-only to it too).
			recordFailed := func() bool {
				for _, line := range strings.Split(logs.String(), "\n") {
					if strings.Contains(line, `"name":"record"`) && strings.Contains(line, tc.logs) {
						return true
					}
				}
				return false
			}
			// A full database may still have room in its pages: call until it has none.
			for i := 0; i < 60 && !recordFailed(); i++ {
				res, err := agitest.Caller{ANI: "+81312345679"}.Call(context.Background(), svc.AGIAddr().String())
				if err != nil {
					t.Fatal(err)
				}
				if res.Var("IDV_STATUS") != "IDENTIFIED" || len(res.Apps) != 1 {
					t.Fatalf("caller not served: %v %v", res.Vars, res.Apps)
				}
			}
			if !recordFailed() {
				t.Errorf("the log does not say the record failed (%s):\n%.2000s", tc.logs, logs)
			}
		})
	}
}

// pageCount is the database's size in pages now, so that max_page_count makes it full.
func pageCount(t *testing.T, path string) string {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("PRAGMA page_count").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(n)
}
