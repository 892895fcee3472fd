package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/live"
)

// clock is the hub's time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newHub is a hub in Tokyo time whose clock starts at 10:00 on 26 November 2026.
func newHub(rec live.AgentRecorder) (*live.Hub, *clock) {
	tokyo := time.FixedZone("JST", 9*3600)
	clk := &clock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, tokyo)}
	h := live.New(rec, tokyo)
	h.Now = clk.Now
	return h, clk
}

// call finds a call in the hub's snapshot.
func call(t *testing.T, h *live.Hub, id string) live.Call {
	t.Helper()
	for _, c := range h.Snapshot().Calls {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("call %s is not in the live views", id)
	return live.Call{}
}

// caller is a call over which the flow runs: the caller types keys after the prompts
// named in typed, and the step the hub shows is noted whenever the flow waits for a key.
type caller struct {
	hub   *live.Hub
	id    string
	typed map[string]string // prompt → keys typed after it
	keys  []rune
	last  string                // the prompt played last
	step  map[string]flow.Phase // prompt → the hub's step while the caller types after it
	t     *testing.T
}

func (c *caller) Answer(context.Context) error { return nil }

// SayDigits says nothing a test reads.
func (c *caller) SayDigits(context.Context, string, string) (rune, error) { return 0, nil }

func (c *caller) Play(_ context.Context, prompt, _ string) (rune, error) {
	c.last = prompt
	c.keys = []rune(c.typed[prompt])
	return 0, nil
}
func (c *caller) WaitDigit(context.Context, time.Duration) (rune, error) {
	c.step[c.last] = call(c.t, c.hub, c.id).Step
	if len(c.keys) == 0 {
		return 0, nil
	}
	k := c.keys[0]
	c.keys = c.keys[1:]
	return k, nil
}
func (c *caller) SetVariable(context.Context, string, string) error            { return nil }
func (c *caller) SetLanguage(context.Context, string) error                    { return nil }
func (c *caller) Variable(context.Context, string) (string, bool, error)       { return "", false, nil }
func (c *caller) Queue(context.Context, string) (string, error)                { return "CONTINUE", nil }
func (c *caller) Goto(context.Context, string, string, string) error           { return nil }
func (c *caller) Record(context.Context, *flow.Interaction) error              { return nil }
func (c *caller) FindByPhone(context.Context, string) ([]flow.Customer, error) { return nil, nil }
func (c *caller) SendCode(context.Context, flow.Customer, flow.Secret) error   { return nil }

func (c *caller) FindBy(_ context.Context, _, id string) (*flow.Customer, error) {
	if id != "100234" {
		return nil, nil
	}
	return &flow.Customer{ID: id, Name: "Hanako Yamada", VerifyRequired: true}, nil
}
func (c *caller) Verify(_ context.Context, _, _ string, s flow.Secret) (flow.Verdict, error) {
	if s.Reveal() == "1234" {
		return flow.Verified, nil
	}
	return flow.Rejected, nil
}

// The dashboard's step of a caller is the flow's phase, whatever the line's prompts are
// called: a caller typing their PIN after a prompt named "acme/code" is verifying (it
// showed "identify", guessed from prompt names containing "secret").
func TestStepFollowsTheFlowNotPromptNames(t *testing.T) {
	cases := []struct {
		name                    string
		welcome, enterID, enter string
	}{
		{"prompts named as shipped", "idv/welcome", "idv/enter-id", "idv/enter-secret"},
		{"prompts named otherwise", "acme/hello", "acme/your-number", "acme/code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHub(nil)
			line := &flow.Line{Name: "acme", IdentifyAttempts: 3, VerifyAttempts: 3, IDMinDigits: 2, IDMaxDigits: 12,
				SecretMinDigits: 4, SecretMaxDigits: 8, FirstDigitTimeout: time.Second, InterDigitTimeout: time.Second,
				Terminator: '#', CRMBudget: time.Second,
				Prompts: flow.Prompts{Welcome: tc.welcome, EnterID: tc.enterID, EnterSecret: tc.enter}}
			c := &caller{hub: h, id: "01ACME", t: t, step: map[string]flow.Phase{},
				typed: map[string]string{tc.enterID: "100234#", tc.enter: "1234#"}}
			h.CallStarted(c.id, line.Name, "idv")
			if got := call(t, h, c.id).Step; got != flow.PhaseWelcome {
				t.Errorf("step %q as the call arrives, want welcome", got)
			}
			in := (&flow.Runner{Directory: c, Recorder: c}).Run(context.Background(), c,
				flow.Request{ID: c.id, Script: flow.ScriptIDV, Line: line, ANI: "anonymous", Observe: h.Step})
			if in.Status != flow.StatusVerified {
				t.Fatalf("the caller ended %s/%s, want VERIFIED", in.Status, in.Reason)
			}
			if got := c.step[tc.enterID]; got != flow.PhaseIdentify {
				t.Errorf("step %q while the caller types the identifier, want identify", got)
			}
			if got := c.step[tc.enter]; got != flow.PhaseVerify {
				t.Errorf("step %q while the caller types the secret, want verify", got)
			}
			routed := call(t, h, c.id)
			if routed.Step != flow.PhaseRouting || routed.Status != "VERIFIED" || routed.StatusText != "Identified and verified" ||
				routed.Reason != "OK" || routed.CustomerID != "100234" || routed.Method != "DTMF" || routed.Attempts != "1/1" {
				t.Errorf("routed call shows %+v", routed)
			}
		})
	}
}

