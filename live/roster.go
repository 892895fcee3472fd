package live

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idv-project/idv/flow"
)

// Roster follows the agents' states beside the hub: since when each agent is in the
// state it is in, and, through Endpoints (ARI), the state of agents the hub has not
// heard of yet. It reads the hub's merged snapshot, so that agents held by other
// instances are followed too. Its zero value is not usable: set Hub, then Run it.
type Roster struct {
	Hub *Hub
	// Endpoints lists the devices Asterisk has and the state each is in (ARI's
	// endpoints); nil without ARI.
	Endpoints func(ctx context.Context) (map[string]flow.AgentState, error)
	// Poll is how often Endpoints is asked (30 s when 0).
	Poll time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	started time.Time
	seen    map[string]*rosterEntry
	devices map[string]flow.AgentState
	ready   chan struct{} // closed once the first look at the hub is taken
	once    sync.Once
}

type rosterEntry struct {
	state flow.AgentState
	since time.Time // zero: in that state since before the roster started
}

// RosterAgent is one agent as the roster knows them.
type RosterAgent struct {
	Agent string
	// State is what the hub says, else what ARI's endpoint says; "" when neither knows.
	State flow.AgentState
	// Since is when the roster saw the agent enter State; zero when it was in it already
	// when the roster started (how long is then not known).
	Since time.Time
	// Live says the hub knows the agent (a call reached them, or ARI reported their
	// device); Device that ARI lists their endpoint.
	Live, Device bool
}

func (r *Roster) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Roster) init() {
	r.once.Do(func() {
		r.seen, r.devices, r.ready, r.started = map[string]*rosterEntry{}, map[string]flow.AgentState{}, make(chan struct{}), r.now()
	})
}

// Run follows the hub's agents (and Endpoints every Poll) until ctx ends.
func (r *Roster) Run(ctx context.Context) {
	r.init()
	changes, cancel := r.Hub.Subscribe()
	defer cancel()
	poll := r.Poll
	if poll <= 0 {
		poll = 30 * time.Second
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	r.devicesNow(ctx)
	for {
		r.look()
		// At most four looks a second: a snapshot under thousands of calls is not free.
		gap := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			gap.Stop()
			return
		case <-gap.C:
		}
		select {
		case <-ctx.Done():
			return
		case <-changes:
		case <-tick.C:
			r.devicesNow(ctx)
		}
	}
}

// devicesNow asks Endpoints for the devices' states.
func (r *Roster) devicesNow(ctx context.Context) {
	if r.Endpoints == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	devices, err := r.Endpoints(ctx)
	if err != nil {
		return // the states the hub reports still show; the next poll tries again
	}
	r.mu.Lock()
	r.devices = devices
	r.mu.Unlock()
}

// look takes the hub's agents and the devices' states, and notes every change of state.
func (r *Roster) look() {
	agents := r.Hub.Snapshot().Agents
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	first := !r.looked()
	states := map[string]flow.AgentState{}
	for agent, state := range r.devices {
		states[agent] = state
	}
	for _, a := range agents {
		states[a.Agent] = a.State // the hub knows better than the device's state
	}
	for agent, state := range states {
		switch e := r.seen[agent]; {
		case e == nil && first:
			r.seen[agent] = &rosterEntry{state: state} // in it since before the roster started
		case e == nil:
			r.seen[agent] = &rosterEntry{state: state, since: now}
		case e.state != state:
			e.state, e.since = state, now
		}
	}
	if first {
		close(r.ready)
	}
}

// looked says whether the first look was taken; r.mu is held.
func (r *Roster) looked() bool {
	select {
	case <-r.ready:
		return true
	default:
		return false
	}
}

// Agents lists the agents the roster knows, with known (the configured agents and those
// the records name) added, sorted by name. An agent neither the hub nor ARI knows has no
// state.
func (r *Roster) Agents(known ...string) []RosterAgent {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]RosterAgent{}
	for _, k := range known {
		if k != "" {
			out[k] = RosterAgent{Agent: k}
		}
	}
	hub := map[string]bool{}
	if r.Hub != nil {
		for _, a := range r.Hub.Snapshot().Agents {
			hub[a.Agent] = true
			out[a.Agent] = RosterAgent{Agent: a.Agent, State: a.State, Live: true}
		}
	}
	for agent, state := range r.devices {
		a := out[agent]
		a.Agent, a.Device = agent, true
		if !hub[agent] {
			a.State = state
		}
		if _, configured := out[agent]; configured || hub[agent] {
			out[agent] = a
		}
	}
	for agent, a := range out {
		if e := r.seen[agent]; e != nil && e.state == a.State {
			a.Since = e.since
			out[agent] = a
		}
	}
	list := make([]RosterAgent, 0, len(out))
	for _, a := range out {
		list = append(list, a)
	}
	slices.SortFunc(list, func(a, b RosterAgent) int { return strings.Compare(a.Agent, b.Agent) })
	return list
}
