package live_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/live"
)

// An instance's part holds its calls, agents and summed tiles, with a version that grows
// with every local change and only then: the peers' parts arriving change nothing this
// instance has to publish.
func TestPartAndItsVersion(t *testing.T) {
	h, clk := newHub(nil)
	_, v0 := h.Part("a")
	h.CallStarted("01A", "retail", "idv")
	h.CallStarted("01B", "retail", "idv")
	h.CallEnded("01B", &flow.Interaction{ID: "01B", Status: flow.StatusVerified, Reason: flow.ReasonOK})
	if err := h.AgentConnected(context.Background(), "01A", "PJSIP/agent1"); err != nil {
		t.Fatal(err)
	}
	p, v1 := h.Part("a")
	if v1 <= v0 {
		t.Errorf("version %d after local changes, was %d", v1, v0)
	}
	if p.Instance != "a" || !p.At.Equal(clk.Now()) || !p.Day.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, clk.Now().Location())) ||
		len(p.Calls) != 1 || p.Calls[0].ID != "01A" || len(p.Agents) != 1 ||
		p.Today != (live.Tiles{Calls: 1, Verified: 1}) || p.Last15 != p.Today {
		t.Errorf("part %+v", p)
	}
	h.SetPeers([]live.Part{{Instance: "b", Day: p.Day}})
	if _, v2 := h.Part("a"); v2 != v1 {
		t.Errorf("version %d after the peers changed, want %d", v2, v1)
	}
}

// The snapshot shows every instance's calls, agents and tiles; a peer's day-old tiles
// stay out of today, and an agent this instance holds is shown once, as it holds them.
func TestSnapshotMergesPeers(t *testing.T) {
	h, clk := newHub(nil)
	now := clk.Now()
	today := time.Date(2026, 11, 26, 0, 0, 0, 0, now.Location())
	h.CallStarted("01A", "retail", "idv")
	h.CallEnded("01A", &flow.Interaction{ID: "01A", Status: flow.StatusVerified, Reason: flow.ReasonOK})
	clk.Add(time.Second)
	h.CallStarted("01C", "retail", "idv")
	if err := h.AgentConnected(context.Background(), "01C", "PJSIP/agent1"); err != nil {
		t.Fatal(err)
	}
	ch, cancel := h.Subscribe()
	defer cancel()
	h.SetPeers([]live.Part{
		{Instance: "b", At: now, Day: today,
			Calls: []live.Call{
				{ID: "01B1", State: live.CallInIVR, Step: flow.PhaseVerify, Started: now.Add(-time.Minute)},
				{ID: "01B2", State: live.CallInQueue, Queue: "support", QueuedAt: now.Add(-40 * time.Second), Started: now.Add(-2 * time.Minute)},
			},
			Agents: []live.Agent{{Agent: "PJSIP/agent1", State: flow.AgentIdle}, {Agent: "PJSIP/agent2", State: flow.AgentOnCall, Interaction: "01B3"}},
			Today:  live.Tiles{Calls: 4, Identified: 3, Errors: 1, ANILookups: 2, ANIHits: 1},
			Last15: live.Tiles{Calls: 1, Errors: 1}},
		{Instance: "c", At: now, Day: today.AddDate(0, 0, -1),
			Calls:  []live.Call{{ID: "01C1", State: live.CallWithAgent, Agent: "PJSIP/agent3", Started: now.Add(-3 * time.Minute)}},
			Today:  live.Tiles{Calls: 100, Verified: 100},
			Last15: live.Tiles{Calls: 2, OptedOut: 2}},
	})
	select {
	case <-ch:
	default:
		t.Error("the peers' parts arriving told no subscriber")
	}
	s := h.Snapshot()
	if s.Instances != 3 {
		t.Errorf("%d instances, want 3", s.Instances)
	}
	var ids []string
	for _, c := range s.Calls {
		ids = append(ids, c.ID)
	}
	if want := []string{"01C1", "01B2", "01B1", "01C"}; !slices.Equal(ids, want) {
		t.Errorf("calls %v, want %v (oldest first)", ids, want)
	}
	if s.InIVR[flow.PhaseVerify] != 1 || s.InIVR[flow.PhaseWelcome] != 0 || s.InQueue["support"] != 1 ||
		s.Longest["support"] != 41 || s.WithAgents != 2 {
		t.Errorf("in IVR %v, in queue %v, longest %v, with agents %d", s.InIVR, s.InQueue, s.Longest, s.WithAgents)
	}
	wantToday := live.Tiles{Calls: 5, Verified: 1, Identified: 3, Errors: 1, ANILookups: 2, ANIHits: 1, ANIHitRate: 0.5}
	if s.Today != wantToday {
		t.Errorf("today %+v, want %+v (the day-old part's today left out)", s.Today, wantToday)
	}
	if want := (live.Tiles{Calls: 4, Verified: 1, Errors: 1, OptedOut: 2}); s.Last15 != want {
		t.Errorf("last 15 minutes %+v, want %+v", s.Last15, want)
	}
	var agents []string
	for _, a := range s.Agents {
		agents = append(agents, a.Agent+" "+string(a.State))
	}
	if want := []string{"PJSIP/agent1 on a call", "PJSIP/agent2 on a call"}; !slices.Equal(agents, want) {
		t.Errorf("agents %v, want %v", agents, want)
	}
}

// An agent whose call went through another instance sees that call in their pop, and
// their wrap-up is stored here and handed to that instance, which frees them.
func TestPeerAgent(t *testing.T) {
	desk := &agentDesk{agents: map[string]string{}, wrapups: map[string]string{}}
	h, _ := newHub(desk)
	forwarded := make(chan [3]string, 1)
	h.Forward = func(instance, agent, id string) { forwarded <- [3]string{instance, agent, id} }
	h.SetPeers([]live.Part{{Instance: "b",
		Calls:  []live.Call{{ID: "01B", State: live.CallWithAgent, Agent: "PJSIP/agent2", CustomerName: "Ken Ito"}},
		Agents: []live.Agent{{Agent: "PJSIP/agent2", State: flow.AgentOnCall, Interaction: "01B"}}}})
	c, a := h.Pop("PJSIP/agent2")
	if c == nil || c.ID != "01B" || c.CustomerName != "Ken Ito" || a.State != flow.AgentOnCall {
		t.Errorf("pop %+v %+v", c, a)
	}
	if err := h.WrapUp(context.Background(), "01B", "PJSIP/agent2", "sales"); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-forwarded:
		if f != [3]string{"b", "PJSIP/agent2", "01B"} {
			t.Errorf("forwarded %v", f)
		}
	default:
		t.Error("the wrap-up was not handed to instance b")
	}
	if desk.wrapups["01B"] != "sales" {
		t.Errorf("stored wrap-ups %v", desk.wrapups)
	}

	// A peer's agent whose call ended on that instance pops without a call.
	h.SetPeers([]live.Part{{Instance: "b", Agents: []live.Agent{{Agent: "PJSIP/agent2", State: flow.AgentWrapUp, Interaction: "01B"}}}})
	if c, a := h.Pop("PJSIP/agent2"); c != nil || a.State != flow.AgentWrapUp {
		t.Errorf("pop %+v %+v, want wrap-up without a call", c, a)
	}
}
