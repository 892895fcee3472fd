// Package ari observes Asterisk through ARI (github.com/CyCoreSystems/ari/v5) for the calls
// that idv queues itself. idv knows when such a call enters and leaves the queue (it runs
// Queue() from the AGI session); ARI supplies the rest: which agent answered and when,
// transfers, abandons, hang-up causes and the agents' device states. The result is stored
// on the interaction as a flow.QueueOutcome. Without ARI configured, idv runs with reduced
// views (no wait, talk or agent).
//
// The observer asks Asterisk only for what it follows: the caller's channel when idv
// queues it, the answering agent's channel, and the agents' device states. It never
// subscribes to every event of the PBX, which on a busy system would cost idv more than
// its own calls.
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

// Sink stores outcomes on interactions (store.Store implements it).
type Sink interface {
	QueueOutcome(ctx context.Context, interaction string, o flow.QueueOutcome) error
}

// Subscriber asks Asterisk to send the ARI application the events of one source:
// "channel:ID", "deviceState:PJSIP/agent1" (POST /applications/{app}/subscription).
type Subscriber interface {
	Subscribe(source string) error
}

// Observer turns idv's queue steps and ARI events into outcomes. Step (idv's side) and
// Handle (ARI's side) are its whole logic; Run feeds Handle from a client's event bus.
type Observer struct {
	Sink Sink
	Log  zerolog.Logger
	// Answered, when set, is told as soon as an agent answers (the live views' pop).
	Answered func(ctx context.Context, interaction, agent string) error
	// AgentState, when set, is told of agents' states: ringing (a queue call rings them),
	// idle, on a call, offline (from device-state events).
	AgentState func(agent, state string)

	mu         sync.Mutex
	subscriber Subscriber        // nil while ARI is not connected
	calls      map[string]*call  // by the caller's channel id (agi_uniqueid)
	peers      map[string]string // agent channel id → caller channel id
	devices    map[string]bool   // device states subscribed to
}

type call struct {
	interaction string
	queue       string
	entered     time.Time
	exited      time.Time // when Queue() returned; zero while the caller is in it
	status      string    // QUEUESTATUS when Queue() returned
	answered    time.Time
	agent       string
	transferred bool
}

// CallStarted implements agi.Observer; the observer follows only queued calls.
func (o *Observer) CallStarted(id, line, script string) {}

// CallEnded implements agi.Observer.
func (o *Observer) CallEnded(id string, in *flow.Interaction) {}

// AGICommand implements agi.Observer.
func (o *Observer) AGICommand(command string, took time.Duration) {}

// Step implements agi.Observer: a queue route about to run Queue() starts following the
// caller's channel (subscribed before Queue() rings anyone), and Queue()'s return marks
// the exit from the queue.
func (o *Observer) Step(in *flow.Interaction, ev flow.Event) {
	switch {
	case ev.Kind == flow.EventRoute && strings.HasPrefix(ev.Name, "queue:"):
		queue, _, _ := strings.Cut(strings.TrimPrefix(ev.Name, "queue:"), ",")
		o.enter(in.ID, in.UniqueID, queue, ev.At)
	case ev.Kind == flow.EventQueue:
		o.mu.Lock()
		if c := o.calls[in.UniqueID]; c != nil {
			c.exited, c.status = ev.At, ev.Result
		}
		o.mu.Unlock()
	}
}

func (o *Observer) enter(interaction, channel, queue string, at time.Time) {
	o.mu.Lock()
	sub := o.subscriber
	if sub == nil || channel == "" {
		o.mu.Unlock()
		return // no ARI: nothing would ever end the call's record
	}
	o.init()
	o.calls[channel] = &call{interaction: interaction, queue: queue, entered: at}
	o.mu.Unlock()
	if err := sub.Subscribe("channel:" + channel); err != nil {
		o.Log.Warn().Err(err).Str("interaction", interaction).Msg("ARI: cannot follow the call in the queue; no wait, talk or agent for it")
		o.mu.Lock()
		delete(o.calls, channel)
		o.mu.Unlock()
	}
}

func (o *Observer) init() {
	if o.calls == nil {
		o.calls, o.peers, o.devices = map[string]*call{}, map[string]string{}, map[string]bool{}
	}
}

