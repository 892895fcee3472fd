package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/live"
	"github.com/idv-project/idv/store"
)

// KPISource reads the figures of the wallboard and the agents view from the records
// (store.Store implements it).
type KPISource interface {
	KPIGroups(ctx context.Context, from, to time.Time, within time.Duration) ([]store.KPIGroup, error)
	KPIEvents(ctx context.Context, from, to time.Time) ([]store.KPIEvent, error)
	AgentDays(ctx context.Context, from, to time.Time) ([]store.AgentDay, error)
	AgentQueues(ctx context.Context, since time.Time) (map[string][]string, error)
}

// Thresholds are where a wallboard tile turns amber (warn) and red (alert); the same
// fields as config.Thresholds.
type Thresholds struct {
	ServiceLevelWarn  float64 `json:"service_level_warn"`
	ServiceLevelAlert float64 `json:"service_level_alert"`
	AbandonWarn       float64 `json:"abandon_warn"`
	AbandonAlert      float64 `json:"abandon_alert"`
	LongestWaitWarn   int     `json:"longest_wait_warn_seconds"`
	LongestWaitAlert  int     `json:"longest_wait_alert_seconds"`
	ASAWarn           int     `json:"asa_warn_seconds"`
	ASAAlert          int     `json:"asa_alert_seconds"`
}

// Wallboard serves the supervisor's wallboard figures (GET /api/wallboard) and the agents
// view (GET /api/wallboard/agents) beside a Server's routes. Every figure but the live
// ones (calls in the IVR and in queues, agents' states: /api/live) comes from the
// records, so that it survives restarts, counts every instance sharing the database and
// agrees with the reports.
type Wallboard struct {
	Server *Server
	Store  KPISource
	// ServiceLevel is the service level's threshold (web.service_level_seconds).
	ServiceLevel time.Duration
	Thresholds   Thresholds
	// Lines are the configured lines, listed in the line selector with those recorded.
	Lines []string
	// Roster follows the agents' states; nil shows only what the hub holds.
	Roster *live.Roster

	mu     sync.Mutex
	cached *reads
}

// reads are the records the figures are computed from, read at once for every page.
type reads struct {
	at                  time.Time
	day                 time.Time // the start of today in the server's zone
	today, recent       []store.KPIGroup
	todayEvs, recentEvs []store.KPIEvent
	took                time.Duration
}

// Wrap serves the wallboard's routes and hands every other request to next (the
// Server's Handler, which must have been built first: its sign-in is the one used).
func (wb *Wallboard) Wrap(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	a := &wb.Server.Access
	mux.Handle("GET /api/wallboard", wb.Server.guard(a.require(wb.figures, Supervisor)))
	mux.Handle("GET /api/wallboard/agents", wb.Server.guard(a.require(wb.agents, Supervisor)))
	mux.Handle("/", next)
	return mux
}

// read returns the records of today and of the last 15 minutes, read again when older
// than a second, or than four times what the last read took (under a day of a million
// calls, the database is not read all the time).
func (wb *Wallboard) read(ctx context.Context) (*reads, error) {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	now := wb.Server.now()
	if c := wb.cached; c != nil && now.Sub(c.at) < max(time.Second, 4*c.took) && now.Sub(c.at) >= 0 {
		return c, nil
	}
	start := time.Now()
	day := startOfDay(now, wb.Server.Location)
	end, from15 := day.AddDate(0, 0, 1), now.Add(-last15)
	r := &reads{at: now, day: day}
	var err error
	if r.today, err = wb.Store.KPIGroups(ctx, day, end, wb.ServiceLevel); err != nil {
		return nil, err
	}
	if r.recent, err = wb.Store.KPIGroups(ctx, from15, now.Add(time.Minute), wb.ServiceLevel); err != nil {
		return nil, err
	}
	if r.todayEvs, err = wb.Store.KPIEvents(ctx, day, end); err != nil {
		return nil, err
	}
	if r.recentEvs, err = wb.Store.KPIEvents(ctx, from15, now.Add(time.Minute)); err != nil {
		return nil, err
	}
	r.took = time.Since(start)
	wb.cached = r
	return r, nil
}

