package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/internal/testlog"
	"github.com/idv-project/idv/live"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
	"github.com/idv-project/idv/web"
)

// wallboardSite serves a store through a Server and its Wallboard, at a fixed now.
type wallboardSite struct {
	site
	wb *web.Wallboard
}

func newWallboardSite(t *testing.T, st *store.Store, now time.Time, loc *time.Location) *wallboardSite {
	t.Helper()
	logs := &testlog.Buffer{}
	hub := live.New(st, loc)
	srv := &web.Server{Reports: st, Interactions: st, Lister: st, Location: loc, Log: zerolog.New(logs), Live: hub,
		Now: func() time.Time { return now },
		Access: web.Access{Users: []web.User{
			{Name: "boss", PasswordHash: hash(t, "boss-password"), Role: web.Supervisor},
			{Name: "ann", PasswordHash: hash(t, "ann-password"), Role: web.Agent, Agent: "PJSIP/agent1"},
			{Name: "carl", PasswordHash: hash(t, "carl-password"), Role: web.Agent, Agent: "PJSIP/agent3"},
		}}}
	wb := &web.Wallboard{Server: srv, Store: st, ServiceLevel: 20 * time.Second, Lines: []string{"retail", "business", "default"},
		Thresholds: web.Thresholds{ServiceLevelWarn: 0.8, ServiceLevelAlert: 0.6}}
	ts := httptest.NewServer(wb.Wrap(srv.Handler()))
	t.Cleanup(ts.Close)
	return &wallboardSite{site: site{t: t, srv: srv, ts: ts, st: st, logs: logs}, wb: wb}
}

// aDayOfCalls records, up to now: yesterday's call (left out of today), calls of every
// outcome on two lines, three of them queued (answered in 5 s, answered in 40 s,
// abandoned after 30 s), and two calls in the last 15 minutes (one verified and
// self-served, one queued and not yet ended in the queue).
func aDayOfCalls(t *testing.T, st *store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	type call struct {
		id, line string
		ago      time.Duration
		status   flow.Status
		reason   flow.Reason
		route    string
		queue    *flow.QueueOutcome
	}
	answered := func(wait time.Duration, agent string) *flow.QueueOutcome {
		return &flow.QueueOutcome{Agent: agent, Answered: time.Unix(0, 0).Add(wait), Ended: time.Unix(0, 0).Add(wait + 3*time.Minute), Result: flow.QueueAnswered}
	}
	calls := []call{
		{id: "01YESTERDAY", line: "retail", ago: 26 * time.Hour, status: flow.StatusVerified, reason: flow.ReasonOK, route: "goto:selfservice,s,1"},
		{id: "01V1", line: "retail", ago: 3 * time.Hour, status: flow.StatusVerified, reason: flow.ReasonOK, route: "goto:selfservice,s,1"},
		{id: "01V2", line: "retail", ago: 2 * time.Hour, status: flow.StatusVerified, reason: flow.ReasonOK, route: "queue:retail",
			queue: answered(5*time.Second, "PJSIP/agent1")},
		{id: "01I1", line: "retail", ago: 2 * time.Hour, status: flow.StatusIdentified, reason: flow.ReasonVerifyFailed, route: "queue:retail",
			queue: answered(40*time.Second, "PJSIP/agent2")},
		{id: "01U1", line: "business", ago: 90 * time.Minute, status: flow.StatusUnidentified, reason: flow.ReasonNotFound, route: "queue:business",
			queue: &flow.QueueOutcome{Ended: time.Unix(30, 0), Result: flow.QueueAbandoned}},
		{id: "01O1", line: "business", ago: time.Hour, status: flow.StatusUnidentified, reason: flow.ReasonOptedOut, route: "continue"},
		{id: "01E1", line: "business", ago: time.Hour, status: flow.StatusUnidentified, reason: flow.ReasonBackendUnavailable, route: "continue"},
		{id: "01H1", line: "retail", ago: 40 * time.Minute, status: flow.StatusUnidentified, reason: flow.ReasonHangup},
		{id: "01R1", line: "retail", ago: 5 * time.Minute, status: flow.StatusVerified, reason: flow.ReasonOK, route: "continue"},
		{id: "01R2", line: "retail", ago: 2 * time.Minute, status: flow.StatusIdentified, reason: flow.ReasonNotRequired, route: "queue:retail"},
	}
	for _, c := range calls {
		at := now.Add(-c.ago)
		in := &flow.Interaction{ID: c.id, Line: c.line, Script: "idv", Started: at, Ended: at.Add(time.Minute), Status: c.status,
			Reason: c.reason, Method: flow.MethodANI, Route: c.route, Events: []flow.Event{
				{At: at, Kind: flow.EventStart, Name: "idv"},
				{At: at, Kind: flow.EventCRM, Name: flow.OpByPhone, Result: flow.ResultFound},
			}}
		if err := st.Record(ctx, in); err != nil {
			t.Fatal(err)
		}
		if o := c.queue; o != nil {
			entered := at.Add(30 * time.Second)
			shift := entered.Sub(time.Unix(0, 0))
			o.Queue, o.Entered, o.Ended = flow.QueueOf(c.route), entered, o.Ended.Add(shift)
			if !o.Answered.IsZero() {
				o.Answered = o.Answered.Add(shift)
			}
			if err := st.QueueOutcome(ctx, c.id, *o); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// wallboard is GET /api/wallboard as the boss.
func (s *wallboardSite) wallboard(query string) map[string]any {
	s.t.Helper()
	resp, body := s.req("GET", "/api/wallboard?"+query, "", as("boss", "boss-password"))
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil || resp.StatusCode != 200 {
		s.t.Fatalf("GET /api/wallboard?%s: %d %s (%v)", query, resp.StatusCode, body, err)
	}
	return out
}

// TestWallboardTodayAgreesWithTheOutcomesReport: on both back ends, the wallboard's Today
// tile counts what the outcomes report of today counts, outcome by outcome, line by line
// (yesterday's call left out in report.timezone); the last 15 minutes count the calls
// started in them; and the KPIs are those of the calls recorded: service level (1 of the
// 3 queued calls whose ending is known answered within 20 s), average speed of answer,
// abandon rate, containment.
func TestWallboardTodayAgreesWithTheOutcomesReport(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	now := time.Date(2026, 11, 26, 11, 0, 0, 0, tokyo)
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st := storetest.Open(t, driver)
			aDayOfCalls(t, st, now)
			s := newWallboardSite(t, st, now, tokyo)
			for _, line := range []string{"", "retail", "business"} {
				wb := s.wallboard("window=today&line=" + line)
				today := wb["today"].(map[string]any)
				resp, body := s.req("GET", "/api/reports/outcomes?range=today&format=csv&line="+line, "", as("boss", "boss-password"))
				rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("outcomes report: %d %s", resp.StatusCode, body)
				}
				for i, k := range []string{"calls", "verified", "identified", "unidentified", "opted_out", "errors"} {
					sum := 0 // the lines' rows (a CSV has no total row)
					for _, row := range rows[1:] {
						n, _ := strconv.Atoi(row[1+i])
						sum += n
					}
					if got := int(today[k].(float64)); got != sum {
						t.Errorf("line %q: Today's %s = %d, the outcomes report says %d (%s)", line, k, got, sum, body)
					}
				}
			}
			wb := s.wallboard("window=today")
			today := wb["today"].(map[string]any)
			if today["calls"] != 9.0 || today["ani_lookups"] != 9.0 || today["ani_hit_rate"] != 1.0 {
				t.Errorf("today %v, want 9 calls, all found by number", today)
			}
			kpi := wb["kpi"].(map[string]any)
			want := map[string]any{"calls": 9.0, "queued": 4.0, "answered": 2.0, "abandoned": 1.0, "self_service": 4.0,
				"service_level": 1.0 / 3, "asa_s": 22.5, "abandon_rate": 0.25, "containment": 4.0 / 9, "verified_rate": 3.0 / 9}
			for k, v := range want {
				if kpi[k] != v {
					t.Errorf("today's %s = %v, want %v", k, kpi[k], v)
				}
			}
			recent := s.wallboard("window=15m")["kpi"].(map[string]any)
			if recent["calls"] != 2.0 || recent["verified"] != 1.0 || recent["service_level"] != nil || recent["abandon_rate"] != nil {
				t.Errorf("last 15 minutes %v: want the 2 calls started in them, no queue ending known", recent)
			}
			byQueue := s.wallboard("window=today&queue=retail")["kpi"].(map[string]any)
			if byQueue["calls"] != 3.0 || byQueue["service_level"] != 0.5 || byQueue["abandon_rate"] != 0.0 {
				t.Errorf("queue retail %v: want its 3 calls, 1 of 2 answered in time, none abandoned", byQueue)
			}
			trend := wb["trend"].([]any)
			var calls float64
			for _, b := range trend {
				calls += b.(map[string]any)["calls"].(float64)
			}
			if len(trend) != 44 || calls != 9 {
				t.Errorf("trend: %d buckets with %v calls, want 44 (00:00 to 11:00) with 9", len(trend), calls)
			}
		})
	}
}

