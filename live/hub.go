// Package live keeps the state the real-time views show: calls in the IVR by step, in
// queues and with agents, outcome tiles for the last 15 minutes and today, agents' states,
// and the screen pop of each agent. It is fed by the FastAGI server (app.Observer and the
// /agent script) and the ARI observer, and pushes every change to subscribers.
package live

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idv-project/idv/flow"
)

// Call is a call as the live views show it.
type Call struct {
	ID           string     `json:"id"`
	Line         string     `json:"line"`
	State        CallState  `json:"state"`
	Step         flow.Phase `json:"step"` // the IVR phase, one of flow.IVRPhases
	Status       string     `json:"status"`
	StatusText   string     `json:"status_text"`
	Reason       string     `json:"reason"`
	Method       string     `json:"method"`
	CustomerID   string     `json:"customer_id"`
	CustomerName string     `json:"customer_name"`
	Attempts     string     `json:"attempts"`
	Queue        string     `json:"queue,omitempty"`
	Agent        string     `json:"agent,omitempty"`
	Started      time.Time  `json:"started"`
	QueuedAt     time.Time  `json:"queued_at,omitzero"`
	// ANI is the calling number masked as Hub.MaskANI says (privacy.ani_visible_digits);
	// "" when withheld or unknown.
	ANI string `json:"ani"`
	// IDType is how the caller was identified (flow.Interaction.IDType); FactorsAsked
	// and FactorsPassed the verification factors asked and passed, Risk why the risk rule
	// added factors. Never a factor's value.
	IDType        string   `json:"id_type"`
	FactorsAsked  []string `json:"factors_asked"`
	FactorsPassed []string `json:"factors_passed"`
	Risk          []string `json:"risk"`
	// VerifyAttempts counts the secrets the caller typed (wrong ones included).
	VerifyAttempts int `json:"verify_attempts"`
	// AnsweredAt is when the call reached its agent, and WaitMS how long it had waited in
	// the queue by then.
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	WaitMS     int64     `json:"wait_ms,omitempty"`

	// attempts are the identify and verify attempts Attempts was written from: a step
	// that changes neither does not write it again.
	attempts [2]int
}

// CallState is where a live call is. Its values are what the pages receive.
type CallState string

// Where a call is.
const (
	CallInIVR     CallState = "ivr"   // in idv's IVR; Call.Step is the phase
	CallInQueue   CallState = "queue" // waiting in Call.Queue
	CallWithAgent CallState = "agent" // connected to Call.Agent
)

// Agent is an agent's state and the interaction they are on or wrapping up.
type Agent struct {
	Agent       string          `json:"agent"`
	State       flow.AgentState `json:"state"`
	Interaction string          `json:"interaction,omitempty"`
}

// Tiles are outcome counts over a period.
type Tiles struct {
	Calls        int     `json:"calls"`
	Verified     int     `json:"verified"`
	Identified   int     `json:"identified"`
	Unidentified int     `json:"unidentified"`
	OptedOut     int     `json:"opted_out"`
	Errors       int     `json:"errors"`
	ANILookups   int     `json:"ani_lookups"`
	ANIHits      int     `json:"ani_hits"`
	ANIHitRate   float64 `json:"ani_hit_rate"`
	CRMErrors    int     `json:"crm_errors"`
	// LockedOut counts the calls a security limit stopped (flow.EventGuard): lockouts
	// and identification throttling, LOCKED whatever the CRM says.
	LockedOut int `json:"locked_out"`
}

// Snapshot is the whole live state.
type Snapshot struct {
	At time.Time `json:"at"`
	// IVRSteps are the IVR's phases in order (flow.IVRPhases): the dashboard shows a
	// tile for each, with its count in InIVR.
	IVRSteps   []flow.Phase       `json:"ivr_steps"`
	InIVR      map[flow.Phase]int `json:"in_ivr"`
	InQueue    map[string]int     `json:"in_queue"`
	Longest    map[string]int     `json:"longest_wait_s"`
	WithAgents int                `json:"with_agents"`
	Calls      []Call             `json:"calls"`
	Last15     Tiles              `json:"last_15_minutes"`
	Today      Tiles              `json:"today"`
	Agents     []Agent            `json:"agents"`
	// Instances counts the idv instances whose calls are shown (1 without peers).
	Instances int `json:"instances"`
}