// last15 is the recent window: calls started in the last 15 minutes.
const last15 = 15 * time.Minute

func startOfDay(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.Local
	}
	n := t.In(loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
}

// KPI is the wallboard's figures over a set of calls. Rates are shares (0..1), null when
// there is nothing to divide by; durations are seconds.
type KPI struct {
	// Calls are the calls offered: every call that reached idv.
	Calls        int64 `json:"calls"`
	Verified     int64 `json:"verified"`
	Identified   int64 `json:"identified"`
	Unidentified int64 `json:"unidentified"`
	OptedOut     int64 `json:"opted_out"`
	Errors       int64 `json:"errors"`
	// SelfService are the calls routed to the dialplan (goto, continue) rather than to a
	// queue, as the containment report counts them.
	SelfService      int64    `json:"self_service"`
	VerifiedRate     *float64 `json:"verified_rate"`
	IdentifiedRate   *float64 `json:"identified_rate"`
	UnidentifiedRate *float64 `json:"unidentified_rate"`
	Containment      *float64 `json:"containment"`
	// Queued are the calls routed to a queue; of them Answered by an agent (AnsweredIn
	// within the service level's threshold, of the AnsweredTimed whose wait ARI
	// recorded), Abandoned by the caller, Left on a QUEUESTATUS (timeout, full…), and the
	// rest of unknown ending (waiting, or not followed by ARI).
	Queued        int64 `json:"queued"`
	Answered      int64 `json:"answered"`
	AnsweredTimed int64 `json:"answered_timed"`
	AnsweredIn    int64 `json:"answered_in"`
	Abandoned     int64 `json:"abandoned"`
	Left          int64 `json:"left"`
	// ServiceLevel is AnsweredIn out of AnsweredTimed + Abandoned + Left: the queued calls
	// whose ending is known, answered in time.
	ServiceLevel *float64 `json:"service_level"`
	// ASA is the average speed of answer: the mean wait of the answered calls ARI timed.
	ASA *float64 `json:"asa_s"`
	// AbandonRate is Abandoned out of Queued, when any queued call's ending is known.
	AbandonRate *float64 `json:"abandon_rate"`

	waitSum int64
}

// queueEnd is how a queued call ended, as the queues report reads it: what ARI reported;
// else answered when an agent took it; else the QUEUESTATUS it left with (not CONTINUE);
// else "" (not known).
func queueEnd(g store.KPIGroup) flow.QueueResult {
	switch {
	case g.QueueResult != "":
		return g.QueueResult
	case g.HasAgent:
		return flow.QueueAnswered
	case g.QueueStatus != "" && g.QueueStatus != "CONTINUE":
		return flow.QueueLeft(g.QueueStatus)
	}
	return ""
}

func (k *KPI) add(g store.KPIGroup) {
	k.Calls += g.N
	switch flow.OutcomeOf(g.Status, g.Reason) {
	case flow.OutcomeVerified:
		k.Verified += g.N
	case flow.OutcomeIdentified:
		k.Identified += g.N
	case flow.OutcomeUnidentified:
		k.Unidentified += g.N
	case flow.OutcomeOptedOut:
		k.OptedOut += g.N
	case flow.OutcomeError:
		k.Errors += g.N
	}
	if flow.QueueOf(g.Route) == "" {
		if g.Reason != flow.ReasonHangup || g.Route != "" {
			k.SelfService += g.N
		}
		return
	}
	k.Queued += g.N
	switch queueEnd(g) {
	case "":
	case flow.QueueAnswered, flow.QueueTransferred:
		k.Answered += g.N
		k.AnsweredTimed += g.WaitN
		k.AnsweredIn += g.WaitWithin
		k.waitSum += g.WaitSum
	case flow.QueueAbandoned:
		k.Abandoned += g.N
	default:
		k.Left += g.N
	}
}

