package app

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/live"
)

// QueueSink stores a queued call's outcome (store.Store implements it).
type QueueSink interface {
	QueueOutcome(ctx context.Context, id string, o flow.QueueOutcome) error
}

// QueueTimes records a queued call's outcome — the agent, the wait, the talk, how it
// ended — from what idv itself sees, where no ARI observer follows the calls: the live
// hub has when the call was queued (the flow's route to the queue) and answered (the
// /agent script on the agent's channel), and the call ends as Queue() returns. Without
// it, a site without ARI had no wait, talk, speed of answer or service level in any
// report. It is an Observer that must come before the hub, which forgets a call as it
// ends.
type QueueTimes struct {
	Sink QueueSink
	Hub  *live.Hub
	Log  zerolog.Logger
	// Timeout bounds the outcome's write, at the end of the call.
	Timeout time.Duration
}

// CallStarted implements Observer.
func (q *QueueTimes) CallStarted(string, string, string) {}

// Step implements Observer.
func (q *QueueTimes) Step(*flow.Interaction, flow.Event) {}

// AGICommand implements Observer.
func (q *QueueTimes) AGICommand(string, time.Duration) {}

// CallEnded implements Observer: a queued call's outcome is stored as it leaves idv.
func (q *QueueTimes) CallEnded(id string, in *flow.Interaction) {
	c, ok := q.Hub.Call(id)
	if !ok || in == nil || c.QueuedAt.IsZero() {
		return
	}
	o := flow.QueueOutcome{Queue: c.Queue, Entered: c.QueuedAt, Ended: in.Ended}
	switch {
	case !c.AnsweredAt.IsZero():
		o.Result, o.Agent, o.Answered = flow.QueueAnswered, c.Agent, c.AnsweredAt
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
