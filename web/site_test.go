package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
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

// site is a web server over a store holding two calls of today, 01MINE connected to the
// agent ann and 01THEIRS to another agent, with two users: boss (supervisor, password
// boss-password) and ann (agent, ann-password).
type site struct {
	t    *testing.T
	srv  *web.Server
	ts   *httptest.Server
	st   *store.Store
	logs *testlog.Buffer
}

// twoCalls is a store holding a call agent1 took (01MINE, a known customer) and one
// agent2 took (01THEIRS).
func twoCalls(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, store.SQLite)
	now := time.Now()
	for _, in := range []*flow.Interaction{
		{ID: "01MINE", Line: "retail", Script: "idv", Started: now, Status: flow.StatusVerified, Reason: flow.ReasonOK, Method: flow.MethodANI, CustomerID: "100234", CustomerName: "佐藤 花子"},
		{ID: "01THEIRS", Line: "retail", Script: "idv", Started: now, Status: flow.StatusIdentified, Reason: flow.ReasonNotRequired, Method: flow.MethodDTMF},
	} {
		if err := st.Record(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	st.SetAgent(ctx, "01MINE", "PJSIP/agent1")
	st.SetAgent(ctx, "01THEIRS", "PJSIP/agent2")
	return st
}

func newSite(t *testing.T, edit func(*web.Server)) *site {
	t.Helper()
	st := twoCalls(t)
	logs := &testlog.Buffer{}
	srv := &web.Server{Reports: st, Interactions: st, Lister: st, Location: time.UTC, Log: zerolog.New(logs),
		Live: live.New(st, time.UTC), UI: web.UI{WrapUpCodes: []string{"resolved", "other"}},
		Access: web.Access{Users: []web.User{
			{Name: "boss", PasswordHash: hash(t, "boss-password"), Role: web.Supervisor},
			{Name: "ann", PasswordHash: hash(t, "ann-password"), Role: web.Agent, Agent: "PJSIP/agent1"},
		}}}
	if edit != nil {
		edit(srv)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &site{t: t, srv: srv, ts: ts, st: st, logs: logs}
}

// req is a request to the site; edit sets its headers.
func (s *site) req(method, path, body string, edit ...func(*http.Request)) (*http.Response, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.ts.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for _, e := range edit {
		e(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func as(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

func header(k, v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set(k, v) } }

// from makes the request come from addr, through the trusted proxy at 127.0.0.1.
func from(addr string) func(*http.Request) { return header("X-Forwarded-For", addr) }

// clock is a test's time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// TestDeskChooserNamesRecordedAgents: the supervisor's choice of whose desk to look at
// lists the agents the records name (agent2 has no user here, and no ARI reports it), not
// only the users' agents and those live now.
func TestDeskChooserNamesRecordedAgents(t *testing.T) {
	s := newSite(t, nil)
	resp, body := s.req("GET", "/api/ui", "", as("boss", "boss-password"))
	var ui struct{ Agents []string }
	if err := json.Unmarshal([]byte(body), &ui); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s %s %v", resp.Status, body, err)
	}
	if !slices.Equal(ui.Agents, []string{"PJSIP/agent1", "PJSIP/agent2"}) {
		t.Errorf("agents %v, want agent1 (a user's) and agent2 (recorded)", ui.Agents)
	}
}
