package live

import (
	"time"

	"github.com/idv-project/idv/flow"
)

// Part is one instance's share of the live state, as the other instances of a cluster
// see it: its calls, its agents and its tiles (already summed, so that a day of ended
// calls is not sent around).
type Part struct {
	Instance string    `json:"instance"`
	At       time.Time `json:"at"`
	Day      time.Time `json:"day"` // the start of the day Today counts
	Calls    []Call    `json:"calls"`
	Agents   []Agent   `json:"agents"`
	Today    Tiles     `json:"today"`
	Last15   Tiles     `json:"last_15_minutes"`
}

// Part is this instance's own state now, and the version of it (it grows with every
// local change).
func (h *Hub) Part(instance string) (Part, uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	p := Part{Instance: instance, At: now, Day: h.today()}
	for _, c := range h.calls {
		p.Calls = append(p.Calls, *c)
	}
	for _, a := range h.agents {
		p.Agents = append(p.Agents, *a)
	}
	p.Today, p.Last15 = h.tiles(now)
	return p, h.version
}

// SetPeers replaces what the other instances hold and tells subscribers.
func (h *Hub) SetPeers(parts []Part) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.peers = parts
	h.notify()
}

// addPeers adds the other instances' calls, tiles and agents to a snapshot; h.mu is
// held.
func (h *Hub) addPeers(s *Snapshot) {
	s.Instances = 1 + len(h.peers)
	today := h.today()
	for _, p := range h.peers {
		for _, c := range p.Calls {
			s.tally(c)
		}
		if p.Day.Equal(today) {
			add(&s.Today, p.Today)
		}
		add(&s.Last15, p.Last15)
		for _, a := range p.Agents {
			if h.agents[a.Agent] == nil {
				s.Agents = append(s.Agents, a)
			}
		}
	}
}

// peerAgent finds an agent held by another instance; h.mu is held.
func (h *Hub) peerAgent(agent string) (*Part, Agent, bool) {
	for i := range h.peers {
		for _, a := range h.peers[i].Agents {
			if a.Agent == agent {
				return &h.peers[i], a, true
			}
		}
	}
	return nil, Agent{}, false
}

// peerPop is an agent's pop when another instance holds the agent; h.mu is held.
func (h *Hub) peerPop(agent string) (*Call, *Agent) {
	p, a, ok := h.peerAgent(agent)
	if !ok {
		return nil, &Agent{Agent: agent, State: flow.AgentIdle}
	}
	for _, c := range p.Calls {
		if c.ID == a.Interaction {
			return &c, &a
		}
	}
	return nil, &a
}