// Events with no IVR phase (the queue's, or an observer's without a phase) leave the
// step where it was; a queue route moves the call to the queue.
func TestStepOutsideTheIVR(t *testing.T) {
	h, clk := newHub(nil)
	in := &flow.Interaction{ID: "01Q"}
	h.CallStarted(in.ID, "retail", "idv")
	h.Step(in, flow.Event{Kind: flow.EventOutcome, Phase: flow.PhaseRouting, Name: "UNIDENTIFIED", Result: "NOT_FOUND"})
	clk.Add(2 * time.Second)
	h.Step(in, flow.Event{Kind: flow.EventRoute, Phase: flow.PhaseRouting, Name: "queue:support,,,,300"})
	h.Step(in, flow.Event{Kind: flow.EventError, Name: "queue", Detail: "no phase"})
	clk.Add(30 * time.Second)
	h.Step(in, flow.Event{Kind: flow.EventQueue, Phase: flow.PhaseQueue, Result: "TIMEOUT"})
	c := call(t, h, in.ID)
	if c.State != live.CallInQueue || c.Queue != "support" || c.Step != flow.PhaseRouting || !c.QueuedAt.Equal(clk.Now().Add(-30*time.Second)) {
		t.Errorf("queued call shows %+v", c)
	}
	s := h.Snapshot()
	if s.InQueue["support"] != 1 || s.Longest["support"] != 30 || s.InIVR[flow.PhaseRouting] != 0 {
		t.Errorf("snapshot in queue %v, longest %v, in IVR %v", s.InQueue, s.Longest, s.InIVR)
	}
	h.Step(&flow.Interaction{ID: "01UNKNOWN"}, flow.Event{Kind: flow.EventStart, Phase: flow.PhaseWelcome})
	if n := len(h.Snapshot().Calls); n != 1 {
		t.Errorf("an event of a call the hub never saw start added it: %d calls", n)
	}
}

