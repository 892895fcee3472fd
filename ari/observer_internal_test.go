package ari

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"github.com/rs/zerolog"

	"github.com/idv-project/idv/flow"
)

// sink keeps outcomes by interaction.
type sink struct {
	mu  sync.Mutex
	out map[string]flow.QueueOutcome
}

func (s *sink) QueueOutcome(_ context.Context, id string, o flow.QueueOutcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		s.out = map[string]flow.QueueOutcome{}
	}
	s.out[id] = o
	return nil
}

func (s *sink) get(id string) (flow.QueueOutcome, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.out[id]
	return o, ok
}

// subscriberFunc is a Subscriber.
type subscriberFunc func(string) error

func (f subscriberFunc) Subscribe(source string) error { return f(source) }

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func observer(sub Subscriber) (*Observer, *sink) {
	s := &sink{}
	o := &Observer{Sink: s, Log: zerolog.Nop()}
	o.init()
	o.subscriber = sub
	return o, s
}

func queuedCall(o *Observer, id, channel string, at time.Time) *flow.Interaction {
	in := &flow.Interaction{ID: id, UniqueID: channel}
	o.Step(in, flow.Event{Kind: flow.EventRoute, Name: "queue:support,,,,300", At: at})
	return in
}

func dial(caller, peer, status string, at time.Time) *ari.Dial {
	return &ari.Dial{EventData: ari.EventData{Timestamp: ari.DateTime(at)}, Dialstatus: status,
		Caller: ari.ChannelData{ID: caller, Name: "PJSIP/sipp-1"}, Peer: ari.ChannelData{ID: peer, Name: "PJSIP/agent1-00000002"}}
}

func destroyed(channel string, at time.Time) *ari.ChannelDestroyed {
	return &ari.ChannelDestroyed{EventData: ari.EventData{Timestamp: ari.DateTime(at)}, Cause: 16, CauseTxt: "Normal Clearing",
		Channel: ari.ChannelData{ID: channel}}
}

// A dial after the call left the queue (the dialplan rings someone else after a
// timeout) is not an agent answering the queue call.
func TestDialAfterQueueExitIsNotAnAnswer(t *testing.T) {
	o, s := observer(subscriberFunc(func(string) error { return nil }))
	in := queuedCall(o, "01A", "c1", t0)
	o.Step(in, flow.Event{Kind: flow.EventQueue, Result: "TIMEOUT", At: t0.Add(300 * time.Second)})
	o.Handle(context.Background(), dial("c1", "p1", "ANSWER", t0.Add(310*time.Second)))
	o.Handle(context.Background(), destroyed("c1", t0.Add(400*time.Second)))
	out, _ := s.get("01A")
	if out.Result != "timeout" || out.Agent != "" || out.Wait() != 300*time.Second {
		t.Errorf("outcome %+v", out)
	}
}

// idv run again on a channel that left a queue: the first stint's outcome is stored.
func TestSecondQueueOnOneChannelKeepsTheFirst(t *testing.T) {
	o, s := observer(subscriberFunc(func(string) error { return nil }))
	in := queuedCall(o, "01A", "c1", t0)
	o.Step(in, flow.Event{Kind: flow.EventQueue, Result: "TIMEOUT", At: t0.Add(60 * time.Second)})
	queuedCall(o, "01B", "c1", t0.Add(70*time.Second))
	o.Handle(context.Background(), destroyed("c1", t0.Add(90*time.Second)))
	if out, ok := s.get("01A"); !ok || out.Result != "timeout" || out.Wait() != 60*time.Second {
		t.Errorf("first stint %+v (stored %v)", out, ok)
	}
	if out, ok := s.get("01B"); !ok || out.Result != flow.QueueAbandoned || out.Wait() != 20*time.Second {
		t.Errorf("second stint %+v (stored %v)", out, ok)
	}
}

// A call whose end ARI never reports (a websocket gap) is stored from idv's own word once
// it left the queue long enough ago, and the observer forgets it.
func TestSweepStoresUnreportedOutcomes(t *testing.T) {
	var mu sync.Mutex
	var renewed []string
	o, s := observer(subscriberFunc(func(src string) error { mu.Lock(); renewed = append(renewed, src); mu.Unlock(); return nil }))
	in := queuedCall(o, "01A", "c1", t0)
	o.Handle(context.Background(), dial("c1", "p1", "ANSWER", t0.Add(5*time.Second)))
	o.Step(in, flow.Event{Kind: flow.EventQueue, At: t0.Add(65 * time.Second)})
	queuedCall(o, "01B", "c2", t0.Add(60*time.Second)) // still waiting
	mu.Lock()
	renewed = nil
	mu.Unlock()
	o.sweep(t0.Add(65*time.Second + unreported + time.Second))
	out, ok := s.get("01A")
	if !ok || out.Result != flow.QueueAnswered || out.Talk() != time.Minute || out.Agent != "PJSIP/agent1" {
		t.Errorf("unreported outcome %+v (stored %v)", out, ok)
	}
	if _, ok := s.get("01B"); ok || len(o.calls) != 1 || len(o.peers) != 0 {
		t.Errorf("calls %v peers %v after the sweep", o.calls, o.peers)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]bool{"channel:c2": true, "deviceState:PJSIP/agent1": true}
	for _, src := range renewed {
		delete(want, src)
	}
	if len(want) != 0 {
		t.Errorf("not renewed: %v (renewed %v)", want, renewed)
	}
}

// An ARI that never answers the subscription does not hold the caller before Queue();
// one that refuses it leaves nothing behind.
func TestSubscriptionNeverBlocksTheCall(t *testing.T) {
	never := make(chan struct{})
	defer close(never)
	o, _ := observer(subscriberFunc(func(string) error { <-never; return nil }))
	queuedCall(o, "01A", "c1", t0) // returns: the test would hang otherwise
	if o.calls["c1"] == nil {
		t.Error("a slow subscription dropped the call")
	}
	o, _ = observer(subscriberFunc(func(string) error { return errors.New("403 Forbidden") }))
	queuedCall(o, "01B", "c2", t0)
	if len(o.calls) != 0 {
		t.Errorf("a refused subscription left %v", o.calls)
	}
}