// AgentRecorder stores on the interaction what its agent does: who took the call, the
// wrap-up code they picked (store.Store implements it).
type AgentRecorder interface {
	SetAgent(ctx context.Context, id, agent string) error
	SetWrapUp(ctx context.Context, id, code string) error
}

type ended struct {
	at    time.Time
	tiles Tiles // one call's contribution
}

// Hub is the live state. Its zero value is not usable; call New.
type Hub struct {
	Recorder AgentRecorder
	Now      func() time.Time
	Location *time.Location
	// MaskANI masks the calling number the pop shows (privacy.ani_visible_digits); nil
	// shows none.
	MaskANI func(string) string

	mu     sync.Mutex
	calls  map[string]*Call
	agents map[string]*Agent
	done   []ended
	subs   map[chan struct{}]struct{}
	stats  map[string]*Tiles // per live call: its CRM figures so far

	// Several instances (share.go): peers is what the other instances hold, version
	// counts local changes, Forward hands an agent's wrap-up to the instance holding them.
	peers   []Part
	version uint64
	Forward func(instance, agent, id string)
}

// New returns an empty hub.
func New(rec AgentRecorder, loc *time.Location) *Hub {
	return &Hub{Recorder: rec, Location: loc, calls: map[string]*Call{}, agents: map[string]*Agent{},
		subs: map[chan struct{}]struct{}{}, stats: map[string]*Tiles{}}
}

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Subscribe returns a channel told of every change (changes coalesce) and its cancel.
func (h *Hub) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() { h.mu.Lock(); delete(h.subs, ch); h.mu.Unlock() }
}

// changed records a local change and notifies subscribers; call it with h.mu held.
func (h *Hub) changed() {
	h.version++
	h.notify()
}

// notify tells subscribers that the state changed; call it with h.mu held.
func (h *Hub) notify() {
	for ch := range h.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// CallStarted implements app.Observer. Observers see only the ID&V scripts' calls; the
// /agent script reaches the hub as AgentConnected.
func (h *Hub) CallStarted(id, line, _ string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[id] = &Call{ID: id, Line: line, State: CallInIVR, Step: flow.PhaseWelcome, Status: string(flow.StatusUnidentified),
		StatusText: flow.StatusUnidentified.DisplayText(), Method: string(flow.MethodNone), Started: h.now()}
	h.stats[id] = &Tiles{}
	h.changed()
}

// Step implements app.Observer. The call's IVR step is the phase the flow says the event
// happened in, whatever the line's prompts are named.
func (h *Hub) Step(in *flow.Interaction, ev flow.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, st := h.calls[in.ID], h.stats[in.ID]
	if c == nil {
		return
	}
	// Subscribers (each live page) rebuild the snapshot on every change: a step that
	// changes nothing they show (most prompts and keys) does not wake them.
	changed := false
	if c.CustomerID != in.CustomerID || c.CustomerName != in.CustomerName || c.Method != string(in.Method) {
		c.CustomerID, c.CustomerName, c.Method = in.CustomerID, in.CustomerName, string(in.Method)
		changed = true
	}
	if c.IDType != in.IDType || c.VerifyAttempts != in.VerifyAttempts || len(c.FactorsAsked) != len(in.FactorsAsked) ||
		len(c.FactorsPassed) != len(in.FactorsPassed) || len(c.Risk) != len(in.Risk) {
		c.IDType, c.VerifyAttempts = in.IDType, in.VerifyAttempts
		c.FactorsAsked, c.FactorsPassed, c.Risk = slices.Clone(in.FactorsAsked), slices.Clone(in.FactorsPassed), slices.Clone(in.Risk)
		changed = true
	}
	switch {
	case ev.Kind == flow.EventStart && h.MaskANI != nil && !flow.ANIWithheld(in.ANI, 0):
		c.ANI = h.MaskANI(in.ANI)
		changed = true
	case ev.Kind == flow.EventANI && ev.Result == flow.ResultWithheld && c.ANI != "":
		c.ANI = "" // the caller asked to withhold it (presentation restricted)
		changed = true
	}
	if a := [2]int{in.IdentifyAttempts, in.VerifyAttempts}; a != c.attempts || c.Attempts == "" {
		c.attempts, c.Attempts = a, attemptsText(a)
		changed = true
	}
	if ev.Phase.InIVR() && c.Step != ev.Phase {
		c.Step = ev.Phase
		changed = true
	}
	switch ev.Kind {
	case flow.EventCRM:
		if ev.Name == flow.OpByPhone {
			st.ANILookups++
			if ev.Result == flow.ResultFound {
				st.ANIHits++
			}
		}
		if !ev.Result.IsAnswer() {
			st.CRMErrors++
		}
	case flow.EventGuard:
		st.LockedOut++
	case flow.EventOutcome:
		c.Status, c.Reason, c.StatusText = string(in.Status), string(in.Reason), in.Status.DisplayText()
		changed = true
	case flow.EventRoute:
		if q := flow.QueueOf(ev.Name); q != "" {
			c.State, c.QueuedAt, c.Queue = CallInQueue, h.now(), q
			changed = true
		}
	}
	if changed {
		h.changed()
	}
}

// attemptsText is flow.Interaction.Attempts ("identify/verify") without fmt.
func attemptsText(a [2]int) string {
	b := make([]byte, 0, 8)
	b = strconv.AppendInt(b, int64(a[0]), 10)
	b = append(b, '/')
	return string(strconv.AppendInt(b, int64(a[1]), 10))
}

// CallEnded implements app.Observer: the call leaves the live views and counts in the
// tiles.
func (h *Hub) CallEnded(id string, in *flow.Interaction) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, st := h.calls[id], h.stats[id]
	delete(h.calls, id)
	delete(h.stats, id)
	if c == nil {
		return
	}
	if a := h.agents[c.Agent]; a != nil && a.Interaction == id {
		a.State = flow.AgentWrapUp
	}
	t := Tiles{Calls: 1}
	if st != nil {
		t.ANILookups, t.ANIHits, t.CRMErrors, t.LockedOut = st.ANILookups, st.ANIHits, st.CRMErrors, st.LockedOut
	}
	if in != nil {
		switch in.Outcome() {
		case flow.OutcomeError:
			t.Errors = 1
		case flow.OutcomeOptedOut:
			t.OptedOut = 1
		case flow.OutcomeVerified:
			t.Verified = 1
		case flow.OutcomeIdentified:
			t.Identified = 1
		default:
			t.Unidentified = 1
		}
	}
	h.done = append(h.done, ended{at: h.now(), tiles: t})
	h.trim()
	h.changed()
}