// Every ended call counts in exactly one outcome tile, bucketed as the reports do.
func TestTilesCountEachOutcome(t *testing.T) {
	cases := []struct {
		name   string
		status flow.Status
		reason flow.Reason
		want   live.Tiles
	}{
		{"verified", flow.StatusVerified, flow.ReasonOK, live.Tiles{Calls: 1, Verified: 1}},
		{"identified without the secret", flow.StatusIdentified, flow.ReasonNotRequired, live.Tiles{Calls: 1, Identified: 1}},
		{"wrong secrets leave the caller identified", flow.StatusIdentified, flow.ReasonVerifyFailed, live.Tiles{Calls: 1, Identified: 1}},
		{"not found", flow.StatusUnidentified, flow.ReasonNotFound, live.Tiles{Calls: 1, Unidentified: 1}},
		{"opted out", flow.StatusUnidentified, flow.ReasonOptedOut, live.Tiles{Calls: 1, OptedOut: 1}},
		{"a back-end failure is an error whatever the status", flow.StatusIdentified, flow.ReasonBackendUnavailable, live.Tiles{Calls: 1, Errors: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHub(nil)
			h.CallStarted("01A", "retail", "idv")
			h.CallEnded("01A", &flow.Interaction{ID: "01A", Status: tc.status, Reason: tc.reason})
			s := h.Snapshot()
			if s.Today != tc.want || s.Last15 != tc.want {
				t.Errorf("today %+v last 15 minutes %+v, want %+v", s.Today, s.Last15, tc.want)
			}
			if len(s.Calls) != 0 {
				t.Errorf("the ended call is still shown: %+v", s.Calls)
			}
		})
	}
}

// A call the flow did not run to its end counts as a call, in no outcome; a call never
// started counts nowhere.
func TestTilesOfCallsWithoutOutcome(t *testing.T) {
	h, _ := newHub(nil)
	h.CallStarted("01A", "retail", "idv")
	h.CallEnded("01A", nil)
	h.CallEnded("01NEVER", &flow.Interaction{Status: flow.StatusVerified})
	if s := h.Snapshot(); s.Today != (live.Tiles{Calls: 1}) {
		t.Errorf("today %+v, want one call without an outcome", s.Today)
	}
}

// ANI lookups, hits and CRM failures are counted per call and reach the tiles when the
// call ends.
func TestTilesCountANIAndCRM(t *testing.T) {
	h, _ := newHub(nil)
	crm := func(id, op string, r flow.Result) {
		h.Step(&flow.Interaction{ID: id}, flow.Event{Kind: flow.EventCRM, Phase: flow.PhaseIdentify, Name: op, Result: r})
	}
	for _, id := range []string{"01A", "01B", "01C"} {
		h.CallStarted(id, "retail", "idv")
	}
	crm("01A", flow.OpByPhone, flow.ResultFound)
	crm("01B", flow.OpByPhone, flow.ResultSeveral)
	crm("01B", flow.OpByID, flow.ResultNotFound)
	crm("01B", flow.OpByID, "http_503")
	crm("01C", flow.OpByPhone, flow.ResultBudgetExhausted)
	if s := h.Snapshot(); s.Today.ANILookups != 0 {
		t.Errorf("calls in progress count in the tiles: %+v", s.Today)
	}
	h.CallEnded("01A", &flow.Interaction{ID: "01A", Status: flow.StatusVerified, Reason: flow.ReasonOK})
	h.CallEnded("01B", &flow.Interaction{ID: "01B", Reason: flow.ReasonBackendUnavailable})
	h.CallEnded("01C", &flow.Interaction{ID: "01C", Reason: flow.ReasonBackendUnavailable})
	want := live.Tiles{Calls: 3, Verified: 1, Errors: 2, ANILookups: 3, ANIHits: 1, ANIHitRate: 1.0 / 3, CRMErrors: 2}
	if s := h.Snapshot(); s.Today != want {
		t.Errorf("today %+v, want %+v", s.Today, want)
	}
}

