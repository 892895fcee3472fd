package flow

import (
	"strconv"
	"strings"
	"time"
)

// Interaction is the record of one call through the flow: the interaction row and its
// step events, which the store keeps and the reports read.
type Interaction struct {
	ID       string
	Line     string
	Script   string // idv, identify or verify
	Started  time.Time
	Ended    time.Time // zero while the call is in the flow
	ANI      string    // as Asterisk gave it; the store masks it per config
	ANIE164  string    // normalised, empty when withheld or invalid
	DNIS     string
	Channel  string
	UniqueID string
	Language string

	CustomerID   string
	CustomerName string
	Identifier   string // typed identifier digits, only when the line allows recording them
	Status       Status
	Reason       Reason
	Method       Method

	// IDType is how the caller was identified: KindANI or the identifier kind typed
	// ("" while unidentified). IDV_ID_TYPE is it upper-cased.
	IDType string
	// FactorsAsked are the verification factors the caller was asked for, in order (from
	// a factor's first prompt, or a one-time code's sending, on: not those a lockout, a
	// failed factor before them or a hang-up kept from being asked), and FactorsPassed
	// those passed (IDV_FACTORS). Risk lists why factors were added to the
	// line's (RiskWithheld, RiskTyped, RiskUnattested).
	FactorsAsked, FactorsPassed, Risk []string

	IdentifyAttempts int
	VerifyAttempts   int

	Route       string
	QueueStatus string
	Agent       string // the agent's endpoint that took the call, once known
	WrapUp      string // the agent's wrap-up code
	// Wait and Talk are the time in the queue before an agent answered or the caller
	// left, and the time with the agent: nil until ARI has reported the queue outcome.
	Wait, Talk *time.Duration

	Events []Event
}

// Outcome buckets the interaction for the live tiles and the reports.
func (in *Interaction) Outcome() Outcome { return OutcomeOf(in.Status, in.Reason) }

// Attempts is the IDV_ATTEMPTS value, e.g. "2/1".
func (in *Interaction) Attempts() string {
	return strconv.Itoa(in.IdentifyAttempts) + "/" + strconv.Itoa(in.VerifyAttempts)
}

// AgentEndpoint is the endpoint of an agent's channel, as Interaction.Agent holds it:
// PJSIP/agent1-0000000a → PJSIP/agent1.
func AgentEndpoint(channel string) string {
	if i := strings.LastIndexByte(channel, '-'); i > strings.IndexByte(channel, '/') {
		return channel[:i]
	}
	return channel
}

// QueueResult is how the call ended in the queue, once ARI has reported it ("" before).
func (in *Interaction) QueueResult() QueueResult {
	for i := len(in.Events) - 1; i >= 0; i-- {
		if ev := in.Events[i]; ev.Kind == EventAgent {
			return QueueResult(ev.Result) // the outcome's steps are stored together, the end last
		}
	}
	return ""
}