func share(n, of int64) *float64 {
	if of == 0 {
		return nil
	}
	return new(float64(n) / float64(of))
}

// finish computes the rates from the counts.
func (k *KPI) finish() {
	k.VerifiedRate, k.IdentifiedRate, k.UnidentifiedRate = share(k.Verified, k.Calls), share(k.Identified, k.Calls), share(k.Unidentified, k.Calls)
	k.Containment = share(k.SelfService, k.Calls)
	k.ServiceLevel = share(k.AnsweredIn, k.AnsweredTimed+k.Abandoned+k.Left)
	if k.AnsweredTimed > 0 {
		k.ASA = new(float64(k.waitSum) / float64(k.AnsweredTimed) / 1000)
	}
	if k.Answered+k.Abandoned+k.Left > 0 {
		k.AbandonRate = share(k.Abandoned, k.Queued)
	}
}

// sel is what a page selected: a line and a queue ("" all).
type sel struct{ line, queue string }

func (s sel) has(g store.KPIGroup) bool {
	return (s.line == "" || g.Line == s.line) && (s.queue == "" || flow.QueueOf(g.Route) == s.queue)
}

// Trend is one 15-minute bucket of today's chart.
type Trend struct {
	Start        time.Time `json:"start"`
	Calls        int64     `json:"calls"`
	VerifiedRate *float64  `json:"verified_rate"`
	ServiceLevel *float64  `json:"service_level"`
	AbandonRate  *float64  `json:"abandon_rate"`
}

// wallboardJSON is GET /api/wallboard's answer.
type wallboardJSON struct {
	At           time.Time  `json:"at"`
	Window       string     `json:"window"` // 15m or today
	From         time.Time  `json:"from"`
	Line         string     `json:"line"`
	Queue        string     `json:"queue"`
	ServiceLevel int        `json:"service_level_seconds"`
	Thresholds   Thresholds `json:"thresholds"`
	Lines        []string   `json:"lines"`
	Queues       []string   `json:"queues"`
	KPI          KPI        `json:"kpi"`
	ByLine       []named    `json:"by_line"`
	ByQueue      []named    `json:"by_queue"`
	// Today and Last15 are the outcome tiles of the selected line, as the outcomes report
	// counts them (calls started today, or in the last 15 minutes).
	Today  live.Tiles `json:"today"`
	Last15 live.Tiles `json:"last_15_minutes"`
	Trend  []Trend    `json:"trend"`
}

type named struct {
	Name string `json:"name"`
	KPI
}

