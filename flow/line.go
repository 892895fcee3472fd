package flow

import (
	"fmt"
	"strings"
	"time"
)

// Line is the configuration of one service line: the rules of the flow for the calls
// that arrive on it. The config package builds it from config.toml.
type Line struct {
	Name string
	// ANILookup enables identification by the calling number (BL1, the business rule that
	// looking callers up by their number is switched on or off per service line).
	ANILookup bool
	// Region is the default region (ISO 3166 code) for calling numbers without a
	// country code, e.g. "JP".
	Region string
	// Verify asks every identified caller for the secret; a customer record may also
	// require it.
	Verify bool
	// MinAttestation, when set ("A", "B" or "C"), trusts the calling number only when
	// Asterisk's STIR/SHAKEN verification succeeded with at least that attestation;
	// otherwise the caller is asked for the identifier.
	MinAttestation string

	IdentifyAttempts int
	VerifyAttempts   int
	IDMinDigits      int
	IDMaxDigits      int
	SecretMinDigits  int
	SecretMaxDigits  int

	FirstDigitTimeout time.Duration
	InterDigitTimeout time.Duration
	Terminator        rune
	OptOutKey         rune // 0 disables opting out

	// CRMBudget bounds the time spent on back-end calls during one call; past it the
	// caller is routed with BACKEND_UNAVAILABLE.
	CRMBudget time.Duration

	// IDKinds are the identifiers a caller may type, in order; none is the customer
	// number alone (KindCustomerID, with Prompts.EnterID and IDMinDigits..IDMaxDigits).
	IDKinds []IDKind
	// IDMenu has the caller pick the kind from a menu (1 for the first kind, …) before
	// typing it. Without it the digits typed are looked up under each kind whose lengths
	// fit, in order, until one matches.
	IDMenu bool
	// Factors are the verification factors, in order; all must pass, tries counted per
	// factor (VerifyAttempts each). None is the PIN alone (FactorPIN, with
	// Prompts.EnterSecret and SecretMinDigits..SecretMaxDigits).
	Factors []Factor
	// Risk adds factors when the caller is less trustworthy.
	Risk Risk
	// OTP is how the one-time codes of an OTP factor work.
	OTP OTPPolicy

	// RecordIdentifier stores the typed identifier digits in the record.
	RecordIdentifier bool

	// Language, when set, is set on the channel before the first prompt; else the
	// channel keeps the language Asterisk gave it.
	Language string
	// Languages are those the prompts exist in: a customer's language from the CRM
	// switches the rest of the call only to one of these.
	Languages []string

	Prompts Prompts
	Routes  Routes
}

// Prompts are the sound files the flow plays, as Asterisk names them (no extension).
// An empty prompt is skipped. There is no goodbye: no call ends in the flow — each
// leaves it for a queue or the dialplan, and the dialplan says goodbye where the call
// really ends (after the queue, after self-service).
type Prompts struct {
	Welcome     string
	EnterID     string
	OptOutHint  string
	NoInput     string
	NotFound    string
	EnterSecret string
	SecretWrong string
	Verified    string
	Transfer    string
	TooMany     string
	Unavailable string
	Locked      string
	// IDMenu opens the identifier menu of a line with IDMenu ("How would you like to
	// identify yourself?"); each kind's MenuPrompt follows with its key.
	IDMenu string
	// OTPSent says a code was sent "to the number ending" — the mobile's last two digits
	// follow (SAY DIGITS); CodeExpired that the code is no longer good.
	OTPSent     string
	CodeExpired string
}

// Names lists every prompt with its config key, for start-up checks.
func (p Prompts) Names() map[string]string {
	return map[string]string{
		"welcome": p.Welcome, "enter_id": p.EnterID, "opt_out_hint": p.OptOutHint,
		"no_input": p.NoInput, "not_found": p.NotFound, "enter_secret": p.EnterSecret,
		"secret_wrong": p.SecretWrong, "verified": p.Verified, "transfer": p.Transfer,
		"too_many_attempts": p.TooMany, "unavailable": p.Unavailable, "locked": p.Locked,
		"id_menu": p.IDMenu, "otp_sent": p.OTPSent, "code_expired": p.CodeExpired,
	}
}

// Routes say where each outcome goes.
type Routes struct {
	Verified     Route
	Identified   Route
	Unidentified Route
	VerifyFailed Route
	OptedOut     Route
	Error        Route
}

// RouteKind is what a route does.
type RouteKind int

// Kinds of route.
const (
	// RouteContinue returns to the dialplan at the next priority.
	RouteContinue RouteKind = iota
	// RouteQueue runs Queue(args).
	RouteQueue
	// RouteGoto continues the dialplan at context,extension,priority.
	RouteGoto
)

// Route is one destination. Its text form is "queue:NAME[,options]",
// "goto:context,extension,priority" or "continue".
type Route struct {
	Kind      RouteKind
	QueueArgs string
	Context   string
	Extension string
	Priority  string
}

// ParseRoute reads a route's text form.
func ParseRoute(s string) (Route, error) {
	kind, rest, _ := strings.Cut(strings.TrimSpace(s), ":")
	switch kind {
	case "continue":
		if rest != "" {
			return Route{}, fmt.Errorf("route %q: continue takes no argument", s)
		}
		return Route{Kind: RouteContinue}, nil
	case "queue":
		name, _, _ := strings.Cut(rest, ",")
		if !validDialplanToken(name) {
			return Route{}, fmt.Errorf("route %q: queue name must be letters, digits or any of - _ . + * #", s)
		}
		if strings.ContainsAny(rest, "\"\\\r\n") {
			return Route{}, fmt.Errorf("route %q: queue options must not hold quotes, backslashes or line breaks", s)
		}
		return Route{Kind: RouteQueue, QueueArgs: rest}, nil
	case "goto":
		parts := strings.Split(rest, ",")
		if len(parts) != 3 {
			return Route{}, fmt.Errorf("route %q: want goto:context,extension,priority", s)
		}
		for _, p := range parts {
			if !validDialplanToken(p) {
				return Route{}, fmt.Errorf("route %q: %q is not a dialplan name", s, p)
			}
		}
		return Route{Kind: RouteGoto, Context: parts[0], Extension: parts[1], Priority: parts[2]}, nil
	}
	return Route{}, fmt.Errorf("route %q: want queue:NAME, goto:context,extension,priority or continue", s)
}

// String gives the route's text form.
func (r Route) String() string {
	switch r.Kind {
	case RouteQueue:
		return "queue:" + r.QueueArgs
	case RouteGoto:
		return "goto:" + r.Context + "," + r.Extension + "," + r.Priority
	}
	return "continue"
}

func validDialplanToken(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.+*#", c)) {
			return false
		}
	}
	return true
}

// QueueOf is the queue a route string names ("queue:support,,,,300" → "support"), "" for
// a route to anything else.
func QueueOf(route string) string {
	q, ok := strings.CutPrefix(route, "queue:")
	if !ok {
		return ""
	}
	q, _, _ = strings.Cut(q, ",")
	return q
}