// Ended calls count in the last 15 minutes for 15 minutes and today until midnight in
// the hub's location — whether or not another call ends meanwhile.
func TestEndedCallsExpire(t *testing.T) {
	h, clk := newHub(nil)
	end := func(id string) {
		h.CallStarted(id, "retail", "idv")
		h.CallEnded(id, &flow.Interaction{ID: id, Status: flow.StatusVerified, Reason: flow.ReasonOK})
	}
	counts := func() (today, last15 int) {
		s := h.Snapshot()
		return s.Today.Calls, s.Last15.Calls
	}
	clk.t = time.Date(2026, 11, 26, 23, 50, 0, 0, clk.t.Location())
	end("01A")
	clk.Add(5 * time.Minute)
	end("01B")
	steps := []struct {
		name          string
		advance       time.Duration
		end           string
		today, last15 int
	}{
		{"both ended calls count", 0, "", 2, 2},
		{"at 23:59 both still count", 4 * time.Minute, "", 2, 2},
		{"after midnight today starts again, the last 15 minutes go on", 2 * time.Minute, "", 0, 2},
		{"a call ending after midnight keeps the last 15 minutes across it", time.Minute, "01C", 1, 3},
		{"16 minutes after the first it leaves the last 15 minutes", 4 * time.Minute, "", 1, 2},
		{"later only the call of today counts", 15 * time.Minute, "", 1, 0},
		{"the next day nothing counts", 24 * time.Hour, "", 0, 0},
	}
	for _, st := range steps {
		clk.Add(st.advance)
		if st.end != "" {
			end(st.end)
		}
		if today, last15 := counts(); today != st.today || last15 != st.last15 {
			t.Errorf("%s (%s): today %d, last 15 minutes %d; want %d, %d", st.name, clk.Now().Format("15:04"), today, last15, st.today, st.last15)
		}
	}
}

// Subscribers are told of changes without being flooded: changes made while a
// subscriber is busy coalesce into one notification.
func TestChangesCoalesce(t *testing.T) {
	h, _ := newHub(nil)
	ch, cancel := h.Subscribe()
	other, cancelOther := h.Subscribe()
	defer cancelOther()
	pending := func(ch <-chan struct{}) int {
		n := 0
		for {
			select {
			case <-ch:
				n++
			default:
				return n
			}
		}
	}
	if n := pending(ch); n != 0 {
		t.Fatalf("%d notifications before any change", n)
	}
	h.CallStarted("01A", "retail", "idv")
	h.Step(&flow.Interaction{ID: "01A"}, flow.Event{Kind: flow.EventPrompt, Phase: flow.PhaseWelcome})
	h.SetAgentState("PJSIP/agent1", flow.AgentIdle)
	if n := pending(ch); n != 1 {
		t.Errorf("%d notifications for three changes while busy, want 1", n)
	}
	h.CallEnded("01A", nil)
	if n := pending(ch); n != 1 {
		t.Errorf("%d notifications for a change after the last was read, want 1", n)
	}
	cancel()
	h.CallStarted("01B", "retail", "idv")
	if n := pending(ch); n != 0 {
		t.Errorf("%d notifications after cancel", n)
	}
	if n := pending(other); n != 1 {
		t.Errorf("the other subscriber got %d notifications, want 1", n)
	}
}

// A notification wakes a subscriber waiting on another goroutine.
func TestSubscriberIsWoken(t *testing.T) {
	h, _ := newHub(nil)
	ch, cancel := h.Subscribe()
	defer cancel()
	seen := make(chan int)
	go func() {
		<-ch
		seen <- len(h.Snapshot().Calls)
	}()
	h.CallStarted("01A", "retail", "idv")
	if n := <-seen; n != 1 {
		t.Errorf("the woken subscriber sees %d calls, want 1", n)
	}
}

// agentDesk is the store of what agents do. With inProgress set, it holds only those
// calls as in progress, as the store does the calls not ended.
type agentDesk struct {
	agents, wrapups map[string]string
	inProgress      map[string]bool
	err             error
}

func (d *agentDesk) SetAgent(_ context.Context, id, agent string) error {
	if d.inProgress != nil && !d.inProgress[id] {
		return errors.New("no call in progress")
	}
	d.agents[id] = agent
	return d.err
}