// figures is GET /api/wallboard?window=15m|today&line=&queue=.
func (wb *Wallboard) figures(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	window := cmp.Or(q.Get("window"), "today")
	if window != "today" && window != "15m" {
		httpError(w, http.StatusBadRequest, errors.New(`window must be "15m" or "today"`))
		return
	}
	rd, err := wb.read(r.Context())
	if err != nil {
		wb.Server.Log.Error().Err(err).Msg("wallboard figures")
		httpError(w, http.StatusInternalServerError, errors.New("the wallboard's figures could not be read; see idv's log"))
		return
	}
	s := sel{line: q.Get("line"), queue: q.Get("queue")}
	groups, from := rd.today, rd.day
	if window == "15m" {
		groups, from = rd.recent, rd.at.Add(-last15)
	}
	out := wallboardJSON{At: rd.at, Window: window, From: from, Line: s.line, Queue: s.queue,
		ServiceLevel: int(wb.ServiceLevel / time.Second), Thresholds: wb.Thresholds,
		Today: tiles(rd.today, rd.todayEvs, s.line), Last15: tiles(rd.recent, rd.recentEvs, s.line)}
	lines, queues := map[string]*KPI{}, map[string]*KPI{}
	for _, l := range wb.Lines {
		lines[l] = &KPI{}
	}
	for _, g := range rd.today { // the lines and queues of today, calls in the window or not
		if lines[g.Line] == nil {
			lines[g.Line] = &KPI{}
		}
		if qn := flow.QueueOf(g.Route); qn != "" && queues[qn] == nil {
			queues[qn] = &KPI{}
		}
	}
	at := func(m map[string]*KPI, k string) *KPI {
		if m[k] == nil {
			m[k] = &KPI{}
		}
		return m[k]
	}
	for _, g := range groups {
		if s.has(g) {
			out.KPI.add(g)
		}
		if s.queue == "" || flow.QueueOf(g.Route) == s.queue {
			at(lines, g.Line).add(g)
		}
		if qn := flow.QueueOf(g.Route); qn != "" && (s.line == "" || g.Line == s.line) {
			at(queues, qn).add(g)
		}
	}
	out.KPI.finish()
	for _, m := range []struct {
		from map[string]*KPI
		to   *[]named
		keys *[]string
	}{{lines, &out.ByLine, &out.Lines}, {queues, &out.ByQueue, &out.Queues}} {
		for name, k := range m.from {
			k.finish()
			*m.to = append(*m.to, named{name, *k})
			*m.keys = append(*m.keys, name)
		}
		slices.SortFunc(*m.to, func(a, b named) int { return cmp.Compare(a.Name, b.Name) })
		slices.Sort(*m.keys)
	}
	out.Trend = trend(rd.today, rd.day, rd.at, s)
	writeJSON(w, out)
}

// trend is today's calls by 15-minute bucket, from midnight to now.
func trend(groups []store.KPIGroup, day, now time.Time, s sel) []Trend {
	byStart := map[int64]*KPI{}
	for _, g := range groups {
		if !s.has(g) {
			continue
		}
		k := byStart[g.Start.UnixMilli()]
		if k == nil {
			k = &KPI{}
			byStart[g.Start.UnixMilli()] = k
		}
		k.add(g)
	}
	var out []Trend
	for b := day; b.Before(now) && b.Before(day.AddDate(0, 0, 1)); b = b.Add(store.ReportBucket) {
		t := Trend{Start: b}
		if k := byStart[b.UnixMilli()]; k != nil {
			k.finish()
			t.Calls, t.VerifiedRate, t.ServiceLevel, t.AbandonRate = k.Calls, k.VerifiedRate, k.ServiceLevel, k.AbandonRate
		}
		out = append(out, t)
	}
	return out
}

// tiles are the outcome tiles of a line ("" all) from the records: the calls by outcome,
// as the outcomes report counts them, and their CRM figures.
func tiles(groups []store.KPIGroup, evs []store.KPIEvent, line string) live.Tiles {
	var k KPI
	for _, g := range groups {
		if line == "" || g.Line == line {
			k.add(g)
		}
	}
	t := live.Tiles{Calls: int(k.Calls), Verified: int(k.Verified), Identified: int(k.Identified), Unidentified: int(k.Unidentified),
		OptedOut: int(k.OptedOut), Errors: int(k.Errors)}
	for _, e := range evs {
		if line != "" && e.Line != line {
			continue
		}
		switch e.Kind {
		case flow.EventCRM:
			if e.Name == flow.OpByPhone {
				t.ANILookups += int(e.N)
				if e.Result == flow.ResultFound {
					t.ANIHits += int(e.N)
				}
			}
			if !e.Result.IsAnswer() {
				t.CRMErrors += int(e.N)
			}
		case flow.EventGuard:
			t.LockedOut += int(e.N)
		}
	}
	if t.ANILookups > 0 {
		t.ANIHitRate = float64(t.ANIHits) / float64(t.ANILookups)
	}
	return t
}

