// Package ari observes Asterisk through ARI (github.com/CyCoreSystems/ari/v5): it follows
// the channels that carry IDV_INTERACTION into a queue and records when they entered it,
// which agent answered, abandon, transfer, talk time and hang-up cause on the interaction.
// Without ARI configured, idv runs with reduced views (no wait, talk or agent).
package ari

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/rs/zerolog"

	"github.com/idv-project/idv/flow"
)

// Outcome is what happened to a call in the queue.
type Outcome struct {
	Queue    string
	Agent    string // the answering agent's endpoint, e.g. PJSIP/agent1
	Entered  time.Time
	Answered time.Time // zero when nobody answered
	Ended    time.Time
	// Result: answered, abandoned (the caller left before an agent answered) or
	// transferred (the agent transferred the call).
	Result   string
	Cause    int
	CauseTxt string
}

// Wait is the time in the queue before an agent answered or the caller left.
func (o Outcome) Wait() time.Duration {
	if !o.Answered.IsZero() {
		return o.Answered.Sub(o.Entered)
	}
	return o.Ended.Sub(o.Entered)
}

// Talk is the time with the agent.
func (o Outcome) Talk() time.Duration {
	if o.Answered.IsZero() {
		return 0
	}
	return o.Ended.Sub(o.Answered)
}

// Sink stores outcomes on interactions (store.Store implements it).
type Sink interface {
	QueueOutcome(ctx context.Context, interaction string, o Outcome) error
}

// Observer turns ARI events into outcomes. Handle is its whole logic; Run feeds it from a
// client's event bus.
type Observer struct {
	Sink Sink
	Log  zerolog.Logger
	// Answered, when set, is told as soon as an agent answers (the live views' pop).
	Answered func(ctx context.Context, interaction, agent string) error
	// AgentState, when set, is told of agents' states: ringing (a queue call rings them),
	// idle, on a call, offline (from device-state events).
	AgentState func(agent, state string)

	mu    sync.Mutex
	calls map[string]*call // by the caller's channel id
	peers map[string]string
}

type call struct {
	interaction string
	queue       string
	entered     time.Time
	answered    time.Time
	agent       string
	transferred bool
}

func ts(e ari.Event, data ari.EventData) time.Time { return time.Time(data.Timestamp) }