// TestOnlyACallInProgressReachesAnAgent: an agent connect naming a call that is in
// progress on no instance (ended, or never was: a stray FastAGI client) changes nothing
// and adds no agent to the live views; one the store holds as in progress (another
// instance's call) does.
func TestOnlyACallInProgressReachesAnAgent(t *testing.T) {
	for _, desk := range []*agentDesk{nil, {agents: map[string]string{}, inProgress: map[string]bool{"01PEER": true}}} {
		var rec live.AgentRecorder
		if desk != nil {
			rec = desk
		}
		h, _ := newHub(rec)
		if err := h.AgentConnected(context.Background(), "01STALE", "PJSIP/agent9"); err == nil {
			t.Error("an agent connect for no call in progress was taken")
		}
		if c, a := h.Pop("PJSIP/agent9"); c != nil || a.State == flow.AgentOnCall || len(h.Snapshot().Agents) != 0 {
			t.Errorf("after a connect for no call: pop %+v %+v, agents %+v", c, a, h.Snapshot().Agents)
		}
		if desk == nil {
			continue
		}
		if err := h.AgentConnected(context.Background(), "01PEER", "PJSIP/agent1"); err != nil {
			t.Fatal(err)
		}
		if _, a := h.Pop("PJSIP/agent1"); a.State != flow.AgentOnCall || a.Interaction != "01PEER" || desk.agents["01PEER"] != "PJSIP/agent1" {
			t.Errorf("another instance's call: agent %+v, stored %v", a, desk.agents)
		}
	}
}

func (d *agentDesk) SetWrapUp(_ context.Context, id, code string) error {
	if d.err != nil {
		return d.err
	}
	d.wrapups[id] = code
	return nil
}

// An agent goes on a call, into wrap-up when it ends (ARI's idle does not end the
// wrap-up), and is idle once a code is picked; the store keeps the agent and the code.
func TestAgentLifecycle(t *testing.T) {
	desk := &agentDesk{agents: map[string]string{}, wrapups: map[string]string{}}
	h, _ := newHub(desk)
	ctx := context.Background()
	const agent = "PJSIP/agent1"
	state := func() flow.AgentState {
		_, a := h.Pop(agent)
		return a.State
	}
	if c, a := h.Pop(agent); c != nil || a.State != flow.AgentIdle {
		t.Errorf("unknown agent pops %+v %+v, want idle without a call", c, a)
	}
	h.SetAgentState(agent, flow.AgentIdle)
	h.CallStarted("01A", "retail", "idv")
	h.Step(&flow.Interaction{ID: "01A", CustomerID: "100234", CustomerName: "Hanako Yamada"},
		flow.Event{Kind: flow.EventRoute, Phase: flow.PhaseRouting, Name: "queue:support"})
	if err := h.AgentConnected(ctx, "01A", agent); err != nil {
		t.Fatal(err)
	}
	c, a := h.Pop(agent)
	if c == nil || c.ID != "01A" || c.State != live.CallWithAgent || c.Agent != agent || c.CustomerName != "Hanako Yamada" ||
		a.State != flow.AgentOnCall || a.Interaction != "01A" {
		t.Errorf("pop %+v %+v", c, a)
	}
	if s := h.Snapshot(); s.WithAgents != 1 || s.InQueue["support"] != 0 {
		t.Errorf("with agents %d, in queue %v", s.WithAgents, s.InQueue)
	}
	if desk.agents["01A"] != agent {
		t.Errorf("stored agents %v", desk.agents)
	}
	h.CallEnded("01A", &flow.Interaction{ID: "01A", Status: flow.StatusIdentified})
	if got := state(); got != flow.AgentWrapUp {
		t.Errorf("agent %q after the call, want wrap-up", got)
	}
	h.SetAgentState(agent, flow.AgentIdle)
	if got := state(); got != flow.AgentWrapUp {
		t.Errorf("agent %q after ARI said idle during wrap-up, want wrap-up", got)
	}
	desk.err = errors.New("database is locked")
	if err := h.WrapUp(ctx, "01A", agent, "resolved"); err == nil || state() != flow.AgentWrapUp {
		t.Errorf("a wrap-up the store refused: %v, agent %s", err, state())
	}
	desk.err = nil
	if err := h.WrapUp(ctx, "01A", agent, "resolved"); err != nil || state() != flow.AgentIdle || desk.wrapups["01A"] != "resolved" {
		t.Errorf("wrap-up: %v, agent %s, stored %v", err, state(), desk.wrapups)
	}
	h.SetAgentState(agent, flow.AgentRinging)
	if got := state(); got != flow.AgentRinging {
		t.Errorf("agent %q, want ringing", got)
	}
}

