package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/app"
	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/flow"
)

// queued is what happens to a queued call: an agent answers after wait, or the caller
// abandons after it (agent ""), or nothing is known (wait 0).
type queued struct {
	agent string
	wait  time.Duration
}

// placeCalls makes a morning's calls through idv's FastAGI port, as Asterisk would: the
// agents answer through the queue member gosub (/agent), and what ARI would report of
// the queue (waits, talk time, abandons) is recorded as the ARI observer records it.
// It returns the number of calls.
func placeCalls(t *testing.T, h *harness) int {
	t.Helper()
	ctx := context.Background()
	calls := []struct {
		c agitest.Caller
		q *queued
	}{
		{agitest.Caller{ANI: "+81312345678", Keys: "1234#"}, &queued{"PJSIP/agent1", 8 * time.Second}},   // verified, to support
		{agitest.Caller{ANI: "+81312345679", Keys: "1234#"}, &queued{"PJSIP/agent2", 35 * time.Second}},  // to support
		{agitest.Caller{ANI: "anonymous", Keys: "999#998#*"}, nil},                                       // opted out: self-service
		{agitest.Caller{ANI: "+81312345678", DNID: "1000", Keys: "1234#"}, nil},                          // retail, verified: self-service
		{agitest.Caller{ANI: "0312345679", DNID: "1000", Keys: "1#2#3#"}, &queued{"", 50 * time.Second}}, // three wrong PINs, abandons
		{agitest.Caller{ANI: "anonymous", Keys: "100235#1234#"}, &queued{}},                              // typed number, ending not known
		{agitest.Caller{ANI: "+81355550000", Keys: "..."}, &queued{"", 25 * time.Second}},                // shared number, abandons
	}
	for i, c := range calls {
		var id string
		c.c.InQueue = func(_ string, vars map[string]string) {
			id = vars["IDV_INTERACTION"]
			if c.q != nil && c.q.agent != "" {
				if _, err := (agitest.Caller{Script: "agent", Channel: c.q.agent + "-0000001" + strconv.Itoa(i), Vars: vars}).Call(ctx, h.addr); err != nil {
					t.Error(err)
				}
			}
		}
		_, in := h.call(c.c)
		if c.q == nil || c.q.wait == 0 {
			continue
		}
		if id == "" {
			t.Fatalf("call %d never queued: %+v", i, in)
		}
		entered := in.Started.Add(20 * time.Second)
		o := flow.QueueOutcome{Queue: flow.QueueOf(in.Route), Agent: c.q.agent, Entered: entered, Ended: entered.Add(c.q.wait), Result: flow.QueueAbandoned}
		if c.q.agent != "" {
			o.Answered, o.Ended, o.Result = entered.Add(c.q.wait), entered.Add(c.q.wait+4*time.Minute), flow.QueueAnswered
		}
		if err := h.svc.Store.QueueOutcome(ctx, id, o); err != nil {
			t.Fatal(err)
		}
	}
	return len(calls)
}

