package flow

import (
	"context"
	"errors"
	"time"
)

// Status is the ID&V outcome the dialplan and the agent see (IDV_STATUS).
type Status string

// The three states of a caller.
const (
	StatusVerified     Status = "VERIFIED"
	StatusIdentified   Status = "IDENTIFIED"
	StatusUnidentified Status = "UNIDENTIFIED"
)

// DisplayText is the agent-facing text of a status.
func (s Status) DisplayText() string {
	switch s {
	case StatusVerified:
		return "Identified and verified"
	case StatusIdentified:
		return "Identified, not verified"
	default:
		return "Not identified"
	}
}

// Reason says why the flow ended in its status (IDV_REASON).
type Reason string

// Reasons, as IDV_REASON carries them (README, "Channel variables").
const (
	ReasonOK                 Reason = "OK"
	ReasonNotRequired        Reason = "NOT_REQUIRED"
	ReasonOptedOut           Reason = "OPTED_OUT"
	ReasonNotFound           Reason = "NOT_FOUND"
	ReasonNoInput            Reason = "NO_INPUT"
	ReasonVerifyFailed       Reason = "VERIFY_FAILED"
	ReasonLocked             Reason = "LOCKED"
	ReasonBackendUnavailable Reason = "BACKEND_UNAVAILABLE"
	ReasonHangup             Reason = "HANGUP"
)

// Outcome is the bucket an interaction counts in on the live tiles and in the reports.
// Routes are chosen per outcome too, with VERIFY_FAILED and LOCKED apart (Routes).
type Outcome string

// Outcomes, in the order the tiles and reports show them.
const (
	OutcomeVerified     Outcome = "verified"
	OutcomeIdentified   Outcome = "identified"
	OutcomeUnidentified Outcome = "unidentified"
	OutcomeOptedOut     Outcome = "opted_out"
	OutcomeError        Outcome = "error" // BACKEND_UNAVAILABLE: a failure of ours or of the back end
)

// Outcomes lists every outcome in the order of the constants.
func Outcomes() []Outcome {
	return []Outcome{OutcomeVerified, OutcomeIdentified, OutcomeUnidentified, OutcomeOptedOut, OutcomeError}
}

// OutcomeOf buckets a status and reason, e.g. a stored interaction's. The reason goes
// first: a caller who opted out, or whom a failure routed, counts as such whatever the
// status says.
func OutcomeOf(s Status, r Reason) Outcome {
	switch {
	case r == ReasonBackendUnavailable:
		return OutcomeError
	case r == ReasonOptedOut:
		return OutcomeOptedOut
	case s == StatusVerified:
		return OutcomeVerified
	case s == StatusIdentified:
		return OutcomeIdentified
	}
	return OutcomeUnidentified
}

// Method says how the caller was identified (IDV_METHOD).
type Method string

// Identification methods.
const (
	MethodANI  Method = "ANI"
	MethodDTMF Method = "DTMF"
	MethodNone Method = "NONE"
)

// Customer is what the directory knows of a caller.
type Customer struct {
	ID             string
	Name           string
	VerifyRequired bool
	// Language is the customer's language as the CRM gives it ("ja", "en"), or "".
	Language string
	// Mobile is the customer's registered mobile number, where one-time codes go ("" for
	// none).
	Mobile string
}

// Verdict is the directory's answer to a verification.
type Verdict int

// Verdicts of Directory.Verify.
const (
	Rejected Verdict = iota
	Verified
	Locked
)

// Secret holds the digits of a secret typed by the caller. It prints, formats and
// marshals as a redaction so that it cannot reach a log or a record by accident; only
// Reveal gives the digits, for the one request that checks them.
type Secret struct{ digits string }

// NewSecret wraps digits typed by the caller.
func NewSecret(digits string) Secret { return Secret{digits: digits} }

// Reveal returns the digits. Call it only to build the verification request.
func (s Secret) Reveal() string { return s.digits }

// Len is the number of digits, which may be recorded.
func (s Secret) Len() int { return len(s.digits) }

// String implements fmt.Stringer with a redaction.
func (s Secret) String() string { return "[secret]" }

// GoString implements fmt.GoStringer with a redaction.
func (s Secret) GoString() string { return "flow.Secret{[secret]}" }

// MarshalText implements encoding.TextMarshaler with a redaction.
func (s Secret) MarshalText() ([]byte, error) { return []byte("[secret]"), nil }

// ErrHangup is returned by a Call once the caller has hung up.
var ErrHangup = errors.New("caller hung up")

// Call is one live call as the flow sees it. Implementations return ErrHangup (possibly
// wrapped) from every method once the caller is gone.
type Call interface {
	// Answer answers the channel if it is not up yet.
	Answer(ctx context.Context) error
	// Play plays a prompt; a key in escape interrupts it and is returned, else 0.
	Play(ctx context.Context, prompt, escape string) (rune, error)
	// SayDigits says digits one by one (SAY DIGITS); a key in escape interrupts and is
	// returned, else 0.
	SayDigits(ctx context.Context, digits, escape string) (rune, error)
	// WaitDigit waits for one key; 0 when none came within timeout.
	WaitDigit(ctx context.Context, timeout time.Duration) (rune, error)
	// SetVariable sets a channel variable, inherited by channels created from this one.
	SetVariable(ctx context.Context, name, value string) error
	// SetLanguage sets the channel's language (CHANNEL(language)): the prompts that
	// follow are played from that language's sounds.
	SetLanguage(ctx context.Context, lang string) error
	// Variable reads a channel variable; ok is false when it is not set.
	Variable(ctx context.Context, name string) (value string, ok bool, err error)
	// Queue runs Asterisk's Queue application with args and returns QUEUESTATUS.
	Queue(ctx context.Context, args string) (status string, err error)
	// Goto sets where the dialplan continues when the script ends.
	Goto(ctx context.Context, context, extension, priority string) error
}