// Handle takes one event.
func (o *Observer) Handle(ctx context.Context, e ari.Event) {
	o.mu.Lock()
	if o.calls == nil {
		o.calls, o.peers = map[string]*call{}, map[string]string{}
	}
	var done *call
	var out Outcome
	var answeredBy, answeredID string
	var stateOf, state string
	switch ev := e.(type) {
	case *ari.ChannelVarset:
		if strings.TrimLeft(ev.Variable, "_") != "IDV_INTERACTION" || ev.Value == "" {
			break
		}
		if _, isPeer := o.peers[ev.Channel.ID]; isPeer {
			break // the variable reached an agent's channel by inheritance
		}
		c := o.calls[ev.Channel.ID]
		if c == nil {
			c = &call{}
			o.calls[ev.Channel.ID] = c
		}
		c.interaction = ev.Value
	case *ari.ChannelDialplan:
		if c := o.calls[ev.Channel.ID]; c != nil && strings.EqualFold(ev.DialplanApp, "Queue") && c.entered.IsZero() {
			c.entered = ts(e, ev.EventData)
			c.queue, _, _ = strings.Cut(ev.DialplanAppData, ",")
		}
	case *ari.Dial:
		c := o.calls[ev.Caller.ID]
		if c == nil {
			break
		}
		o.peers[ev.Peer.ID] = ev.Caller.ID
		switch ev.Dialstatus {
		case "":
			stateOf, state = flow.AgentEndpoint(ev.Peer.Name), "ringing"
		case "NOANSWER", "BUSY", "CANCEL", "CHANUNAVAIL", "CONGESTION":
			stateOf, state = flow.AgentEndpoint(ev.Peer.Name), "idle"
		}
		if ev.Dialstatus == "ANSWER" && c.answered.IsZero() {
			c.answered = ts(e, ev.EventData)
			c.agent = flow.AgentEndpoint(ev.Peer.Name)
			answeredBy, answeredID = c.agent, c.interaction
		}
	case *ari.DeviceStateChanged:
		// Devices are named like endpoints (PJSIP/agent1); queue members use them.
		switch ev.DeviceState.State {
		case "NOT_INUSE":
			stateOf, state = ev.DeviceState.Name, "idle"
		case "INUSE", "BUSY", "ONHOLD":
			stateOf, state = ev.DeviceState.Name, "on a call"
		case "RINGING", "RINGINUSE":
			stateOf, state = ev.DeviceState.Name, "ringing"
		case "UNAVAILABLE", "INVALID":
			stateOf, state = ev.DeviceState.Name, "offline"
		}
	case *ari.BridgeBlindTransfer:
		for _, id := range []string{ev.Transferee.ID, ev.Channel.ID} {
			o.markTransferred(id)
		}
	case *ari.BridgeAttendedTransfer:
		for _, id := range []string{ev.TransfererFirstLeg.ID, ev.TransfererSecondLeg.ID, ev.Transferee.ID} {
			o.markTransferred(id)
		}
	case *ari.ChannelDestroyed:
		delete(o.peers, ev.Channel.ID)
		c := o.calls[ev.Channel.ID]
		if c == nil {
			break
		}
		delete(o.calls, ev.Channel.ID)
		if c.entered.IsZero() || c.interaction == "" {
			break // never queued: nothing for the queue views
		}
		out = Outcome{Queue: c.queue, Agent: c.agent, Entered: c.entered, Answered: c.answered, Ended: ts(e, ev.EventData),
			Cause: ev.Cause, CauseTxt: ev.CauseTxt, Result: "abandoned"}
		switch {
		case c.transferred:
			out.Result = "transferred"
		case !c.answered.IsZero():
			out.Result = "answered"
		}
		done = c
	}
	o.mu.Unlock()
	if stateOf != "" && o.AgentState != nil {
		o.AgentState(stateOf, state)
	}
	if answeredBy != "" && o.Answered != nil {
		if err := o.Answered(ctx, answeredID, answeredBy); err != nil {
			o.Log.Error().Err(err).Str("interaction", answeredID).Msg("recording the answering agent")
		}
	}
	if done == nil {
		return
	}
	if err := o.Sink.QueueOutcome(ctx, done.interaction, out); err != nil {
		o.Log.Error().Err(err).Str("interaction", done.interaction).Msg("recording the queue outcome")
		return
	}
	o.Log.Info().Str("interaction", done.interaction).Str("queue", out.Queue).Str("result", out.Result).Str("agent", out.Agent).
		Dur("wait", out.Wait()).Dur("talk", out.Talk()).Msg("queue outcome")
}

// markTransferred flags the call a channel belongs to (caller or agent) as transferred.
func (o *Observer) markTransferred(id string) {
	if id == "" {
		return
	}
	if caller, ok := o.peers[id]; ok {
		id = caller
	}
	if c := o.calls[id]; c != nil && !c.answered.IsZero() {
		c.transferred = true
	}
}

// Run handles the events of client until ctx ends. Once subscribed it asks Asterisk for
// its version (logged), so that a peer can tell the observer is listening.
func (o *Observer) Run(ctx context.Context, client ari.Client) {
	sub := client.Bus().Subscribe(nil, ari.Events.All)
	defer sub.Cancel()
	if info, err := client.Asterisk().Info(nil); err == nil && info != nil {
		o.Log.Info().Str("asterisk", info.SystemInfo.Version).Str("entity", info.SystemInfo.EntityID).Msg("ARI: observing queues")
	}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Events():
			if !ok {
				return
			}
			o.Handle(ctx, e)
		}
	}
}