// TestWallboardInChromium: the supervisor's wallboard and agents view, in English and
// Japanese, over a morning's calls. Every configured agent is listed before any call,
// state and pause not known; the KPI tiles show the service level, average speed of
// answer and abandon rate of the calls, coloured by the thresholds, the longest wait and
// the caller waiting now; the chart draws today; the window switches to the last 15
// minutes; the agents view has calls and handle time today. After a restart the figures
// are the same: they come from the records.
func TestWallboardInChromium(t *testing.T) {
	actx := browser(t)
	testWeb = signInUsers("ann", "bob", "carl")
	defer func() { testWeb = "open = true" }()
	h := newHarness(t, "")
	base := "http://" + h.svc.WebAddr().String()
	shots := os.Getenv("IDV_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	boss := tab(t, actx, "boss", "boss-pass")

	// Before any call: the configured agents, from the start.
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/agents")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent3"]`, "carl")
	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent3"] .wb-st`, "state not known")
	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent3"] .wb-paused`, "not known")

	n := placeCalls(t, h)
	// One caller is waiting in the queue while the supervisor looks.
	inQueue, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		agitest.Caller{ANI: "+81312345679", Keys: "1234#", InQueue: func(string, map[string]string) { close(inQueue); <-release }}.Call(context.Background(), h.addr)
	}()
	<-inQueue
	n++

	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent1"] .wb-calls`, "1")
	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent1"] .wb-aht`, "4:00")
	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent1"] .wb-st`, "wrap-up")
	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent1"]`, "support")
	shot(t, boss, shots, "agents")

	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/dashboard")); err != nil {
		t.Fatal(err)
	}
	calls := strconv.Itoa(n)
	waitText(t, boss, `[data-kpi="calls"] .n`, calls)
	waitText(t, boss, `[data-tiles="today"] [data-k="calls"] .n`, calls)
	// Of the queued calls whose ending is known, 1 of 4 answered within 20 s: alert.
	waitText(t, boss, `[data-kpi="service_level"] .n`, "25%")
	waitText(t, boss, `[data-kpi="service_level"]`, "Alert")
	// Answered after 8 and 35 s: 0:22 on average, above the 20 s warning.
	waitText(t, boss, `[data-kpi="asa"] .n`, "0:22")
	waitText(t, boss, `[data-kpi="asa"]`, "Watch")
	waitText(t, boss, `[data-kpi="abandon_rate"] .n`, "33%")
	waitText(t, boss, `[data-kpi="waiting"] .n`, "1")
	waitText(t, boss, `#wb-by-queue tr[data-name="support"]`, "support")
	waitText(t, boss, `#wb-chart .wb-legend`, "Service level %")
	levels, err := chromedp.Run(boss, chromedp.Evaluate[string](`[...document.querySelectorAll("[data-kpi]")].map(e => e.dataset.kpi + "=" + e.dataset.level + ":" + getComputedStyle(e).borderTopColor).join(" ")`))
	if err != nil {
		t.Fatal(err)
	}
	// The chart (uPlot, on a canvas) holds today's calls: the bars add up to the calls
	// offered today.
	charted, _ := chromedp.Run(boss, chromedp.Evaluate[int](`document.querySelector("#wb-plot canvas") ? wbUPlot.data[1].reduce((a, b) => a + (b || 0), 0) : -1`))
	if charted < 1 {
		t.Errorf("the chart draws no calls (%d)", charted)
	}
	t.Logf("tiles: %s", levels)
	lines, _ := chromedp.Run(boss, chromedp.Evaluate[string](`[...document.querySelectorAll("#wb-line option")].map(o => o.textContent).join(",")`))
	if lines != "All lines,default,noani,retail,short" {
		t.Errorf("line selector: %s", lines)
	}
	shot(t, boss, shots, "wallboard")

	// The last 15 minutes: every call of the test started in them.
	if err := chromedp.Do(boss, chromedp.Click(`[data-window="15m"]`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, `[data-kpi="calls"] .wb-sub`, "Last 15 minutes")
	waitText(t, boss, `[data-kpi="calls"] .n`, calls)
	if err := chromedp.Do(boss, chromedp.Click(`[data-window="today"]`)); err != nil {
		t.Fatal(err)
	}

	// In Japanese.
	if err := chromedp.Do(boss, chromedp.Click("#lang")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, `[data-kpi="service_level"] .l`, "サービスレベル")
	waitText(t, boss, `[data-kpi="service_level"]`, "警告")
	waitText(t, boss, `[data-kpi="asa"] .l`, "平均応答時間")
	waitText(t, boss, `#main`, "本日の推移")
	waitText(t, boss, `#wb-chart .wb-legend`, "放棄率")
	waitText(t, boss, `[data-kpi="calls"] .n`, calls)
	shot(t, boss, shots, "wallboard-ja")
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/agents")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent3"] .wb-st`, "状態不明")
	waitText(t, boss, `#wb-roster`, "平均処理時間")
	shot(t, boss, shots, "agents-ja")
	if err := chromedp.Do(boss, chromedp.Click("#lang")); err != nil {
		t.Fatal(err)
	}

	// A restart: the same records, a new process. The figures are the same.
	close(release)
	<-done
	db := h.db
	h.stop()
	svc := restartOn(t, db)
	base = "http://" + svc.WebAddr().String()
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/dashboard")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, `[data-tiles="today"] [data-k="calls"] .n`, calls)
	waitText(t, boss, `[data-kpi="service_level"] .n`, "25%")
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/agents")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent1"] .wb-calls`, "1")
	waitText(t, boss, `#wb-roster tr[data-agent="PJSIP/agent1"] .wb-aht`, "4:00")
}

// restartOn starts idv again on the harness's SQLite database (as the harness
// configures it, with a fresh demo CRM), stopped with the test.
func restartOn(t *testing.T, db string) *app.App {
	t.Helper()
	crm := httptest.NewServer(demo.New(demo.Seed).Handler())
	t.Cleanup(crm.Close)
	cfg, err := config.Parse("test.toml", fmt.Sprintf(testConfig, testLogLevel, signInUsers("ann", "bob", "carl"), fmt.Sprintf("path = %q", db), crm.URL))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.Start(context.Background(), cfg, app.NewLogger(cfg.Log, os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Shutdown)
	return svc
}

// TestWallboardErrorsInChromium: when the figures cannot be read (500) or the sign-in is
// no longer accepted (401), the wallboard and the agents view say so, in English and
// Japanese, instead of a blank page; the live part still shows.
func TestWallboardErrorsInChromium(t *testing.T) {
	actx := browser(t)
	h := newHarness(t, "")
	base := "http://" + h.svc.WebAddr().String()
	boss := tab(t, actx, "x", "y") // the harness's web is open on loopback
	// The browser answers the wallboard's requests itself, with the status in code.
	var code atomic.Int64
	code.Store(500)
	paused := pausedRequests(t, boss)
	go func() {
		for id := range paused {
			chromedp.Call(boss, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: id, ResponseCode: code.Load(),
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/plain"}}, Body: []byte("database is locked")})
		}
	}()
	if _, err := chromedp.Call(boss, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/api/wallboard*"}}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/dashboard")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#wb-error", "idv could not read the figures (500): database is locked")
	waitText(t, boss, "#in-ivr .n", "0")
	code.Store(401)
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/agents")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#wb-error", "Your sign-in was not accepted (401)")
	if err := chromedp.Do(boss, chromedp.Click("#lang")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#wb-error", "サインインが受け付けられませんでした(401)")
	code.Store(500)
	if err := chromedp.Do(boss, chromedp.Navigate(base+"/#/dashboard")); err != nil {
		t.Fatal(err)
	}
	waitText(t, boss, "#wb-error", "idvが数値を読み込めませんでした(500)")
	shot(t, boss, t.TempDir(), "wallboard-error")
}
