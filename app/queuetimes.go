package app

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/flow"
)

// QueueSink stores a queued call's outcome (store.Store implements it).
type QueueSink interface {
	QueueOutcome(ctx context.Context, id string, o flow.QueueOutcome) error
}

// QueueTimes records a queued call's outcome — the agent, the wait, the talk, how it
// ended — from what idv itself sees, where no ARI observer follows the calls: the queue
// entered as the flow sends Queue(), the answer as the /agent script runs on the agent's
// channel, the end as Queue() returns. Without it, a site without ARI had no wait, talk,
// speed of answer or service level in any report. It is an Observer of the calls, and
// the AgentConnect of the /agent script, which it passes on to Next.
type QueueTimes struct {
	Sink QueueSink
	Next AgentConnect
	Log  zerolog.Logger
	// Timeout bounds the outcome's write, at the end of the call.
	Timeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu    sync.Mutex
	calls map[string]*queuedCall // this instance's calls in a queue, by interaction
}

type queuedCall struct {
	queue             string
	entered, answered time.Time
	agent             string
}

func (q *QueueTimes) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// CallStarted implements Observer.
func (q *QueueTimes) CallStarted(string, string, string) {}

// AGICommand implements Observer.
func (q *QueueTimes) AGICommand(string, time.Duration) {}

// Step implements Observer: the route to a queue is the call entering it.
func (q *QueueTimes) Step(in *flow.Interaction, ev flow.Event) {
	if ev.Kind != flow.EventRoute {
		return
	}
	name := flow.QueueOf(ev.Name)
	if name == "" {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.calls == nil {
		q.calls = map[string]*queuedCall{}
	}
	q.calls[in.ID] = &queuedCall{queue: name, entered: ev.At}
}

// AgentConnected implements AgentConnect: the first agent to answer a call of this
// instance's queues is its answer.
func (q *QueueTimes) AgentConnected(ctx context.Context, id, agent string) error {
	err := q.Next.AgentConnected(ctx, id, agent)
	q.mu.Lock()
	if c := q.calls[id]; c != nil && c.answered.IsZero() {
		c.agent, c.answered = agent, q.now()
	}
	q.mu.Unlock()
	return err
}

// CallEnded implements Observer: a queued call's outcome is stored as it leaves idv.
func (q *QueueTimes) CallEnded(id string, in *flow.Interaction) {
	q.mu.Lock()
	c := q.calls[id]
	delete(q.calls, id)
	q.mu.Unlock()
	if c == nil || in == nil {
		return
	}
	o := flow.QueueOutcome{Queue: c.queue, Agent: c.agent, Entered: c.entered, Answered: c.answered, Ended: in.Ended}
	if o.Ended.IsZero() {
		o.Ended = q.now()
	}
	switch {
	case !c.answered.IsZero():
		o.Result = flow.QueueAnswered
	case in.QueueStatus != "" && in.QueueStatus != "CONTINUE":
		o.Result = flow.QueueLeft(in.QueueStatus) // TIMEOUT, FULL, LEAVEEMPTY…: unanswered
	default:
		// No status and no /agent seen: the caller hung up waiting, or talked to an agent
		// whose channel runs no /agent script (or on another instance). Not known: as
		// before, the call counts as offered, its ending not known.
		return
	}
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = flow.DefaultRecordTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := q.Sink.QueueOutcome(ctx, id, o); err != nil {
		q.Log.Error().Err(err).Str("interaction", id).Msg("queue outcome not recorded")
	}
}