// Directory is the company's customer back end.
//
// An answer — customers found or not, a verdict — comes with a nil error. An error means
// there is no answer: the flow stops asking and routes the caller with
// BACKEND_UNAVAILABLE. The CRM event records what went wrong as its Result, read from
// the error: an error with a method
//
//	Kind() string
//
// anywhere in its chain (errors.As) names the kind of failure — "timeout", "connect",
// "http_503", "bad_json", "circuit_open", … as crm.Error does. A kind is lower case
// without spaces (it becomes a metric label) and never one of an answer's results
// (Result.IsAnswer); an error without a kind, or with such a kind, is recorded as
// ResultError, and a request cut short by the call's CRM budget as
// ResultBudgetExhausted whatever its kind. The error's message goes to Event.Detail: it
// must not carry the secret.
type Directory interface {
	// FindByPhone returns every customer with this E.164 number.
	FindByPhone(ctx context.Context, e164 string) ([]Customer, error)
	// FindBy returns the customer with this identifier of kind (KindCustomerID, an
	// account number's kind, …), or nil when there is none.
	FindBy(ctx context.Context, kind, value string) (*Customer, error)
	// Verify checks a factor's secret (FactorPIN, "dob", …) for a customer.
	Verify(ctx context.Context, factor, id string, secret Secret) (Verdict, error)
	// SendCode sends a one-time code to the customer's registered mobile.
	SendCode(ctx context.Context, c Customer, code Secret) error
}

// Guard keeps the security counters that span calls and idv instances: verification
// attempts per customer and calling number (lockout), and identification attempts per
// calling number, from withheld numbers and overall (throttling).
//
// caller is the calling number, "" when it is withheld. Withheld callers are many
// people: they share bounds of their own (LimitWithheld) rather than a number's, so
// that no one of them can lock out the others' customers or use their budget.
type Guard interface {
	// VerifyLimit says which limit keeps caller from verifying customerID now
	// (LimitNone: none) without taking an attempt: the flow asks it before prompting
	// for the secret, so that a caller locked out is not asked for it.
	VerifyLimit(ctx context.Context, customerID, caller string) (Limit, error)
	// ReserveVerify takes one verification attempt before the secret goes to the
	// Directory. It is atomic across calls and instances: attempts failed and attempts
	// still being checked together never exceed the limits, however many calls try at
	// once. When a limit refuses the attempt, it is returned and the Attempt is nil;
	// otherwise the flow settles the Attempt exactly once.
	ReserveVerify(ctx context.Context, customerID, caller string) (Attempt, Limit, error)
	// CountIdentify counts one identification attempt (a typed identifier) from caller
	// and says which limit it goes beyond (LimitNone: none).
	CountIdentify(ctx context.Context, caller string) (Limit, error)
}

// Attempt is a verification attempt a Guard let through. Until it is settled it counts
// against the limits as a failure does.
type Attempt interface {
	// Settle ends the attempt with its outcome and says which limit now keeps the
	// caller from another attempt (LimitNone: none), so that the flow stops asking at
	// once.
	Settle(ctx context.Context, outcome AttemptOutcome) (Limit, error)
}

// AttemptOutcome is how a verification attempt ended, as a Guard counts it.
type AttemptOutcome int

// Outcomes of an Attempt.
const (
	// AttemptVoid: no verdict on the secret — the back end failed, the caller hung up,
	// or the CRM refused to check it (Locked). It was no guess: the attempt is released.
	AttemptVoid AttemptOutcome = iota
	// AttemptRejected: the secret was wrong; the attempt counts as a failure.
	AttemptRejected
	// AttemptVerified: the secret was right; the caller's failures for the customer are
	// cleared (other callers' stay: they count towards the customer's ceiling).
	AttemptVerified
)

// Limit names the Guard's bound that stopped a step. It is the Detail of the EventGuard
// that says so, and a metric label.
type Limit string

// Limits of a Guard.
const (
	LimitNone Limit = ""
	// LimitCaller: the calling number's own bound — failed secrets for this customer,
	// or identifiers typed.
	LimitCaller Limit = "caller"
	// LimitWithheld: the bound withheld callers share.
	LimitWithheld Limit = "withheld"
	// LimitCustomer: the customer's ceiling of failed secrets from every caller, which
	// stops guessing spread over many numbers.
	LimitCustomer Limit = "customer"
	// LimitGlobal: the bound on identification attempts from everyone.
	LimitGlobal Limit = "global"
)

// Limits lists every limit but LimitNone.
func Limits() []Limit { return []Limit{LimitCaller, LimitWithheld, LimitCustomer, LimitGlobal} }

// Recorder keeps interaction records. Record is called more than once per interaction
// (before the route is sent and after); each call stores the interaction as it is then.
type Recorder interface {
	Record(ctx context.Context, in *Interaction) error
}