// Handle takes one ARI event.
func (o *Observer) Handle(ctx context.Context, e ari.Event) {
	o.mu.Lock()
	o.init()
	var done *call
	var out flow.QueueOutcome
	var answeredBy, answeredID string
	var stateOf, state string
	var follow []string
	switch ev := e.(type) {
	case *ari.Dial:
		c := o.calls[ev.Caller.ID]
		if c == nil {
			break
		}
		if _, known := o.peers[ev.Peer.ID]; !known {
			o.peers[ev.Peer.ID] = ev.Caller.ID
			// The agent's channel: its transfers and its end.
			follow = append(follow, "channel:"+ev.Peer.ID)
		}
		agent := flow.AgentEndpoint(ev.Peer.Name)
		if !o.devices[agent] {
			o.devices[agent] = true
			follow = append(follow, "deviceState:"+agent)
		}
		switch ev.Dialstatus {
		case "":
			stateOf, state = agent, "ringing"
		case "NOANSWER", "BUSY", "CANCEL", "CHANUNAVAIL", "CONGESTION":
			stateOf, state = agent, "idle"
		case "ANSWER":
			if c.answered.IsZero() {
				c.answered = ts(ev.EventData)
				c.agent = agent
				answeredBy, answeredID = c.agent, c.interaction
			}
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
		done, out = c, c.outcome(ts(ev.EventData))
		out.Cause, out.CauseTxt = ev.Cause, ev.CauseTxt
	}
	sub := o.subscriber
	o.mu.Unlock()
	for _, source := range follow {
		if sub == nil {
			break
		}
		if err := sub.Subscribe(source); err != nil {
			o.Log.Warn().Err(err).Str("source", source).Msg("ARI: subscribing")
		}
	}
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
	o.Log.Info().Str("interaction", done.interaction).Str("queue", out.Queue).Str("result", string(out.Result)).Str("agent", out.Agent).
		Dur("wait", out.Wait()).Dur("talk", out.Talk()).Msg("queue outcome")
}

// outcome ends a call whose channel was destroyed at end. The queue part ends when
// Queue() returned, if idv saw it return (the caller may stay in the dialplan after).
func (c *call) outcome(end time.Time) flow.QueueOutcome {
	out := flow.QueueOutcome{Queue: c.queue, Agent: c.agent, Entered: c.entered, Answered: c.answered, Ended: end, Result: flow.QueueAbandoned}
	if !c.exited.IsZero() && c.exited.Before(end) {
		out.Ended = c.exited
	}
	switch {
	case c.transferred:
		out.Result = flow.QueueTransferred
	case !c.answered.IsZero():
		out.Result = flow.QueueAnswered
	case c.status != "" && !c.exited.IsZero():
		// Queue() returned with a status and the caller went on in the dialplan: it
		// left the queue (TIMEOUT, FULL, …), it did not hang up in it.
		out.Result = flow.QueueLeft(c.status)
	}
	return out
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

func ts(data ari.EventData) time.Time { return time.Time(data.Timestamp) }

// Run handles the events of client until ctx ends. It subscribes the application to the
// device states of the endpoints Asterisk has (the agents' phones among them), then to
// each queued call as idv queues it.
func (o *Observer) Run(ctx context.Context, client ari.Client) {
	sub := client.Bus().Subscribe(nil, ari.Events.All)
	defer sub.Cancel()
	app := appSubscriber{client.Application(), ari.NewKey(ari.ApplicationKey, client.ApplicationName())}
	o.mu.Lock()
	o.init()
	o.subscriber = app
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.subscriber = nil
		o.mu.Unlock()
	}()
	if info, err := client.Asterisk().Info(nil); err == nil && info != nil {
		o.Log.Info().Str("asterisk", info.SystemInfo.Version).Str("entity", info.SystemInfo.EntityID).Msg("ARI: observing queues")
	}
	if endpoints, err := client.Endpoint().List(nil); err == nil {
		for _, k := range endpoints {
			o.followDevice(app, k.ID)
		}
	} else {
		o.Log.Warn().Err(err).Msg("ARI: listing endpoints; agents' states appear from their first call")
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

// followDevice subscribes to the device state of an endpoint (PJSIP/agent1) once.
func (o *Observer) followDevice(sub Subscriber, device string) {
	o.mu.Lock()
	seen := o.devices[device]
	o.devices[device] = true
	o.mu.Unlock()
	if seen {
		return
	}
	if err := sub.Subscribe("deviceState:" + device); err != nil {
		o.Log.Debug().Err(err).Str("device", device).Msg("ARI: no device state to follow")
	}
}

// appSubscriber subscribes one ARI application.
type appSubscriber struct {
	app ari.Application
	key *ari.Key
}

func (a appSubscriber) Subscribe(source string) error { return a.app.Subscribe(a.key, source) }
