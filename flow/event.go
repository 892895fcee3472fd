package flow

import (
	"slices"
	"time"
)

// Event is one step of an interaction. It never holds the digits of a secret.
type Event struct {
	At   time.Time
	Kind EventKind
	// Phase is the step of the call the event happened in. The flow's Runner sets it (its
	// per-call session, on every event the call emits), as does QueueOutcome.Events on
	// the queue steps ARI reports; the store does not keep it, so events read back from
	// the database have none.
	Phase   Phase
	Name    string        // prompt file, CRM operation (OpByPhone…), route, entry (EntryIdentifier, EntrySecret)
	Result  Result        // what came of the step; see the Result constants
	Count   int           // number of digits received
	Latency time.Duration // CRM round trip
	Detail  string        // free text for errors; never secret digits
}

// EventKind names a step event.
type EventKind string

// Kinds of step event.
const (
	EventStart    EventKind = "start"
	EventANI      EventKind = "ani" // the calling number was not looked up: withheld, invalid or not attested
	EventPrompt   EventKind = "prompt"
	EventDigits   EventKind = "digits"
	EventCRM      EventKind = "crm"
	EventOutcome  EventKind = "outcome" // Name is the Status, Result the Reason
	EventRoute    EventKind = "route"
	EventQueue    EventKind = "queue" // Queue() returned; Result is QUEUESTATUS as Asterisk set it
	EventHangup   EventKind = "hangup"
	EventError    EventKind = "error"
	EventLanguage EventKind = "language"
	EventGuard    EventKind = "guard" // lockout or throttling stopped a step
	// EventAgent is a queue step that ARI reports after the flow has ended: the call
	// entered the queue, an agent answered, the call ended (Result is a QueueResult).
	EventAgent EventKind = "agent"
	// EventOTP is a one-time code step: sent (Detail: the mobile masked), resent, or
	// checked (verified, rejected, expired, max_checks).
	EventOTP EventKind = "otp"
)

// Names of CRM events (Event.Name of EventCRM): the Directory operation that ran.
const (
	OpByPhone = "by_phone"
	OpByID    = "by_id"
	OpVerify  = "verify"
	// OpSendCode sends a one-time code. Identifier kinds other than the customer number
	// and the phone are looked up as "by_KIND", factors other than the PIN checked as
	// "verify_FACTOR".
	OpSendCode = "otp_send"
)

// Names of digit entries (Event.Name of EventDigits).
const (
	EntryIdentifier = "identifier"
	EntrySecret     = "secret"
	// EntryMenu is the key chosen in the identifier menu (Detail: the kind chosen).
	EntryMenu = "menu"
)

// Result is what came of a step. Its values are stored and used as metric labels, so
// they stay lower case without spaces — except the Result of EventOutcome (the Reason)
// and of EventQueue (QUEUESTATUS), which keep the spelling of IDV_REASON and Asterisk.
type Result string

// Results of prompts (EventPrompt).
const (
	ResultPlayed      Result = "played"
	ResultInterrupted Result = "interrupted" // a key stopped the prompt
)

// Results of digit entries (EventDigits).
const (
	ResultTerminator Result = "terminator" // the terminator key ended the entry
	ResultMaxLength  Result = "max_length"
	ResultTimeout    Result = "timeout" // the inter-digit timeout ended it; also a back-end failure kind
	ResultNoInput    Result = "no_input"
	ResultTooShort   Result = "too_short"
	ResultOptOut     Result = "opt_out"
	ResultBadDate    Result = "bad_date"   // a date factor's digits are no real date: asked again, no CRM call
	ResultBadChoice  Result = "bad_choice" // a key the identifier menu does not offer
	ResultResend     Result = "resend"     // the caller asked for a new one-time code
)

// Results of CRM events that are the back end's answer.
const (
	ResultFound    Result = "found"
	ResultNotFound Result = "not_found"
	ResultSeveral  Result = "several" // more than one customer has the calling number
	ResultVerified Result = "verified"
	ResultRejected Result = "rejected"
	ResultLocked   Result = "locked"
	ResultSent     Result = "sent" // a one-time code went to the CRM or SMS gateway
)

// Results of one-time code checks (EventOTP) besides verified and rejected.
const (
	ResultExpired   Result = "expired"    // the code's time ran out
	ResultMaxChecks Result = "max_checks" // the code was checked as often as allowed
	ResultNoMobile  Result = "no_mobile"  // the customer has no registered mobile
)

// Results of CRM events that are no answer. Besides these, a failed request's result is
// the kind its error gives (see Directory): "timeout", "connect", "http_503", ….
const (
	// ResultBudgetExhausted: the call's CRM budget ran out, before or during the request.
	ResultBudgetExhausted Result = "budget_exhausted"
	// ResultError is a failure whose error gives no kind.
	ResultError Result = "error"
)

// Results of EventANI: why the calling number was not looked up. A number whose
// attestation is too weak has "attestation_" and the level, lower-cased
// ("attestation_b", "attestation_none").
const (
	ResultWithheld              Result = "withheld"
	ResultInvalid               Result = "invalid"
	ResultNotAttested           Result = "not_attested"
	ResultAttestationUnverified Result = "attestation_unverified"
)

// Results of EventLanguage and EventGuard.
const (
	ResultNoPrompts   Result = "no_prompts"   // the customer's language has no prompts: not switched
	ResultRateLimited Result = "rate_limited" // too many identification attempts
	ResultLockout     Result = "lockout"      // the customer is locked out of verification
)

// IsAnswer says whether the result of a CRM event is the back end's answer (found,
// not_found, several, verified, rejected, locked) rather than a failure to get one.
func (r Result) IsAnswer() bool {
	switch r {
	case ResultFound, ResultNotFound, ResultSeveral, ResultVerified, ResultRejected, ResultLocked, ResultSent:
		return true
	}
	return false
}

// Phase is the step of the call an event belongs to, as the live views show where a
// caller is.
type Phase string

// Phases of a call, in order. The first four are in idv's IVR (IVRPhases).
const (
	PhaseWelcome  Phase = "welcome"  // answered, the welcome prompt
	PhaseIdentify Phase = "identify" // by the calling number, then by a typed identifier
	PhaseVerify   Phase = "verify"   // the secret
	PhaseRouting  Phase = "routing"  // the outcome, the variables, the prompt before the route, the route
	PhaseQueue    Phase = "queue"    // in the queue of a queue route
	PhaseAgent    Phase = "agent"    // with the agent who answered
)

// ivrPhases are the phases in idv's IVR, in the order a call goes through them.
var ivrPhases = []Phase{PhaseWelcome, PhaseIdentify, PhaseVerify, PhaseRouting}

// IVRPhases lists the phases of a call in idv's IVR, in order: the steps the live views
// count callers by. A phase added to the IVR goes here, and the views follow.
func IVRPhases() []Phase { return slices.Clone(ivrPhases) }

// InIVR says whether a caller in this phase is still in idv's IVR, rather than in a
// queue or with an agent.
func (p Phase) InIVR() bool { return slices.Contains(ivrPhases, p) }