// rosterJSON is one agent of GET /api/wallboard/agents.
type rosterJSON struct {
	Agent string   `json:"agent"` // the endpoint, e.g. PJSIP/agent1
	Names []string `json:"names"` // the users signing in as that agent
	// State is the agent's state ("" not known), since Since (null: since before idv
	// started, how long is not known).
	State flow.AgentState `json:"state"`
	Since *time.Time      `json:"since"`
	// Paused is whether the agent is paused in their queues: ARI does not report it, so it
	// is null (not known).
	Paused *bool    `json:"paused"`
	Queues []string `json:"queues"`
	// CallsToday are the calls that reached the agent today; AHT their average handle
	// time in seconds (talk time, from ARI), null when none was timed.
	CallsToday int64    `json:"calls_today"`
	AHT        *float64 `json:"aht_s"`
	// Sources say where the agent is known from: config (a [[web.user]]), live (a call or
	// ARI reported them), device (ARI lists their endpoint), records.
	Sources []string `json:"sources"`
}

// agentsLookBack is how far back the records are read for the agents and their queues.
const agentsLookBack = 30 * 24 * time.Hour

// agents is GET /api/wallboard/agents: every agent known from the configuration, the
// live state, ARI and the records, with their state and today's calls.
func (wb *Wallboard) agents(w http.ResponseWriter, r *http.Request) {
	now := wb.Server.now()
	day := startOfDay(now, wb.Server.Location)
	days, err := wb.Store.AgentDays(r.Context(), day, day.AddDate(0, 0, 1))
	var queues map[string][]string
	if err == nil {
		queues, err = wb.Store.AgentQueues(r.Context(), now.Add(-agentsLookBack))
	}
	if err != nil {
		wb.Server.Log.Error().Err(err).Msg("wallboard agents")
		httpError(w, http.StatusInternalServerError, errors.New("the agents could not be read; see idv's log"))
		return
	}
	byAgent := map[string]*rosterJSON{}
	get := func(agent, source string) *rosterJSON {
		a := byAgent[agent]
		if a == nil {
			a = &rosterJSON{Agent: agent, Names: []string{}, Queues: []string{}, Sources: []string{}}
			byAgent[agent] = a
		}
		if !slices.Contains(a.Sources, source) {
			a.Sources = append(a.Sources, source)
		}
		return a
	}
	var known []string
	for _, u := range wb.Server.Access.Users {
		if u.Agent != "" {
			a := get(u.Agent, "config")
			a.Names = append(a.Names, u.Name)
			known = append(known, u.Agent)
		}
	}
	for agent, qs := range queues {
		get(agent, "records").Queues = qs
		known = append(known, agent)
	}
	for _, d := range days {
		a := get(d.Agent, "records")
		a.CallsToday = d.Calls
		if d.TalkN > 0 {
			a.AHT = new(float64(d.TalkMS) / float64(d.TalkN) / 1000)
		}
	}
	var states []live.RosterAgent
	switch {
	case wb.Roster != nil:
		states = wb.Roster.Agents(known...)
	case wb.Server.Live != nil:
		for _, a := range wb.Server.Live.Snapshot().Agents {
			states = append(states, live.RosterAgent{Agent: a.Agent, State: a.State, Live: true})
		}
	}
	for _, s := range states {
		if !s.Live && !s.Device && byAgent[s.Agent] == nil {
			continue
		}
		var a *rosterJSON
		switch {
		case s.Live:
			a = get(s.Agent, "live")
		case s.Device:
			a = get(s.Agent, "device")
		default:
			a = byAgent[s.Agent]
		}
		a.State = s.State
		if !s.Since.IsZero() {
			a.Since = new(s.Since)
		}
	}
	out := make([]rosterJSON, 0, len(byAgent))
	for _, a := range byAgent {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b rosterJSON) int { return cmp.Compare(a.Agent, b.Agent) })
	writeJSON(w, out)
}