// A wrap-up for an older call does not free an agent already on the next one.
func TestReleaseOnlyForTheAgentsCall(t *testing.T) {
	h, _ := newHub(nil)
	ctx := context.Background()
	const agent = "PJSIP/agent1"
	h.CallStarted("01B", "retail", "idv")
	if err := h.AgentConnected(ctx, "01B", agent); err != nil {
		t.Fatal(err)
	}
	h.Release(agent, "01A")
	if err := h.WrapUp(ctx, "01A", agent, "resolved"); err != nil {
		t.Fatal(err)
	}
	if _, a := h.Pop(agent); a.State != flow.AgentOnCall || a.Interaction != "01B" {
		t.Errorf("agent %+v, want still on call 01B", a)
	}
	h.CallEnded("01B", nil)
	h.Release(agent, "01B")
	if _, a := h.Pop(agent); a.State != flow.AgentIdle {
		t.Errorf("agent %+v after release, want idle", a)
	}
}

// The pages read the states as text: a call is "ivr", "queue" or "agent", an agent is
// "on a call", "wrap-up", "idle"… (app.js compares and translates these words).
func TestSnapshotStatesAreThePagesWords(t *testing.T) {
	h, _ := newHub(nil)
	ctx := context.Background()
	h.CallStarted("01IVR", "retail", "idv")
	h.CallStarted("01QUEUE", "retail", "idv")
	h.Step(&flow.Interaction{ID: "01QUEUE"}, flow.Event{Kind: flow.EventRoute, Phase: flow.PhaseRouting, Name: "queue:support"})
	for id, agent := range map[string]string{"01AGENT": "PJSIP/agent1", "01ENDED": "PJSIP/agent2"} {
		h.CallStarted(id, "retail", "idv")
		if err := h.AgentConnected(ctx, id, agent); err != nil {
			t.Fatal(err)
		}
	}
	h.CallEnded("01ENDED", nil)
	h.SetAgentState("PJSIP/agent3", flow.AgentOffline)
	b, err := json.Marshal(h.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Calls  []struct{ ID, State string }
		Agents []struct{ Agent, State string }
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range s.Calls {
		got[c.ID] = c.State
	}
	for _, a := range s.Agents {
		got[a.Agent] = a.State
	}
	want := map[string]string{"01IVR": "ivr", "01QUEUE": "queue", "01AGENT": "agent",
		"PJSIP/agent1": "on a call", "PJSIP/agent2": "wrap-up", "PJSIP/agent3": "offline"}
	if !maps.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
}

// The snapshot lists the IVR's steps in flow's order, each counted even when no caller is
// in it, so that the dashboard draws a tile for every step flow has.
func TestSnapshotListsTheIVRSteps(t *testing.T) {
	h, _ := newHub(nil)
	h.CallStarted("01A", "retail", "idv")
	h.Step(&flow.Interaction{ID: "01A"}, flow.Event{Kind: flow.EventDigits, Phase: flow.PhaseVerify})
	s := h.Snapshot()
	if !slices.Equal(s.IVRSteps, flow.IVRPhases()) {
		t.Errorf("IVR steps %v, want %v", s.IVRSteps, flow.IVRPhases())
	}
	want := map[flow.Phase]int{}
	for _, p := range flow.IVRPhases() {
		want[p] = 0
	}
	want[flow.PhaseVerify] = 1
	if !maps.Equal(s.InIVR, want) {
		t.Errorf("in IVR %v, want %v", s.InIVR, want)
	}
	b, _ := json.Marshal(s)
	if !strings.Contains(string(b), `"ivr_steps":["welcome","identify","verify","routing"]`) {
		t.Errorf("the pages get %s", b)
	}
}
