package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// twoInstances starts instances A and B of idv on one PostgreSQL database, with extra
// configuration; the test is skipped without IDV_TEST_POSTGRES (CI sets it).
func twoInstances(t *testing.T, extra ...string) (a, b *harness, dsn string) {
	t.Helper()
	if os.Getenv("IDV_TEST_POSTGRES") == "" {
		t.Skip("needs PostgreSQL: set IDV_TEST_POSTGRES (.ci/run does)")
	}
	_, dsn = storetest.DSN(t, store.Postgres)
	prevStore, prevDSN := testStore, testDSN
	testStore, testDSN = store.Postgres, dsn
	defer func() { testStore, testDSN = prevStore, prevDSN }()
	crm := httptest.NewServer(demo.New(demo.Seed).Handler())
	t.Cleanup(crm.Close)
	return newHarness(t, crm.URL, extra...), newHarness(t, crm.URL, extra...), dsn
}

// liveUntil reads B's live stream (GET /api/live, as the dashboard does) until a
// snapshot satisfies ok; it fails the test if none does within 30 s.
func liveUntil(t *testing.T, h *harness, query string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+h.svc.WebAddr().String()+"/api/live"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var last string
	for sc.Scan() {
		data, found := strings.CutPrefix(sc.Text(), "data: ")
		if !found {
			continue
		}
		last = data
		var v map[string]any
		if json.Unmarshal([]byte(data), &v) == nil && ok(v) {
			return v
		}
	}
	t.Fatalf("no live snapshot as expected within 30 s (%v); last: %s", sc.Err(), last)
	return nil
}

// TestTwoInstancesShareOnePostgreSQL: a lockout made through A holds on B; a call
// handled by A is on B's dashboard and an agent's pop on B, and B's wrap-up frees the
// agent on A; a scheduled report is delivered once by the two.
func TestTwoInstancesShareOnePostgreSQL(t *testing.T) {
	var deliveries atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { deliveries.Add(1) }))
	defer hook.Close()
	a, b, _ := twoInstances(t, "[security]\nverify_lockout_failures = 4\n", fmt.Sprintf(`[[report.schedule]]
name = "shared"
cron = "* * * * *"
report = "outcomes"
range = "today"
formats = ["csv"]
webhook = %q`, hook.URL))

	// Lockout: three wrong PINs through A, the fourth through B locks; A then refuses the
	// right one.
	res, _ := a.call(agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679", Keys: "1111#3333#4444#"})
	if res.Var("IDV_REASON") != "VERIFY_FAILED" {
		t.Fatalf("A: %v", res.Vars)
	}
	if res, _ = b.call(agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679", Keys: "5555#"}); res.Var("IDV_REASON") != "LOCKED" {
		t.Errorf("B, the fourth failure over two instances: %v", res.Vars)
	}
	res, in := a.call(agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679", Keys: "2222#"})
	if res.Var("IDV_REASON") != "LOCKED" || in.Reason != "LOCKED" {
		t.Errorf("A after the lockout made through B: %v", res.Vars)
	}

	// A call in A's queue shows on B's dashboard.
	inQueue := make(chan map[string]string)
	release := make(chan struct{})
	done := make(chan *agitest.Result)
	go func() {
		res, err := agitest.Caller{ANI: "+81312345678", Keys: "1234#",
			InQueue: func(_ string, vars map[string]string) { inQueue <- vars; <-release }}.Call(context.Background(), a.addr)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	vars := <-inQueue
	id := vars["IDV_INTERACTION"]
	// (The caller is in EXEC Queue; A publishes the queue state as soon as it knows it.)
	liveUntil(t, b, "", func(v map[string]any) bool {
		q, _ := v["in_queue"].(map[string]any)
		return strings.Contains(fmt.Sprint(v["calls"]), id) && v["instances"] == float64(2) && q["support"] == float64(1)
	})
	// The agent answers on A's Asterisk (the /agent script reaches A); the agent's page is
	// served by B.
	if _, err := (agitest.Caller{Script: "agent", Channel: "PJSIP/agent1-00000001", Vars: vars}).Call(context.Background(), a.addr); err != nil {
		t.Fatal(err)
	}
	liveUntil(t, b, "?agent=PJSIP/agent1", func(v map[string]any) bool {
		c, _ := v["call"].(map[string]any)
		return c != nil && c["customer_name"] == "佐藤 花子" && c["status"] == "VERIFIED"
	})
	close(release)
	<-done
	waitState := func(h *harness, want flow.AgentState) {
		t.Helper()
		changes, cancel := h.svc.Live.Subscribe()
		defer cancel()
		timeout := time.After(30 * time.Second)
		for {
			if _, ag := h.svc.Live.Pop("PJSIP/agent1"); ag.State == want {
				return
			}
			select {
			case <-changes:
			case <-timeout:
				_, ag := h.svc.Live.Pop("PJSIP/agent1")
				t.Fatalf("agent state %q, want %q", ag.State, want)
			}
		}
	}
	waitState(b, flow.AgentWrapUp)
	if err := b.svc.Live.WrapUp(context.Background(), id, "PJSIP/agent1", "resolved"); err != nil {
		t.Fatal(err)
	}
	waitState(a, flow.AgentIdle)
	if got, err := a.svc.Store.Interaction(context.Background(), id); err != nil || got.WrapUp != "resolved" {
		t.Errorf("wrap-up via B: %v %v", got, err)
	}

	// Both schedulers tick for the same minute: the run is delivered once.
	now := time.Now().Add(time.Minute)
	var wg sync.WaitGroup
	for _, h := range []*harness{a, b} {
		wg.Go(func() {
			if err := h.svc.Scheduler.Tick(context.Background(), now); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	runs, err := a.svc.Store.Runs(context.Background(), "shared")
	if err != nil {
		t.Fatal(err)
	}
	if n := deliveries.Load(); len(runs) == 0 || n != int64(len(runs)) {
		t.Errorf("%d runs logged, %d webhook deliveries", len(runs), n)
	}
	for _, r := range runs {
		if r.Status != "delivered" {
			t.Errorf("run %+v", r)
		}
	}

	// A stops: it withdraws its part, and B's dashboard shows B alone.
	a.stop()
	liveUntil(t, b, "", func(v map[string]any) bool { return v["instances"] == float64(1) })
}

// TestKillingOneInstanceLosesNoRoutedCall: two idv processes on one PostgreSQL; A is
// killed with SIGKILL under load. Every call A routed has its record, and the callers
// that could no longer reach A are served by B, as the dialplan's second target does.
func TestKillingOneInstanceLosesNoRoutedCall(t *testing.T) {
	if os.Getenv("IDV_TEST_POSTGRES") == "" {
		t.Skip("needs PostgreSQL: set IDV_TEST_POSTGRES (.ci/run does)")
	}
	_, dsn := storetest.DSN(t, store.Postgres)
	crm := httptest.NewServer(demo.New(demo.Seed).Handler())
	defer crm.Close()
	start := func() *process {
		path := filepath.Join(t.TempDir(), "config.toml")
		writeConfig(t, path, dsn, crm.URL, "", "[security]\nverify_lockout_failures = 0\nidentify_per_ani = 0\n")
		return startProcess(t, path)
	}
	pa, pb := start(), start()
	bAddr := pb.await(t, "idv serving FastAGI")["listen"].(string)
	go func() {
		for range pb.lines {
		}
	}()
	results := killMidLoad(t, pa, bAddr)
	st, err := store.Open(context.Background(), store.Postgres, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkRouted(t, st, results)
}