// TestWallboardAgents: the agents view lists the configured agents before any call
// (their state not known), the agents the records name, with today's calls, handle
// time and queues; paused is not known.
func TestWallboardAgents(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	now := time.Date(2026, 11, 26, 11, 0, 0, 0, tokyo)
	st := storetest.Open(t, store.SQLite)
	aDayOfCalls(t, st, now)
	s := newWallboardSite(t, st, now, tokyo)
	resp, body := s.req("GET", "/api/wallboard/agents", "", as("boss", "boss-password"))
	var agents []struct {
		Agent      string
		Names      []string
		State      string
		Paused     *bool
		Queues     []string
		CallsToday int64    `json:"calls_today"`
		AHT        *float64 `json:"aht_s"`
	}
	if err := json.Unmarshal([]byte(body), &agents); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if len(agents) != 3 {
		t.Fatalf("agents %s, want agent1 (ann), agent2 (records), agent3 (carl, no call yet)", body)
	}
	a1, a2, a3 := agents[0], agents[1], agents[2]
	if a1.Agent != "PJSIP/agent1" || a1.Names[0] != "ann" || a1.CallsToday != 1 || a1.AHT == nil || *a1.AHT != 180 || a1.Queues[0] != "retail" || a1.Paused != nil {
		t.Errorf("agent1 %+v", a1)
	}
	if a2.Agent != "PJSIP/agent2" || len(a2.Names) != 0 || a2.CallsToday != 1 {
		t.Errorf("agent2 %+v", a2)
	}
	if a3.Agent != "PJSIP/agent3" || a3.State != "" || a3.CallsToday != 0 || a3.AHT != nil {
		t.Errorf("agent3 %+v", a3)
	}
	if resp, _ := s.req("GET", "/api/wallboard/agents", "", as("ann", "ann-password")); resp.StatusCode != 403 {
		t.Errorf("an agent gets %d, want 403", resp.StatusCode)
	}
	if resp, _ := s.req("GET", "/api/wallboard", ""); resp.StatusCode != 401 {
		t.Errorf("without sign-in %d, want 401", resp.StatusCode)
	}
	if resp, body := s.req("GET", "/api/wallboard?window=week", "", as("boss", "boss-password")); resp.StatusCode != 400 || !strings.Contains(body, "15m") {
		t.Errorf("window=week: %d %s", resp.StatusCode, body)
	}
}