// trim drops ended calls that count neither today nor in the last 15 minutes.
func (h *Hub) trim() {
	keep := h.today()
	if recent := h.now().Add(-last15); recent.Before(keep) {
		keep = recent // just after midnight
	}
	i := sort.Search(len(h.done), func(i int) bool { return !h.done[i].at.Before(keep) })
	h.done = h.done[i:]
}

// last15 is the period of the recent tiles.
const last15 = 15 * time.Minute

func (h *Hub) today() time.Time {
	loc := h.Location
	if loc == nil {
		loc = time.Local
	}
	n := h.now().In(loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
}

// AGICommand implements app.Observer (the live views don't need it).
func (h *Hub) AGICommand(string, time.Duration) {}

// AgentConnected records that a call reached an agent: the agent's pop, the agent's
// state, the interaction's record. It implements app.AgentConnect. Only a call in
// progress reaches an agent — one of this instance's, or one the record holds as not
// ended (another instance's): for any other id (a call that has ended, or an id that
// names none, as a stray FastAGI client could send) nothing changes, no agent appears,
// and the error says so.
func (h *Hub) AgentConnected(ctx context.Context, id, agent string) error {
	var stored error
	if h.Recorder != nil {
		stored = h.Recorder.SetAgent(ctx, id, agent)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.calls[id]
	if c == nil && (h.Recorder == nil || stored != nil) {
		if stored == nil {
			stored = fmt.Errorf("interaction %s: no call in progress", id)
		}
		return stored
	}
	if c != nil {
		c.State, c.Agent, c.AnsweredAt = CallWithAgent, agent, h.now()
		if !c.QueuedAt.IsZero() {
			c.WaitMS = c.AnsweredAt.Sub(c.QueuedAt).Milliseconds()
		}
	}
	h.agents[agent] = &Agent{Agent: agent, State: flow.AgentOnCall, Interaction: id}
	h.changed()
	return stored
}

// SetAgentState records an agent's state as ARI reports it; an agent in wrap-up stays
// there until they pick a code.
func (h *Hub) SetAgentState(agent string, state flow.AgentState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.agents[agent]
	if a == nil {
		a = &Agent{Agent: agent}
		h.agents[agent] = a
	}
	if a.State == flow.AgentWrapUp && (state == flow.AgentIdle || state == flow.AgentOffline) {
		return
	}
	a.State = state
	h.changed()
}

// WrapUp stores the agent's wrap-up code and makes the agent idle.
func (h *Hub) WrapUp(ctx context.Context, id, agent, code string) error {
	if h.Recorder != nil {
		if err := h.Recorder.SetWrapUp(ctx, id, code); err != nil {
			return err
		}
	}
	h.mu.Lock()
	if p, _, ok := h.peerAgent(agent); ok && h.agents[agent] == nil && h.Forward != nil {
		// The agent's call went through another instance: that instance frees them.
		h.mu.Unlock()
		h.Forward(p.Instance, agent, id)
		return nil
	}
	h.release(agent, id)
	h.mu.Unlock()
	return nil
}

// Release makes the agent idle after the wrap-up of interaction id, when another
// instance stored it.
func (h *Hub) Release(agent, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.release(agent, id)
}

func (h *Hub) release(agent, id string) {
	if a := h.agents[agent]; a != nil && a.Interaction == id {
		a.State = flow.AgentIdle
	}
	h.changed()
}

// Pop is what an agent's screen shows: the call connected to them, if any.
func (h *Hub) Pop(agent string) (*Call, *Agent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.agents[agent]
	if a == nil {
		return h.peerPop(agent)
	}
	ag := *a
	if c := h.calls[a.Interaction]; c != nil {
		cc := *c
		return &cc, &ag
	}
	return nil, &ag
}

// Call is this instance's call id as the live views have it now: its queue, when it
// was queued and answered, by which agent.
func (h *Hub) Call(id string) (Call, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.calls[id]
	if c == nil {
		return Call{}, false
	}
	return *c, true
}

// Snapshot is the live state now.
func (h *Hub) Snapshot() Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	s := Snapshot{At: now, IVRSteps: flow.IVRPhases(), InIVR: map[flow.Phase]int{}, InQueue: map[string]int{}, Longest: map[string]int{}}
	for _, p := range s.IVRSteps {
		s.InIVR[p] = 0
	}
	for _, c := range h.calls {
		s.tally(*c)
	}
	s.Today, s.Last15 = h.tiles(now)
	for _, a := range h.agents {
		s.Agents = append(s.Agents, *a)
	}
	h.addPeers(&s)
	slices.SortFunc(s.Calls, func(a, b Call) int { return a.Started.Compare(b.Started) })
	for _, t := range []*Tiles{&s.Today, &s.Last15} {
		if t.ANILookups > 0 {
			t.ANIHitRate = float64(t.ANIHits) / float64(t.ANILookups)
		}
	}
	slices.SortFunc(s.Agents, func(a, b Agent) int { return strings.Compare(a.Agent, b.Agent) })
	return s
}

// tally counts a call where it is (IVR step, queue, with an agent) and lists it.
func (s *Snapshot) tally(c Call) {
	switch c.State {
	case CallInIVR:
		s.InIVR[c.Step]++
	case CallInQueue:
		s.InQueue[c.Queue]++
		if w := int(s.At.Sub(c.QueuedAt).Seconds()); w > s.Longest[c.Queue] {
			s.Longest[c.Queue] = w
		}
	case CallWithAgent:
		s.WithAgents++
	}
	s.Calls = append(s.Calls, c)
}

// tiles sums this instance's ended calls of today and of the last 15 minutes; h.mu is
// held. Calls of an earlier day stay out of today even when no call has ended since
// midnight to trim them.
func (h *Hub) tiles(now time.Time) (today, recent Tiles) {
	start := h.today()
	for _, d := range h.done {
		if !d.at.Before(start) {
			add(&today, d.tiles)
		}
		if now.Sub(d.at) <= last15 {
			add(&recent, d.tiles)
		}
	}
	return today, recent
}

func add(t *Tiles, d Tiles) {
	t.Calls += d.Calls
	t.Verified += d.Verified
	t.Identified += d.Identified
	t.Unidentified += d.Unidentified
	t.OptedOut += d.OptedOut
	t.Errors += d.Errors
	t.ANILookups += d.ANILookups
	t.ANIHits += d.ANIHits
	t.CRMErrors += d.CRMErrors
	t.LockedOut += d.LockedOut
}
