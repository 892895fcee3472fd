package flow

import (
	"fmt"
	"strings"
	"time"
)

// QueueResult says how a queued call ended.
type QueueResult string

// Queue results. A call that left the queue unanswered without hanging up has the
// QUEUESTATUS it left with, lower-cased (timeout, full, leaveempty, …).
const (
	QueueAnswered    QueueResult = "answered"    // an agent answered
	QueueAbandoned   QueueResult = "abandoned"   // the caller hung up before an agent answered
	QueueTransferred QueueResult = "transferred" // the agent transferred the call
)

// QueueLeft is the result of a call that left the queue unanswered with QUEUESTATUS
// status, e.g. TIMEOUT → "timeout".
func QueueLeft(status string) QueueResult { return QueueResult(strings.ToLower(status)) }

// QueueOutcome is what happened to a call in a queue that idv ran: when it entered and
// left, which agent answered, and how it ended.
type QueueOutcome struct {
	Queue    string
	Agent    string // the answering agent's endpoint, e.g. PJSIP/agent1
	Entered  time.Time
	Answered time.Time // zero when nobody answered
	Ended    time.Time
	Result   QueueResult
	Cause    int // Asterisk's hang-up cause of the caller's channel
	CauseTxt string
}

// ResultEntered is the Result of the EventAgent step that says the call entered the
// queue; the steps after it have QueueResults.
const ResultEntered Result = "entered"

// Events are the steps ARI adds to the record after the flow: the call entered the queue
// (PhaseQueue), an agent answered (PhaseAgent, Latency is the wait) if one did, the call
// ended (Result is o.Result; PhaseAgent after an answer, else PhaseQueue).
func (o QueueOutcome) Events() []Event {
	evs := []Event{{At: o.Entered, Kind: EventAgent, Phase: PhaseQueue, Name: o.Queue, Result: ResultEntered}}
	end := PhaseQueue
	if !o.Answered.IsZero() {
		end = PhaseAgent
		evs = append(evs, Event{At: o.Answered, Kind: EventAgent, Phase: PhaseAgent, Name: o.Agent,
			Result: Result(QueueAnswered), Latency: o.Wait()})
	}
	return append(evs, Event{At: o.Ended, Kind: EventAgent, Phase: end, Name: o.Agent, Result: Result(o.Result),
		Detail: fmt.Sprintf("hangup cause %d %s", o.Cause, o.CauseTxt)})
}

// Wait is the time in the queue before an agent answered or the caller left.
func (o QueueOutcome) Wait() time.Duration {
	if !o.Answered.IsZero() {
		return o.Answered.Sub(o.Entered)
	}
	return o.Ended.Sub(o.Entered)
}

// Talk is the time with the agent.
func (o QueueOutcome) Talk() time.Duration {
	if o.Answered.IsZero() {
		return 0
	}
	return o.Ended.Sub(o.Answered)
}
