// Package ari observes Asterisk through ARI (github.com/CyCoreSystems/ari/v5) for the calls
// that idv queues itself. idv knows when such a call enters and leaves the queue (it runs
// Queue() from the AGI session); ARI supplies the rest: which agent answered and when,
// transfers, abandons, hang-up causes and the agents' device states. The result is stored
// on the interaction as a flow.QueueOutcome. Without ARI configured, idv runs with reduced
// views (no wait, talk or agent).
//
// The observer asks Asterisk only for what it follows: the caller's channel when idv
// queues it, the channels of the agents the queue rings, and the endpoints' device states.
// It never subscribes to every event of the PBX, which on a busy system would cost idv
// more than its own calls.
//
// Times: a call's entry into and exit from the queue are idv's clock, the answer and the
// end are Asterisk's event timestamps; run both hosts on NTP.
package ari

import (
	"context"
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

// Bounds of the observer's bookkeeping.
const (
	// subscribeWait is how long a queue route waits for the caller's subscription before
	// Queue() runs; past it the call goes on and the subscription may still land.
	subscribeWait = 500 * time.Millisecond
	// unreported is how long after Queue() returned a call waits for ARI's word of its
	// end (the caller may go on in the dialplan); then its outcome is stored without it.
	unreported = 10 * time.Minute
	// forgotten is how long a call that never left the queue (ARI lost it) is kept.
	forgotten = 24 * time.Hour
	// sweepEvery is how often the observer stores unreported outcomes, forgets lost
	// calls and renews its subscriptions (after a websocket reconnect Asterisk may have
	// dropped them; the client reconnects without telling).
	sweepEvery = time.Minute
)

// Observer turns idv's queue steps and ARI events into outcomes. Step (idv's side) and
// Handle (ARI's side) are its whole logic; Run feeds Handle from a client's event bus.
// Handle only updates the observer's state: what it must tell or store is done in order
// by Run's worker, so that the event loop keeps up (the ARI client drops events it cannot
// deliver).
type Observer struct {
	Sink Sink
	Log  zerolog.Logger
	// Answered, when set, is told as soon as an agent answers (the live views' pop).
	Answered func(ctx context.Context, interaction, agent string) error
	// AgentState, when set, is told of agents' states: flow.AgentRinging (a queue call
	// rings them), and from device-state events flow.AgentIdle, flow.AgentOnCall and
	// flow.AgentOffline.
	AgentState func(agent string, state flow.AgentState)

	mu         sync.Mutex
	subscriber Subscriber        // nil until Run has a client
	calls      map[string]*call  // by the caller's channel id (agi_uniqueid)
	peers      map[string]string // agent channel id → caller channel id
	devices    map[string]bool   // device states subscribed to
	work       chan func()       // Run's worker; nil: effects run at once
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

// CallStarted implements app.Observer; the observer follows only queued calls.
func (o *Observer) CallStarted(id, line, script string) {}

// CallEnded implements app.Observer.
func (o *Observer) CallEnded(id string, in *flow.Interaction) {}

// AGICommand implements app.Observer.
func (o *Observer) AGICommand(command string, took time.Duration) {}

// Step implements app.Observer: a queue route about to run Queue() starts following the
// caller's channel (subscribed before Queue() rings anyone, or within subscribeWait),
// and Queue()'s return marks the exit from the queue.
func (o *Observer) Step(in *flow.Interaction, ev flow.Event) {
	switch {
	case ev.Kind == flow.EventRoute && flow.QueueOf(ev.Name) != "":
		o.enter(in.ID, in.UniqueID, flow.QueueOf(ev.Name), ev.At)
	case ev.Kind == flow.EventQueue:
		o.mu.Lock()
		if c := o.calls[in.UniqueID]; c != nil && c.interaction == in.ID {
			c.exited, c.status = ev.At, string(ev.Result)
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
	var effects []func()
	if prev := o.calls[channel]; prev != nil && !prev.exited.IsZero() {
		// The dialplan runs idv again on a channel that left a queue: that stint is over.
		effects = append(effects, o.store(prev, prev.outcome(prev.exited)))
	}
	o.calls[channel] = &call{interaction: interaction, queue: queue, entered: at}
	o.mu.Unlock()
	o.do(effects...)
	done := make(chan error, 1)
	go func() { done <- sub.Subscribe("channel:" + channel) }()
	select {
	case err := <-done:
		if err != nil {
			o.Log.Warn().Err(err).Str("interaction", interaction).Msg("ARI: cannot follow the call in the queue; no wait, talk or agent for it")
			o.mu.Lock()
			if c := o.calls[channel]; c != nil && c.interaction == interaction {
				delete(o.calls, channel)
			}
			o.mu.Unlock()
		}
	case <-time.After(subscribeWait):
		o.Log.Warn().Str("interaction", interaction).Dur("waited_ms", subscribeWait).Msg("ARI is slow to subscribe: queueing the call without waiting")
	}
}

func (o *Observer) init() {
	if o.calls == nil {
		o.calls, o.peers, o.devices = map[string]*call{}, map[string]string{}, map[string]bool{}
	}
}

// do runs effects in order on Run's worker, or at once without one.
func (o *Observer) do(effects ...func()) {
	o.mu.Lock()
	work := o.work
	o.mu.Unlock()
	for _, f := range effects {
		select {
		case work <- f: // a nil work (no worker) is never ready
		default:
			f() // no worker, or its queue is full: at once rather than block the caller
		}
	}
}

// Handle takes one ARI event.
func (o *Observer) Handle(ctx context.Context, e ari.Event) {
	o.mu.Lock()
	o.init()
	var effects []func()
	switch ev := e.(type) {
	case *ari.Dial:
		c := o.calls[ev.Caller.ID]
		if c == nil || !c.exited.IsZero() {
			break // not a call idv queued, or a dial after it left the queue
		}
		if _, known := o.peers[ev.Peer.ID]; !known {
			o.peers[ev.Peer.ID] = ev.Caller.ID
			// The agent's channel: its transfers and its end.
			effects = append(effects, o.follow("channel:"+ev.Peer.ID, func() { delete(o.peers, ev.Peer.ID) }))
		}
		agent := flow.AgentEndpoint(ev.Peer.Name)
		if !o.devices[agent] {
			o.devices[agent] = true
			effects = append(effects, o.follow("deviceState:"+agent, func() { delete(o.devices, agent) }))
		}
		switch ev.Dialstatus {
		case "":
			effects = append(effects, o.agentState(agent, flow.AgentRinging))
		case "NOANSWER", "BUSY", "CANCEL", "CHANUNAVAIL", "CONGESTION":
			effects = append(effects, o.agentState(agent, flow.AgentIdle))
		case "ANSWER":
			if c.answered.IsZero() {
				c.answered = ts(ev.EventData)
				c.agent = agent
				effects = append(effects, o.answered(ctx, c.interaction, agent))
			}
		}
	case *ari.DeviceStateChanged:
		// Devices are named like endpoints (PJSIP/agent1); queue members use them.
		switch ev.DeviceState.State {
		case "NOT_INUSE":
			effects = append(effects, o.agentState(ev.DeviceState.Name, flow.AgentIdle))
		case "INUSE", "BUSY", "ONHOLD":
			effects = append(effects, o.agentState(ev.DeviceState.Name, flow.AgentOnCall))
		case "RINGING", "RINGINUSE":
			effects = append(effects, o.agentState(ev.DeviceState.Name, flow.AgentRinging))
		case "UNAVAILABLE", "INVALID":
			effects = append(effects, o.agentState(ev.DeviceState.Name, flow.AgentOffline))
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
		out := c.outcome(ts(ev.EventData))
		out.Cause, out.CauseTxt = ev.Cause, ev.CauseTxt
		effects = append(effects, o.store(c, out))
	}
	o.mu.Unlock()
	o.do(effects...)
}

// follow subscribes to a source; forget (run under the lock) undoes the bookkeeping
// that said it was subscribed, so that a later event tries again. Called under the lock.
func (o *Observer) follow(source string, forget func()) func() {
	sub := o.subscriber
	return func() {
		if sub == nil {
			return
		}
		if err := sub.Subscribe(source); err != nil {
			o.Log.Debug().Err(err).Str("source", source).Msg("ARI: subscribing")
			o.mu.Lock()
			forget()
			o.mu.Unlock()
		}
	}
}

func (o *Observer) agentState(agent string, state flow.AgentState) func() {
	return func() {
		if o.AgentState != nil {
			o.AgentState(agent, state)
		}
	}
}

func (o *Observer) answered(ctx context.Context, interaction, agent string) func() {
	return func() {
		if o.Answered == nil {
			return
		}
		if err := o.Answered(ctx, interaction, agent); err != nil {
			o.Log.Error().Err(err).Str("interaction", interaction).Msg("recording the answering agent")
		}
	}
}

// store writes a call's outcome.
func (o *Observer) store(c *call, out flow.QueueOutcome) func() {
	return func() {
		if err := o.Sink.QueueOutcome(context.Background(), c.interaction, out); err != nil {
			o.Log.Error().Err(err).Str("interaction", c.interaction).Msg("recording the queue outcome")
			return
		}
		o.Log.Info().Str("interaction", c.interaction).Str("queue", out.Queue).Str("result", string(out.Result)).Str("agent", out.Agent).
			Dur("wait_ms", out.Wait()).Dur("talk_ms", out.Talk()).Msg("queue outcome")
	}
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

// sweep stores the outcome of calls that left the queue long ago without ARI telling
// their end, forgets calls ARI lost in the queue, and renews the subscriptions of what
// the observer still follows.
func (o *Observer) sweep(now time.Time) {
	o.mu.Lock()
	var effects []func()
	for id, c := range o.calls {
		switch {
		case !c.exited.IsZero() && now.Sub(c.exited) > unreported:
			delete(o.calls, id)
			out := c.outcome(c.exited)
			out.CauseTxt = "end not reported by ARI"
			effects = append(effects, o.store(c, out))
		case c.exited.IsZero() && now.Sub(c.entered) > forgotten:
			delete(o.calls, id)
			o.Log.Warn().Str("interaction", c.interaction).Msg("ARI: lost a queued call; no queue outcome stored")
		default:
			effects = append(effects, o.follow("channel:"+id, func() {}))
		}
	}
	for peer, caller := range o.peers {
		if o.calls[caller] == nil {
			delete(o.peers, peer)
		}
	}
	for device := range o.devices {
		effects = append(effects, o.follow("deviceState:"+device, func() {}))
	}
	o.mu.Unlock()
	o.do(effects...)
}

// Run handles the events of client until ctx ends. It subscribes the application to the
// device states of the endpoints Asterisk has (the agents' phones among them), then to
// each queued call as idv queues it.
func (o *Observer) Run(ctx context.Context, client ari.Client) {
	sub := client.Bus().Subscribe(nil, ari.Events.All)
	defer sub.Cancel()
	work, stop := make(chan func(), 4096), make(chan struct{})
	worked := make(chan struct{})
	go func() {
		defer close(worked)
		for {
			select {
			case f := <-work:
				f()
			case <-stop:
				for {
					select {
					case f := <-work:
						f()
					default:
						return
					}
				}
			}
		}
	}()
	app := appSubscriber{client.Application(), ari.NewKey(ari.ApplicationKey, client.ApplicationName())}
	o.mu.Lock()
	o.init()
	o.subscriber, o.work = app, work
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.subscriber, o.work = nil, nil
		o.mu.Unlock()
		close(stop)
		<-worked
	}()
	if info, err := client.Asterisk().Info(nil); err == nil && info != nil {
		o.Log.Info().Str("asterisk", info.SystemInfo.Version).Str("entity", info.SystemInfo.EntityID).Msg("ARI: observing queues")
	}
	if endpoints, err := client.Endpoint().List(nil); err == nil {
		o.mu.Lock()
		var effects []func()
		for _, k := range endpoints {
			if !o.devices[k.ID] {
				o.devices[k.ID] = true
				device := k.ID
				effects = append(effects, o.follow("deviceState:"+device, func() { delete(o.devices, device) }))
			}
		}
		o.mu.Unlock()
		o.do(effects...)
	} else {
		o.Log.Warn().Err(err).Msg("ARI: listing endpoints; agents' states appear from their first call")
	}
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			o.sweep(now)
		case e, ok := <-sub.Events():
			if !ok {
				return
			}
			o.Handle(ctx, e)
		}
	}
}

// appSubscriber subscribes one ARI application.
type appSubscriber struct {
	app ari.Application
	key *ari.Key
}

func (a appSubscriber) Subscribe(source string) error { return a.app.Subscribe(a.key, source) }
