package flow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// The paths of the business flow, one row each, over a scripted call: the caller's keys
// per question, a CRM with canned answers and a Guard in memory. Each row says what a
// caller, the dialplan, the agent and the reports see: status, reason, method, the
// customer, the channel variables, the route, the prompts and the record.

// Secrets typed by the callers in these tests. Neither may show up in a variable, an
// event or a record.
const (
	rightSecret = "9753"
	wrongSecret = "8642"
)

const interactionID = "01JDQ7M8ZK3T5X2B4N6P8R0V1W"

// pathsLine is the service line of the rows before each row's changes: ANI lookup on,
// no line-wide verification, three tries each, * opts out, # ends an entry.
func pathsLine() *Line {
	route := func(s string) Route {
		r, err := ParseRoute(s)
		if err != nil {
			panic(err)
		}
		return r
	}
	return &Line{
		Name: "retail", ANILookup: true, Region: "JP",
		IdentifyAttempts: 3, VerifyAttempts: 3,
		IDMinDigits: 6, IDMaxDigits: 8, SecretMinDigits: 4, SecretMaxDigits: 6,
		FirstDigitTimeout: 5 * time.Second, InterDigitTimeout: 3 * time.Second,
		Terminator: '#', OptOutKey: '*', CRMBudget: 8 * time.Second,
		Languages: []string{"en", "ja"},
		Prompts: Prompts{
			Welcome: "welcome", EnterID: "enter-id", OptOutHint: "opt-out-hint", NoInput: "no-input",
			NotFound: "not-found", EnterSecret: "enter-secret", SecretWrong: "secret-wrong",
			Verified: "verified", Transfer: "transfer", TooMany: "too-many", Unavailable: "unavailable",
			Locked: "locked",
		},
		Routes: Routes{
			Verified:     route("goto:selfservice,s,1"),
			Identified:   route("queue:support"),
			Unidentified: route("queue:support"),
			VerifyFailed: route("queue:security"),
			OptedOut:     route("queue:general"),
			Error:        route("queue:fallback,,,,60"),
		},
	}
}

// Line changes the rows share.
var (
	noANI      = func(l *Line) { l.ANILookup = false }
	lineVerify = func(l *Line) { l.Verify = true }
)

// pathsCRM is the company's back end: who has which number and identifier. Every
// customer's secret is rightSecret.
func pathsCRM(clock *testClock) *cannedCRM {
	hanako := Customer{ID: "100234", Name: "Hanako Yamada"}
	return &cannedCRM{
		clock: clock, latency: 200 * time.Millisecond, secret: rightSecret,
		phones: map[string][]Customer{
			"+81312345678": {hanako},
			"+81312345679": {{ID: "100240", Name: "Ken Ito"}, {ID: "100241", Name: "Yui Ito"}},
		},
		ids: map[string]Customer{
			"100234": hanako,
			"100235": {ID: "100235", Name: "Ichiro Tanaka"},
			"100236": {ID: "100236", Name: "Jiro Sato", VerifyRequired: true},
			"100237": {ID: "100237", Name: "Sakura Kimura", Language: " JA"},
			"100238": {ID: "100238", Name: "Pierre Martin", Language: "fr"},
		},
	}
}

// pathRow is one path through the flow and what it must end with.
type pathRow struct {
	name   string
	script Script // ScriptIDV when empty
	line   func(*Line)
	ani    string
	pres   int
	preset map[string]string // channel variables already set (dialplan, STIR/SHAKEN)

	// The caller: one answer per time the flow asks for digits (see scriptedCall).
	answers []string
	// hangupAt is where the caller hangs up: as a prompt starts, as a variable is read
	// or set, or as the language is set ("language:ja").
	hangupAt string
	call     func(*scriptedCall)
	crm      func(*cannedCRM)
	guard    *fakeGuard
	recErr   error

	status     Status
	reason     Reason
	method     Method
	custID     string
	custName   string
	attempts   string
	identifier string // the typed identifier the record keeps
	idType     string // IDV_ID_TYPE when not ANI or CUSTOMER_ID as the method says
	factors    string // IDV_FACTORS when not PIN for a verified caller

	route   string   // in.Route ("" when the call was not routed)
	sent    string   // what reached the channel: "queue ARGS", "goto c,e,p" or ""
	qstatus string   // QUEUESTATUS recorded
	prompts []string // every prompt played, in order
	crmOps  []string // "op:result" of each CRM call, in order
	records int      // Recorder.Record calls
	// hangupPhase is the step the live views show a caller hung up in: where the flow
	// noticed it.
	hangupPhase Phase
	vars        map[string]string // the channel variables, when not those of the outcome
	check       func(t *testing.T, r *pathRun)
	// bug describes a known bug of the flow that makes the route differ from the one
	// wanted: the row runs and checks everything else, then is skipped.
	bug string
}

func TestPaths(t *testing.T) {
	rows := []pathRow{
		// Identification by the calling number (BL1: switched on or off per service line).
		{
			name:   "ANI hit: the one customer with the calling number is identified and queued, no secret asked",
			ani:    "0312345678",
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "transfer"}, crmOps: []string{"by_phone:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				if r.in.ANIE164 != "+81312345678" {
					t.Errorf("ANIE164 = %q", r.in.ANIE164)
				}
				if got := r.crm.calls; !slices.Equal(got, []string{"by_phone +81312345678"}) {
					t.Errorf("CRM asked %q, want the E.164 number", got)
				}
				for _, ev := range r.in.Events {
					if ev.Kind == EventCRM && ev.Latency != 200*time.Millisecond {
						t.Errorf("CRM latency recorded as %s, want 200ms", ev.Latency)
					}
				}
				first := r.rec.snaps[0]
				if first.Route != "queue:support" || first.QueueStatus != "" || !first.Ended.IsZero() {
					t.Errorf("record before the queue: route %q, QUEUESTATUS %q, ended %v", first.Route, first.QueueStatus, first.Ended)
				}
			},
		},
		{
			name: "several customers share the number: the caller is asked for the identifier",
			ani:  "0312345679", answers: []string{"100235#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "transfer"},
			crmOps:  []string{"by_phone:several", "by_id:found"}, records: 2,
		},
		{
			name: "nobody has the number: the caller is asked for the identifier",
			ani:  "0312345670", answers: []string{"^100235#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"},
			crmOps:  []string{"by_phone:not_found", "by_id:found"}, records: 2,
		},
		{
			name: "withheld number is not looked up",
			ani:  "anonymous", answers: []string{"^100235#"}, guard: &fakeGuard{},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.wantEvent(t, EventANI, "", "withheld")
				if !slices.Equal(r.guard.identify, []string{""}) {
					t.Errorf("identify attempts counted for %q, want only the global limit (\"\")", r.guard.identify)
				}
			},
		},
		{
			name: "number with restricted presentation is not looked up nor counted per number",
			ani:  "0312345678", pres: 0x21, answers: []string{"^100235#"}, guard: &fakeGuard{},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.wantEvent(t, EventANI, "", "withheld")
				if !slices.Equal(r.guard.identify, []string{""}) {
					t.Errorf("identify attempts counted for %q, want \"\"", r.guard.identify)
				}
			},
		},
		{
			name: "invalid number is not looked up",
			ani:  "12", answers: []string{"^100235#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.wantEvent(t, EventANI, "", "invalid")
				if r.in.ANIE164 != "" {
					t.Errorf("ANIE164 = %q for an invalid number", r.in.ANIE164)
				}
			},
		},
		{
			name: "ANI lookup disabled for the line: always asked",
			line: noANI, ani: "0312345678", answers: []string{"^100235#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.noEvent(t, EventANI)
			},
		},
		{
			name: "STIR/SHAKEN attestation below the line's minimum: asked",
			line: func(l *Line) { l.MinAttestation = "A" }, ani: "0312345678", answers: []string{"^100235#"},
			preset: attestation("1", "Verification successful", "B"),
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventANI, "", "attestation_b") },
		},
		{
			name: "STIR/SHAKEN attestation at the line's minimum: identified by number",
			line: func(l *Line) { l.MinAttestation = "B" }, ani: "0312345678",
			preset: attestation("1", "Verification successful", "b"),
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "transfer"}, crmOps: []string{"by_phone:found"}, records: 2,
		},
		{
			name: "no STIR/SHAKEN identity on the call: asked",
			line: func(l *Line) { l.MinAttestation = "C" }, ani: "0312345678", answers: []string{"^100235#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventANI, "", "not_attested") },
		},
		{
			name: "STIR/SHAKEN verification failed: asked",
			line: func(l *Line) { l.MinAttestation = "C" }, ani: "0312345678", answers: []string{"^100235#"},
			preset: attestation("1", "Signature verification failed", "A"),
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventANI, "", "attestation_unverified") },
		},
		{
			name: "STIR/SHAKEN verified without an attestation level: asked",
			line: func(l *Line) { l.MinAttestation = "C" }, ani: "0312345678", answers: []string{"^100235#"},
			preset: attestation("1", "Verification successful", ""),
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventANI, "", "attestation_none") },
		},

		// Identification by a typed identifier.
		{
			name: "identifier found first try, neither line nor record requires a secret: NOT_REQUIRED",
			line: noANI, ani: "0312345678", answers: []string{"100235#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.wantDigits(t, "identifier", "terminator", 6)
				if got := r.crm.calls; !slices.Equal(got, []string{"by_id 100235"}) {
					t.Errorf("CRM asked %q", got)
				}
			},
		},
		{
			name: "a line without identifier prompts waits for the digits at once",
			line: func(l *Line) { l.ANILookup, l.Prompts.EnterID, l.Prompts.OptOutHint = false, "", "" }, ani: "0312345678",
			answers: []string{"100235#"},
			status:  StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
		},
		{
			name: "identifier ended by the inter-digit timeout, without #",
			line: noANI, ani: "0312345678", answers: []string{"100235"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantDigits(t, "identifier", "timeout", 6) },
		},
		{
			name: "identifier at the maximum length needs no #",
			line: func(l *Line) { l.ANILookup, l.IDMaxDigits = false, 6 }, ani: "0312345678", answers: []string{"^100235"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantDigits(t, "identifier", "max_length", 6) },
		},
		{
			name: "wrong identifier then the right one: the not-found prompt asks again",
			line: func(l *Line) { l.ANILookup, l.RecordIdentifier = false, true }, ani: "0312345678",
			answers: []string{"999999#", "100235#"},
			status:  StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "2/0", identifier: "100235", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "not-found", "enter-id", "opt-out-hint", "transfer"},
			crmOps:  []string{"by_id:not_found", "by_id:found"}, records: 2,
		},
		{
			name: "every identifier try not found: UNIDENTIFIED, NOT_FOUND, to the agents",
			line: noANI, ani: "0312345678", answers: []string{"999999#", "^999998#", "999997#"},
			status: StatusUnidentified, reason: ReasonNotFound, method: MethodNone,
			attempts: "3/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "not-found", "not-found", "enter-id", "opt-out-hint", "too-many"},
			crmOps:  []string{"by_id:not_found", "by_id:not_found", "by_id:not_found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				if r.in.Identifier != "" {
					t.Errorf("identifier %q recorded on a line that does not allow it", r.in.Identifier)
				}
			},
		},
		{
			name: "identifier tries are the line's: one try",
			line: func(l *Line) { l.ANILookup, l.IdentifyAttempts = false, 1 }, ani: "0312345678", answers: []string{"999999#"},
			status: StatusUnidentified, reason: ReasonNotFound, method: MethodNone,
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "too-many"},
			crmOps:  []string{"by_id:not_found"}, records: 2,
		},
		{
			name: "too short identifiers use the tries without asking the CRM: NOT_FOUND",
			line: noANI, ani: "0312345678", answers: []string{"12#", "12#", "12#"}, guard: &fakeGuard{},
			status: StatusUnidentified, reason: ReasonNotFound, method: MethodNone,
			attempts: "3/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "not-found", "enter-id", "opt-out-hint",
				"not-found", "enter-id", "opt-out-hint", "too-many"},
			records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.wantDigits(t, "identifier", "too_short", 2)
				if len(r.guard.identify) != 0 {
					t.Errorf("too short entries counted as identify attempts: %q", r.guard.identify)
				}
			},
		},
		{
			name: "no input at the identifier, every try: NO_INPUT",
			line: noANI, ani: "0312345678", answers: []string{"", "", ""},
			status: StatusUnidentified, reason: ReasonNoInput, method: MethodNone,
			attempts: "3/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "no-input", "enter-id", "opt-out-hint",
				"no-input", "enter-id", "opt-out-hint", "too-many"},
			records: 2,
			check:   func(t *testing.T, r *pathRun) { r.wantDigits(t, "identifier", "no_input", 0) },
		},
		{
			name: "# alone is no input",
			line: func(l *Line) { l.ANILookup, l.IdentifyAttempts = false, 1 }, ani: "0312345678", answers: []string{"^#"},
			status: StatusUnidentified, reason: ReasonNoInput, method: MethodNone,
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "too-many"}, records: 2,
		},
		{
			name: "no input, then a wrong identifier, then no input: NOT_FOUND",
			line: noANI, ani: "0312345678", answers: []string{"", "999999#", ""},
			status: StatusUnidentified, reason: ReasonNotFound, method: MethodNone,
			attempts: "3/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "no-input", "enter-id", "opt-out-hint",
				"not-found", "enter-id", "opt-out-hint", "too-many"},
			crmOps: []string{"by_id:not_found"}, records: 2,
		},
		{
			name: "no input, then the identifier typed over the no-input prompt",
			line: noANI, ani: "0312345678", answers: []string{"", "^100235#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "2/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "no-input", "transfer"},
			crmOps:  []string{"by_id:found"}, records: 2,
		},
		{
			name: "opt-out at the identifier prompt: the unauthenticated route",
			line: noANI, ani: "0312345678", answers: []string{"^*"},
			status: StatusUnidentified, reason: ReasonOptedOut, method: MethodNone,
			attempts: "1/0", route: "queue:general", sent: "queue general", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "transfer"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantDigits(t, "identifier", "opt_out", 0) },
		},
		{
			name: "opt-out after a few digits of the identifier",
			line: noANI, ani: "0312345678", answers: []string{"", "10*"},
			status: StatusUnidentified, reason: ReasonOptedOut, method: MethodNone,
			attempts: "2/0", route: "queue:general", sent: "queue general", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "no-input", "enter-id", "opt-out-hint", "transfer"},
			records: 2,
			check:   func(t *testing.T, r *pathRun) { r.wantDigits(t, "identifier", "opt_out", 2) },
		},
		{
			name: "without an opt-out key * is ignored in the identifier",
			line: func(l *Line) { l.ANILookup, l.OptOutKey = false, 0 }, ani: "0312345678", answers: []string{"*1002*35#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
		},

		// Verification.
		{
			name: "verification required by the line, verified first try: VERIFIED, self-service",
			line: lineVerify, ani: "0312345678", answers: []string{rightSecret + "#"}, guard: &fakeGuard{},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify:verified"}, records: 1,
			check: func(t *testing.T, r *pathRun) {
				r.wantDigits(t, "secret", "terminator", 4)
				if !slices.Equal(r.guard.passed, []string{"100234"}) || len(r.guard.failed) != 0 {
					t.Errorf("guard passed %q failed %q", r.guard.passed, r.guard.failed)
				}
			},
		},
		{
			name: "verification required by the customer record",
			line: noANI, ani: "0312345678", answers: []string{"100236#", rightSecret + "#"},
			status: StatusVerified, reason: ReasonOK, method: MethodDTMF, custID: "100236", custName: "Jiro Sato",
			attempts: "1/1", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "enter-secret", "verified"},
			crmOps:  []string{"by_id:found", "verify:verified"}, records: 1,
		},
		{
			name: "ANI alone never verifies: a record that requires it asks for the secret",
			ani:  "0312345678", crm: func(c *cannedCRM) { c.phones["+81312345678"][0].VerifyRequired = true },
			answers: []string{"^" + rightSecret + "#"},
			status:  StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify:verified"}, records: 1,
		},
		{
			name: "secret rejected then verified",
			line: lineVerify, ani: "0312345678", answers: []string{wrongSecret + "#", "^" + rightSecret + "#"}, guard: &fakeGuard{lockAfter: 5},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/2", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-secret", "secret-wrong", "verified"},
			crmOps:  []string{"by_phone:found", "verify:rejected", "verify:verified"}, records: 1,
			check: func(t *testing.T, r *pathRun) {
				if !slices.Equal(r.guard.failed, []string{"100234"}) || !slices.Equal(r.guard.passed, []string{"100234"}) {
					t.Errorf("guard failed %q passed %q", r.guard.failed, r.guard.passed)
				}
				if got := r.crm.secrets; !slices.Equal(got, []string{wrongSecret, rightSecret}) {
					t.Errorf("CRM was sent %d secrets, not the two typed", len(got))
				}
			},
		},
		{
			name: "every secret rejected: IDENTIFIED, VERIFY_FAILED, to security",
			line: lineVerify, ani: "0312345678", answers: []string{wrongSecret + "#", wrongSecret + "#", wrongSecret}, guard: &fakeGuard{lockAfter: 5},
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/3", route: "queue:security", sent: "queue security", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-secret", "secret-wrong", "enter-secret", "secret-wrong", "enter-secret", "too-many"},
			crmOps:  []string{"by_phone:found", "verify:rejected", "verify:rejected", "verify:rejected"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				if len(r.guard.failed) != 3 || len(r.guard.passed) != 0 {
					t.Errorf("guard failed %q passed %q", r.guard.failed, r.guard.passed)
				}
			},
		},
		{
			name: "secret tries are the line's: one try",
			line: func(l *Line) { l.Verify, l.VerifyAttempts = true, 1 }, ani: "0312345678", answers: []string{wrongSecret + "#"},
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "queue:security", sent: "queue security", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-secret", "too-many"},
			crmOps:  []string{"by_phone:found", "verify:rejected"}, records: 2,
		},
		{
			name: "no input at the secret, every try: VERIFY_FAILED, no failure counted against the customer",
			line: lineVerify, ani: "0312345678", answers: []string{"", "", ""}, guard: &fakeGuard{lockAfter: 1},
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/3", route: "queue:security", sent: "queue security", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-secret", "no-input", "enter-secret", "no-input", "enter-secret", "too-many"},
			crmOps:  []string{"by_phone:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.wantDigits(t, "secret", "no_input", 0)
				if len(r.guard.failed) != 0 {
					t.Errorf("silence counted as failed secrets: %q", r.guard.failed)
				}
			},
		},
		{
			name: "too short secret is rejected without asking the CRM nor counting a failure",
			line: lineVerify, ani: "0312345678", answers: []string{"12#", rightSecret + "#"}, guard: &fakeGuard{lockAfter: 1},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/2", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-secret", "secret-wrong", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify:verified"}, records: 1,
			check: func(t *testing.T, r *pathRun) {
				r.wantDigits(t, "secret", "too_short", 2)
				if len(r.guard.failed) != 0 {
					t.Errorf("a too short secret counted as a failure: %q", r.guard.failed)
				}
			},
		},
		{
			name: "the opt-out key is no opt-out at the secret: ignored, the digits around it count",
			line: lineVerify, ani: "0312345678", answers: []string{"^*", "97*53#"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/2", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-secret", "no-input", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify:verified"}, records: 1,
			check: func(t *testing.T, r *pathRun) { r.noDigits(t, "opt_out") },
		},
		{
			name: "locked by the CRM (423): LOCKED, to security",
			line: lineVerify, ani: "0312345678", answers: []string{rightSecret + "#"},
			crm:    func(c *cannedCRM) { c.locked = map[string]bool{"100234": true} },
			status: StatusIdentified, reason: ReasonLocked, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "queue:security", sent: "queue security", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-secret", "locked"},
			crmOps:  []string{"by_phone:found", "verify:locked"}, records: 2,
		},
		{
			name: "locked out by the Guard: LOCKED without asking for the secret",
			line: lineVerify, ani: "0312345678", guard: &fakeGuard{locked: map[string]bool{"100234": true}},
			status: StatusIdentified, reason: ReasonLocked, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", route: "queue:security", sent: "queue security", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "locked"}, crmOps: []string{"by_phone:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventGuard, "verify", "lockout") },
		},
		{
			name: "failed secrets lock the customer out (Guard): LOCKED before the tries run out",
			line: lineVerify, ani: "0312345678", answers: []string{wrongSecret + "#", wrongSecret + "#"}, guard: &fakeGuard{lockAfter: 2},
			status: StatusIdentified, reason: ReasonLocked, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/2", route: "queue:security", sent: "queue security", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-secret", "secret-wrong", "enter-secret", "locked"},
			crmOps:  []string{"by_phone:found", "verify:rejected", "verify:rejected"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventGuard, "verify", "lockout") },
		},
		{
			name: "the Guard refuses the attempt (parallel calls hold the rest): LOCKED, the CRM is not asked",
			line: lineVerify, ani: "0312345678", answers: []string{wrongSecret + "#"}, guard: &fakeGuard{refuse: LimitCustomer},
			status: StatusIdentified, reason: ReasonLocked, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "queue:security", sent: "queue security", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-secret", "locked"}, crmOps: []string{"by_phone:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.wantEvent(t, EventGuard, "verify", "lockout")
				if d := r.guardDetail(); d != "customer" {
					t.Errorf("guard event names limit %q, want customer", d)
				}
			},
		},
		{
			name: "a secret the CRM could not check is no guess: the Guard's attempt is released",
			line: lineVerify, ani: "0312345678", answers: []string{wrongSecret + "#"}, guard: &fakeGuard{lockAfter: 1},
			crm:    func(c *cannedCRM) { c.fail = map[string]error{"verify": &crmErr{kind: "http_503"}} },
			status: StatusIdentified, reason: ReasonBackendUnavailable, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "queue:fallback,,,,60", sent: "queue fallback,,,,60", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-secret", "unavailable"},
			crmOps:  []string{"by_phone:found", "verify:http_503"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				if r.guard.reserved != 1 || len(r.guard.failed) != 0 || len(r.guard.passed) != 0 {
					t.Errorf("guard reserved %d, failed %q, passed %q: want one attempt released", r.guard.reserved, r.guard.failed, r.guard.passed)
				}
			},
		},
		{
			name: "a failing Guard locks nobody out and is recorded",
			line: lineVerify, ani: "0312345678", answers: []string{wrongSecret + "#", rightSecret + "#"},
			guard:  &fakeGuard{err: errors.New("redis: connection refused")},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/2", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-secret", "secret-wrong", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify:rejected", "verify:verified"}, records: 1,
			check: func(t *testing.T, r *pathRun) {
				if n := r.count(EventError, "guard"); n != 3 {
					t.Errorf("%d guard errors recorded, want 3 (locked?, failed, passed)", n)
				}
			},
		},
		{
			name: "identification throttled (rate limited): LOCKED, to security",
			line: noANI, ani: "0312345678", answers: []string{"999999#", "100235#"}, guard: &fakeGuard{throttle: true, maxIdentify: 1},
			status: StatusUnidentified, reason: ReasonLocked, method: MethodNone,
			attempts: "2/0", route: "queue:security", sent: "queue security", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "not-found", "enter-id", "opt-out-hint", "locked"},
			crmOps:  []string{"by_id:not_found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.wantEvent(t, EventGuard, "identify", "rate_limited")
				if !slices.Equal(r.guard.identify, []string{"0312345678", "0312345678"}) {
					t.Errorf("identify attempts counted for %q", r.guard.identify)
				}
			},
		},
		{
			name: "a failing Guard lets identification through",
			line: noANI, ani: "0312345678", answers: []string{"100235#"}, guard: &fakeGuard{err: errors.New("redis: timeout")},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				if n := r.count(EventError, "guard"); n != 1 {
					t.Errorf("%d guard errors recorded, want 1", n)
				}
			},
		},

		// The back end failing.
		{
			name: "CRM error at the number lookup: BACKEND_UNAVAILABLE, to the fallback queue",
			ani:  "0312345678", crm: func(c *cannedCRM) { c.fail = map[string]error{"by_phone": errors.New("connection refused")} },
			status: StatusUnidentified, reason: ReasonBackendUnavailable, method: MethodNone,
			attempts: "0/0", route: "queue:fallback,,,,60", sent: "queue fallback,,,,60", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "unavailable"}, crmOps: []string{"by_phone:error"}, records: 2,
		},
		{
			name: "CRM 5xx at the identifier: BACKEND_UNAVAILABLE",
			line: noANI, ani: "0312345678", answers: []string{"100235#"},
			crm:    func(c *cannedCRM) { c.fail = map[string]error{"by_id": &crmErr{kind: "http_503"}} },
			status: StatusUnidentified, reason: ReasonBackendUnavailable, method: MethodNone,
			attempts: "1/0", route: "queue:fallback,,,,60", sent: "queue fallback,,,,60", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "unavailable"}, crmOps: []string{"by_id:http_503"}, records: 2,
		},
		{
			name: "CRM timeout at the secret: BACKEND_UNAVAILABLE, the customer stays identified",
			line: lineVerify, ani: "0312345678", answers: []string{rightSecret + "#"},
			crm: func(c *cannedCRM) {
				c.fail = map[string]error{"verify": fmt.Errorf("crm verify: %w", &crmErr{kind: "timeout"})}
			},
			status: StatusIdentified, reason: ReasonBackendUnavailable, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "queue:fallback,,,,60", sent: "queue fallback,,,,60", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-secret", "unavailable"},
			crmOps:  []string{"by_phone:found", "verify:timeout"}, records: 2,
		},
		{
			name: "CRM budget spent by earlier calls: BACKEND_UNAVAILABLE without asking again",
			line: func(l *Line) { l.CRMBudget = 600 * time.Millisecond }, ani: "0312345670",
			answers: []string{"999999#", "999998#", "999997#"},
			status:  StatusUnidentified, reason: ReasonBackendUnavailable, method: MethodNone,
			attempts: "3/0", route: "queue:fallback,,,,60", sent: "queue fallback,,,,60", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "not-found", "enter-id", "opt-out-hint",
				"not-found", "enter-id", "opt-out-hint", "unavailable"},
			crmOps:  []string{"by_phone:not_found", "by_id:not_found", "by_id:not_found", "by_id:budget_exhausted"},
			records: 2,
			check: func(t *testing.T, r *pathRun) {
				if len(r.crm.calls) != 3 {
					t.Errorf("CRM asked %d times, want 3 (the fourth is over budget)", len(r.crm.calls))
				}
			},
		},
		{
			name: "CRM slower than what is left of the budget: BACKEND_UNAVAILABLE",
			line: func(l *Line) { l.ANILookup, l.CRMBudget = false, time.Millisecond }, ani: "0312345678", answers: []string{"100235#"},
			crm:    func(c *cannedCRM) { c.slow = "by_id" },
			status: StatusUnidentified, reason: ReasonBackendUnavailable, method: MethodNone,
			attempts: "1/0", route: "queue:fallback,,,,60", sent: "queue fallback,,,,60", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "unavailable"},
			crmOps:  []string{"by_id:budget_exhausted"}, records: 2,
		},

		// Hang-ups: the variables are still set (the h extension may read them), the call
		// is not routed, the record says HANGUP.
		{
			// Every variable of the outcome, IDV_INTERACTION among them, reaches the dead
			// channel (for its hang-up handler and CDR): a real Asterisk under load
			// showed a caller gone before the answer, without the record's id.
			name:        "hang-up before the call is answered",
			hangupPhase: PhaseWelcome,
			ani:         "0312345678", call: func(c *scriptedCall) { c.answerErr = ErrHangup },
			status: StatusUnidentified, reason: ReasonHangup, method: MethodNone, attempts: "0/0", records: 1,
		},
		{
			name:        "hang-up during the welcome",
			hangupPhase: PhaseWelcome,
			ani:         "0312345678", hangupAt: "welcome",
			status: StatusUnidentified, reason: ReasonHangup, method: MethodNone, attempts: "0/0", records: 1,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventHangup, "", "") },
		},
		{
			name:        "hang-up right after the answer",
			hangupPhase: PhaseWelcome,
			ani:         "0312345678", hangupAt: VarInteraction,
			status: StatusUnidentified, reason: ReasonHangup, method: MethodNone, attempts: "0/0", records: 1,
		},
		{
			name:        "hang-up as the line's language is set",
			hangupPhase: PhaseWelcome,
			line:        func(l *Line) { l.Language = "ja" }, ani: "0312345678", hangupAt: "language:ja",
			status: StatusUnidentified, reason: ReasonHangup, method: MethodNone, attempts: "0/0", records: 1,
		},
		{
			name:        "hang-up as the STIR/SHAKEN attestation is read",
			hangupPhase: PhaseIdentify,
			line:        func(l *Line) { l.MinAttestation = "A" }, ani: "0312345678", hangupAt: "STIR_SHAKEN(count)",
			status: StatusUnidentified, reason: ReasonHangup, method: MethodNone, attempts: "0/0",
			prompts: []string{"welcome"}, records: 1,
		},
		{
			name:        "hang-up while asked for the identifier, before a key",
			hangupPhase: PhaseIdentify,
			line:        noANI, ani: "0312345678", answers: []string{"!"},
			status: StatusUnidentified, reason: ReasonHangup, method: MethodNone, attempts: "1/0",
			prompts: []string{"welcome", "enter-id", "opt-out-hint"}, records: 1,
		},
		{
			name:        "hang-up while typing the identifier",
			hangupPhase: PhaseIdentify,
			line:        noANI, ani: "0312345678", answers: []string{"10!"},
			status: StatusUnidentified, reason: ReasonHangup, method: MethodNone, attempts: "1/0",
			prompts: []string{"welcome", "enter-id", "opt-out-hint"}, records: 1,
		},
		{
			name:        "hang-up during the CRM call: the customer found is kept, the reason is HANGUP",
			hangupPhase: PhaseRouting,
			line:        noANI, ani: "0312345678", answers: []string{"100235#"}, crm: func(c *cannedCRM) { c.hangupDuring = "by_id" },
			status: StatusIdentified, reason: ReasonHangup, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", prompts: []string{"welcome", "enter-id", "opt-out-hint"},
			crmOps: []string{"by_id:found"}, records: 1,
		},
		{
			name:        "hang-up during the CRM call before the secret",
			hangupPhase: PhaseVerify,
			line:        lineVerify, ani: "0312345678", crm: func(c *cannedCRM) { c.hangupDuring = "by_phone" },
			status: StatusIdentified, reason: ReasonHangup, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", prompts: []string{"welcome"}, crmOps: []string{"by_phone:found"}, records: 1,
		},
		{
			name:        "hang-up while the CRM checks a wrong secret: it was checked, so the Guard counts the failure",
			hangupPhase: PhaseVerify,
			line:        lineVerify, ani: "0312345678", answers: []string{wrongSecret + "#"}, guard: &fakeGuard{lockAfter: 5},
			crm:    func(c *cannedCRM) { c.hangupDuring = "verify" },
			status: StatusIdentified, reason: ReasonHangup, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/2", prompts: []string{"welcome", "enter-secret"}, crmOps: []string{"by_phone:found", "verify:rejected"}, records: 1,
			check: func(t *testing.T, r *pathRun) {
				if !slices.Equal(r.guard.failed, []string{"100234"}) {
					t.Errorf("guard failed %q, want the one secret checked", r.guard.failed)
				}
			},
		},
		{
			name:        "hang-up while typing the secret",
			hangupPhase: PhaseVerify,
			line:        lineVerify, ani: "0312345678", answers: []string{"97!"},
			status: StatusIdentified, reason: ReasonHangup, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", prompts: []string{"welcome", "enter-secret"}, crmOps: []string{"by_phone:found"}, records: 1,
		},
		{
			name:        "hang-up during the transfer prompt is a hang-up in the IVR: not queued, no route in the record",
			hangupPhase: PhaseRouting,
			ani:         "0312345678", hangupAt: "transfer",
			status: StatusIdentified, reason: ReasonHangup, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", prompts: []string{"welcome"}, crmOps: []string{"by_phone:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				if r.rec.snaps[0].Route != "queue:support" {
					t.Errorf("record before the queue has route %q, want queue:support", r.rec.snaps[0].Route)
				}
				if got := r.call.setLog(VarReason); !slices.Equal(got, []string{"NOT_REQUIRED", "HANGUP"}) {
					t.Errorf("IDV_REASON set to %q, want NOT_REQUIRED then HANGUP", got)
				}
				if r.rec.snaps[0].Reason != ReasonNotRequired {
					t.Errorf("record before the queue has reason %s", r.rec.snaps[0].Reason)
				}
				r.noEvent(t, EventRoute)
			},
		},
		{
			name:        "hang-up while the variables are set: IDV_REASON is set again, to HANGUP",
			hangupPhase: PhaseRouting,
			ani:         "0312345678", hangupAt: VarLine,
			status: StatusIdentified, reason: ReasonHangup, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", prompts: []string{"welcome"}, crmOps: []string{"by_phone:found"}, records: 1,
			check: func(t *testing.T, r *pathRun) {
				if got := r.call.setLog(VarReason); !slices.Equal(got, []string{"NOT_REQUIRED", "HANGUP"}) {
					t.Errorf("IDV_REASON set to %q, want NOT_REQUIRED then HANGUP", got)
				}
			},
		},
		{
			name: "hang-up in the queue: the outcome stands, no QUEUESTATUS, no error",
			ani:  "0312345678", call: func(c *scriptedCall) { c.queueStatus, c.queueErr = "", ErrHangup },
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", route: "queue:support", sent: "queue support",
			prompts: []string{"welcome", "transfer"}, crmOps: []string{"by_phone:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.noEvent(t, EventError)
				r.wantEvent(t, EventQueue, "support", "")
			},
		},
		{
			name: "hang-up at the goto: the record is stored again",
			line: lineVerify, ani: "0312345678", answers: []string{rightSecret + "#"},
			call:   func(c *scriptedCall) { c.gotoErr = ErrHangup },
			status: StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify:verified"}, records: 2,
		},

		// The customer's language.
		{
			name: "the customer's language switches the prompts that follow",
			line: func(l *Line) { l.ANILookup, l.Verify = false, true }, ani: "0312345678", answers: []string{"100237#", rightSecret + "#"},
			status: StatusVerified, reason: ReasonOK, method: MethodDTMF, custID: "100237", custName: "Sakura Kimura",
			attempts: "1/1", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "enter-secret", "verified"},
			crmOps:  []string{"by_id:found", "verify:verified"}, records: 1,
			check: func(t *testing.T, r *pathRun) {
				want := []string{"en/welcome", "en/enter-id", "en/opt-out-hint", "ja/enter-secret", "ja/verified"}
				if !slices.Equal(r.call.heard, want) {
					t.Errorf("caller heard %q, want %q", r.call.heard, want)
				}
				if r.in.Language != "ja" || !slices.Equal(r.call.langs, []string{"ja"}) {
					t.Errorf("language %q, set %q", r.in.Language, r.call.langs)
				}
				r.wantEvent(t, EventLanguage, "ja", "")
			},
		},
		{
			name: "a customer language without prompts keeps the call's language",
			line: lineVerify, ani: "0312345678", crm: func(c *cannedCRM) { c.phones["+81312345678"][0].Language = "fr" },
			answers: []string{rightSecret + "#"},
			status:  StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify:verified"}, records: 1,
			check: func(t *testing.T, r *pathRun) {
				if want := []string{"en/welcome", "en/enter-secret", "en/verified"}; !slices.Equal(r.call.heard, want) {
					t.Errorf("caller heard %q, want %q", r.call.heard, want)
				}
				if r.in.Language != "en" || len(r.call.langs) != 0 {
					t.Errorf("language %q, set %q", r.in.Language, r.call.langs)
				}
				r.wantEvent(t, EventLanguage, "fr", "no_prompts")
			},
		},
		{
			name: "the line's language is set before the welcome; the customer's same language changes nothing",
			line: func(l *Line) { l.ANILookup, l.Language = false, "ja" }, ani: "0312345678", answers: []string{"100237#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100237", custName: "Sakura Kimura",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "transfer"}, crmOps: []string{"by_id:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				if want := []string{"ja/welcome", "ja/enter-id", "ja/opt-out-hint", "ja/transfer"}; !slices.Equal(r.call.heard, want) {
					t.Errorf("caller heard %q, want %q", r.call.heard, want)
				}
				if !slices.Equal(r.call.langs, []string{"ja"}) {
					t.Errorf("languages set %q, want ja once", r.call.langs)
				}
			},
		},

		// Routes.
		{
			name: "queue route: QUEUESTATUS is recorded",
			ani:  "0312345678", call: func(c *scriptedCall) { c.queueStatus = "LEAVEEMPTY" },
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", route: "queue:support", sent: "queue support", qstatus: "LEAVEEMPTY",
			prompts: []string{"welcome", "transfer"}, crmOps: []string{"by_phone:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				r.wantEvent(t, EventQueue, "support", "LEAVEEMPTY")
				if ev := r.in.Events[len(r.in.Events)-1]; ev.Kind != EventQueue || ev.Phase != PhaseQueue {
					t.Errorf("last event %s in phase %q, want the queue's in phase queue", ev.Kind, ev.Phase)
				}
			},
		},
		{
			name: "the Queue application failing is recorded; the caller was routed",
			ani:  "0312345678", call: func(c *scriptedCall) { c.queueStatus, c.queueErr = "", errors.New("agi: EXEC failed") },
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", route: "queue:support", sent: "queue support",
			prompts: []string{"welcome", "transfer"}, crmOps: []string{"by_phone:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventError, "queue", "") },
		},
		{
			name: "goto route for the opted-out: the dialplan continues there, no prompt",
			line: func(l *Line) {
				l.ANILookup = false
				l.Routes.OptedOut = Route{Kind: RouteGoto, Context: "menu", Extension: "s", Priority: "1"}
			},
			ani: "0312345678", answers: []string{"*"},
			status: StatusUnidentified, reason: ReasonOptedOut, method: MethodNone,
			attempts: "1/0", route: "goto:menu,s,1", sent: "goto menu,s,1",
			prompts: []string{"welcome", "enter-id", "opt-out-hint"}, records: 1,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventRoute, "goto:menu,s,1", "") },
		},
		{
			name: "a goto that fails is recorded and the record stored again",
			line: lineVerify, ani: "0312345678", answers: []string{rightSecret + "#"},
			call:   func(c *scriptedCall) { c.gotoErr = errors.New("agi: broken pipe") },
			status: StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", route: "goto:selfservice,s,1", sent: "goto selfservice,s,1",
			prompts: []string{"welcome", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify:verified"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventError, "goto", "") },
		},
		{
			name: "continue route returns to the dialplan without a prompt",
			line: func(l *Line) { l.Routes.Identified = Route{Kind: RouteContinue} }, ani: "0312345678",
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", route: "continue", prompts: []string{"welcome"}, crmOps: []string{"by_phone:found"}, records: 1,
		},

		// The identify-only and verify-only scripts return to the dialplan.
		{
			name:   "identify script: identified, no secret even where the line verifies, back to the dialplan",
			script: ScriptIdentify, line: lineVerify, ani: "0312345678",
			status: StatusIdentified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", prompts: []string{"welcome"}, crmOps: []string{"by_phone:found"}, records: 1,
		},
		{
			name:   "identify script: not found, no route and no route prompt",
			script: ScriptIdentify, line: noANI, ani: "0312345678", answers: []string{"999999#", "999998#", "999997#"},
			status: StatusUnidentified, reason: ReasonNotFound, method: MethodNone, attempts: "3/0",
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "not-found", "enter-id", "opt-out-hint", "not-found", "enter-id", "opt-out-hint"},
			crmOps:  []string{"by_id:not_found", "by_id:not_found", "by_id:not_found"}, records: 1,
		},
		{
			name:   "verify script verifies the caller identified earlier in the call, without a welcome",
			script: ScriptVerify, ani: "0312345678", answers: []string{rightSecret + "#"},
			preset: map[string]string{VarCustomerID: "100234", VarCustomerName: "Hanako Yamada", VarMethod: "ANI"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/1", prompts: []string{"enter-secret", "verified"}, crmOps: []string{"verify:verified"}, records: 1,
		},
		{
			name:   "verify script: every secret rejected",
			script: ScriptVerify, ani: "0312345678", answers: []string{wrongSecret + "#", wrongSecret + "#", wrongSecret + "#"},
			preset: map[string]string{VarCustomerID: "100235", VarCustomerName: "Ichiro Tanaka", VarMethod: "DTMF"},
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "0/3", prompts: []string{"enter-secret", "secret-wrong", "enter-secret", "secret-wrong", "enter-secret"},
			crmOps: []string{"verify:rejected", "verify:rejected", "verify:rejected"}, records: 1,
		},
		{
			name:        "verify script: hang-up before the customer is read",
			hangupPhase: PhaseWelcome,
			script:      ScriptVerify, ani: "0312345678", hangupAt: VarCustomerID,
			preset: map[string]string{VarCustomerID: "100234", VarCustomerName: "Hanako Yamada", VarMethod: "ANI"},
			status: StatusUnidentified, reason: ReasonHangup, method: MethodNone, attempts: "0/0", records: 1,
		},
		{
			name:   "verify script with nobody identified: NOT_FOUND, nothing asked",
			script: ScriptVerify, ani: "0312345678",
			status: StatusUnidentified, reason: ReasonNotFound, method: MethodNone, attempts: "0/0", records: 1,
		},

		// Failures of ours still route the caller.
		{
			name: "the record store failing still routes the caller",
			ani:  "0312345678", recErr: errors.New("database is locked"),
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT",
			prompts: []string{"welcome", "transfer"}, crmOps: []string{"by_phone:found"}, records: 2,
			check: func(t *testing.T, r *pathRun) {
				if n := r.count(EventError, "record"); n != 2 {
					t.Errorf("%d record errors recorded, want 2", n)
				}
			},
		},
		{
			name: "the AGI channel failing before the welcome: BACKEND_UNAVAILABLE on the error route",
			ani:  "0312345678", call: func(c *scriptedCall) { c.answerErr = errors.New("agi: 510 invalid command") },
			status: StatusUnidentified, reason: ReasonBackendUnavailable, method: MethodNone,
			attempts: "0/0", route: "queue:fallback,,,,60", sent: "queue fallback,,,,60", qstatus: "TIMEOUT",
			prompts: []string{"unavailable"}, records: 2,
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventError, "", "") },
		},
		{
			name: "the AGI channel broken while setting the variables: nothing more is sent",
			ani:  "0312345678", call: func(c *scriptedCall) { c.brokenAt = VarStatus },
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", prompts: []string{"welcome"}, crmOps: []string{"by_phone:found"}, records: 1,
			vars:  map[string]string{VarInteraction: interactionID},
			check: func(t *testing.T, r *pathRun) { r.wantEvent(t, EventError, "", "") },
		},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := runPath(t, row)
			r.assert(t, row)
			if row.check != nil {
				row.check(t, r)
			}
			if r.bug != "" {
				t.Skip(r.bug)
			}
		})
	}
}

// attestation is what Asterisk's STIR_SHAKEN function reads on a call.
func attestation(count, result, level string) map[string]string {
	return map[string]string{
		"STIR_SHAKEN(count)": count, "STIR_SHAKEN(0,verify_result)": result, "STIR_SHAKEN(0,attest_level)": level,
	}
}

// pathRun is one row's call after the flow.
type pathRun struct {
	in       *Interaction
	call     *scriptedCall
	crm      *cannedCRM
	guard    *fakeGuard
	rec      *snapshots
	observed []Event
	bug      string // the known bug this call showed
}

func runPath(t *testing.T, row pathRow) *pathRun {
	t.Helper()
	line := pathsLine()
	if row.line != nil {
		row.line(line)
	}
	clock := &testClock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	call := &scriptedCall{answers: row.answers, hangupAt: row.hangupAt, queueStatus: "TIMEOUT",
		lang: "en", preset: row.preset, set: map[string]string{}}
	if row.call != nil {
		row.call(call)
	}
	crm := pathsCRM(clock)
	crm.call = call
	call.code = func() string {
		if len(crm.codes) == 0 {
			return ""
		}
		return crm.codes[len(crm.codes)-1]
	}
	if row.crm != nil {
		row.crm(crm)
	}
	r := &pathRun{call: call, crm: crm, guard: row.guard, rec: &snapshots{err: row.recErr}}
	runner := &Runner{Directory: crm, Recorder: r.rec, Now: clock.Now}
	if row.guard != nil {
		runner.Guard = row.guard
	}
	req := Request{
		ID: interactionID, Script: cmp.Or(row.script, ScriptIDV), Line: line, ANI: row.ani, Presentation: row.pres,
		DNIS: "0120123456", Channel: "PJSIP/trunk-00000001", UniqueID: "1764151200.1", Language: call.lang,
		Observe: func(_ *Interaction, ev Event) { r.observed = append(r.observed, ev) },
	}
	r.in = runner.Run(context.Background(), call, req)
	return r
}

// assert checks what every row must end with.
func (r *pathRun) assert(t *testing.T, row pathRow) {
	t.Helper()
	in := r.in
	if in.Status != row.status || in.Reason != row.reason || in.Method != row.method {
		t.Errorf("outcome %s/%s/%s, want %s/%s/%s", in.Status, in.Reason, in.Method, row.status, row.reason, row.method)
	}
	if in.CustomerID != row.custID || in.CustomerName != row.custName {
		t.Errorf("customer %q %q, want %q %q", in.CustomerID, in.CustomerName, row.custID, row.custName)
	}
	if in.Attempts() != row.attempts {
		t.Errorf("attempts %s, want %s", in.Attempts(), row.attempts)
	}
	if g := r.guard; g != nil && g.settled != g.reserved {
		t.Errorf("the Guard let %d verification attempts through and %d were settled", g.reserved, g.settled)
	}
	if in.Identifier != row.identifier {
		t.Errorf("recorded identifier %q, want %q", in.Identifier, row.identifier)
	}
	if want := map[Status]string{StatusVerified: "Identified and verified", StatusIdentified: "Identified, not verified",
		StatusUnidentified: "Not identified"}[row.status]; in.Status.DisplayText() != want {
		t.Errorf("agent sees %q, want %q", in.Status.DisplayText(), want)
	}
	if in.ID != interactionID || in.Line != "retail" || in.Script != string(cmp.Or(row.script, ScriptIDV)) ||
		in.ANI != row.ani || in.DNIS != "0120123456" || in.Started.IsZero() || in.Ended.IsZero() {
		t.Errorf("record header: id %q line %q script %q ani %q dnis %q started %v ended %v",
			in.ID, in.Line, in.Script, in.ANI, in.DNIS, in.Started, in.Ended)
	}

	// The channel variables the dialplan and the agent leg read.
	want := row.vars
	if want == nil {
		idType := cmp.Or(row.idType, map[Method]string{MethodANI: "ANI", MethodDTMF: "CUSTOMER_ID"}[row.method])
		factors := row.factors
		if factors == "" && row.status == StatusVerified {
			factors = "PIN"
		}
		want = map[string]string{
			VarInteraction: interactionID, VarStatus: string(row.status), VarCustomerID: row.custID,
			VarCustomerName: row.custName, VarMethod: string(row.method), VarReason: string(row.reason),
			VarLine: "retail", VarAttempts: row.attempts, VarIDType: idType, VarFactors: factors,
		}
	}
	if !maps.Equal(r.call.set, want) {
		t.Errorf("channel variables\n got %v\nwant %v", r.call.set, want)
	}

	// Where the call went.
	switch {
	case in.Route == row.route:
	case row.bug != "":
		r.bug = fmt.Sprintf("bug: %s (route %q, want %q)", row.bug, in.Route, row.route)
	default:
		t.Errorf("route %q, want %q", in.Route, row.route)
	}
	if r.call.sent != row.sent {
		t.Errorf("sent to the channel %q, want %q", r.call.sent, row.sent)
	}
	if in.QueueStatus != row.qstatus {
		t.Errorf("QUEUESTATUS %q, want %q", in.QueueStatus, row.qstatus)
	}
	if routed := r.count(EventRoute, ""); (row.sent != "" || row.route == "continue") != (routed == 1) {
		t.Errorf("%d route events for a call sent to %q", routed, row.sent)
	}

	// What the caller heard and what the CRM was asked.
	if !slices.Equal(r.call.prompts, row.prompts) {
		t.Errorf("prompts\n got %q\nwant %q", r.call.prompts, row.prompts)
	}
	if got := r.crmOps(); !slices.Equal(got, row.crmOps) {
		t.Errorf("CRM calls %q, want %q", got, row.crmOps)
	}
	if r.call.next != len(r.call.answers) || r.call.overrun != 0 {
		t.Errorf("the flow asked for digits %d times, the caller had %d answers", r.call.next+r.call.overrun, len(r.call.answers))
	}

	// The record: stored as often as the route needs, the last store as the call ended.
	if len(r.rec.snaps) != row.records {
		t.Errorf("recorded %d times, want %d", len(r.rec.snaps), row.records)
	} else if last := r.rec.snaps[len(r.rec.snaps)-1]; last.Status != in.Status || last.Reason != in.Reason ||
		last.Route != in.Route || last.Ended.IsZero() || len(last.Events) == 0 {
		t.Errorf("last record %s/%s route %q ended %v, call ended %s/%s route %q",
			last.Status, last.Reason, last.Route, last.Ended, in.Status, in.Reason, in.Route)
	}
	if n := r.count(EventOutcome, string(in.Status)); n != 1 {
		t.Errorf("%d outcome events for %s", n, in.Status)
	}
	if len(r.observed) != len(in.Events) {
		t.Errorf("observer saw %d events, the record has %d", len(r.observed), len(in.Events))
	}
	if in.Reason == ReasonHangup && r.count(EventHangup, "") != 1 {
		t.Errorf("%d hang-up events for a hang-up", r.count(EventHangup, ""))
	}
	for _, ev := range in.Events {
		if ev.Kind == EventHangup && ev.Phase != row.hangupPhase {
			t.Errorf("hang-up in phase %q, want %q", ev.Phase, row.hangupPhase)
		}
	}
	if in.Reason != ReasonHangup && row.hangupPhase != "" {
		t.Errorf("no hang-up, want one in phase %q", row.hangupPhase)
	}

	// The bucket the live tiles and the reports count the call in.
	outcome := map[Status]Outcome{StatusVerified: OutcomeVerified, StatusIdentified: OutcomeIdentified,
		StatusUnidentified: OutcomeUnidentified}[row.status]
	switch row.reason {
	case ReasonOptedOut:
		outcome = OutcomeOptedOut
	case ReasonBackendUnavailable:
		outcome = OutcomeError
	}
	if in.Outcome() != outcome {
		t.Errorf("counted as %q, want %q", in.Outcome(), outcome)
	}

	// No secret digits anywhere but in the one request that checks them.
	var seen []string
	for n, v := range r.call.set {
		seen = append(seen, n+"="+v)
	}
	seen = append(seen, r.call.log...)
	for _, ev := range append(slices.Clone(in.Events), r.observed...) {
		seen = append(seen, fmt.Sprintf("%+v", ev))
	}
	for _, s := range r.rec.snaps {
		seen = append(seen, fmt.Sprintf("%+v", s))
	}
	seen = append(seen, fmt.Sprintf("%+v", *in))
	for _, s := range seen {
		for _, secret := range []string{rightSecret, wrongSecret} {
			if strings.Contains(s, secret) {
				t.Errorf("secret digits %s leaked: %s", secret, s)
			}
		}
	}
}

func (r *pathRun) crmOps() []string {
	var ops []string
	for _, ev := range r.in.Events {
		if ev.Kind == EventCRM {
			ops = append(ops, string(ev.Name)+":"+string(ev.Result))
		}
	}
	return ops
}

// count counts the events of a kind, with that name unless name is "".
func (r *pathRun) count(kind EventKind, name string) int {
	n := 0
	for _, ev := range r.in.Events {
		if ev.Kind == kind && (name == "" || string(ev.Name) == name) {
			n++
		}
	}
	return n
}

// wantEvent wants an event of a kind with that name and result ("" for any).
func (r *pathRun) wantEvent(t *testing.T, kind EventKind, name, result string) {
	t.Helper()
	for _, ev := range r.in.Events {
		if ev.Kind == kind && (name == "" || string(ev.Name) == name) && (result == "" || string(ev.Result) == result) {
			return
		}
	}
	t.Errorf("no %s event %q %q in %+v", kind, name, result, r.in.Events)
}

// guardDetail is the limit the call's guard event names.
func (r *pathRun) guardDetail() string {
	for _, ev := range r.in.Events {
		if ev.Kind == EventGuard {
			return ev.Detail
		}
	}
	return ""
}

func (r *pathRun) noEvent(t *testing.T, kind EventKind) {
	t.Helper()
	if n := r.count(kind, ""); n != 0 {
		t.Errorf("%d %s events, want none: %+v", n, kind, r.in.Events)
	}
}

// wantDigits wants a digits event for the entry with that end and number of digits.
func (r *pathRun) wantDigits(t *testing.T, what, end string, count int) {
	t.Helper()
	for _, ev := range r.in.Events {
		if ev.Kind == EventDigits && string(ev.Name) == what && string(ev.Result) == end && ev.Count == count {
			return
		}
	}
	t.Errorf("no %s entry ending %s with %d digits in %+v", what, end, count, r.in.Events)
}

func (r *pathRun) noDigits(t *testing.T, end string) {
	t.Helper()
	for _, ev := range r.in.Events {
		if ev.Kind == EventDigits && string(ev.Result) == end {
			t.Errorf("unexpected %s entry ending %s", ev.Name, end)
		}
	}
}

// scriptedCall is a call whose caller follows a script. Each time the flow asks for
// digits (the first prompt played with escape keys, or a first wait) the caller gives
// the next answer:
//
//	"100235#"  lets the prompts finish, then types 100235 and #
//	"^100235#" types over the first prompt, interrupting it
//	""         types nothing (the flow's digit timeout: WaitDigit returns 0)
//	"10!"      types 1, 0 and hangs up
//
// When the flow waits for a first digit without a prompt, that wait begins an answer.
// Keys that are not escape keys of a prompt typed over it are lost, as in Asterisk.
// After the last key of an answer the next wait times out. A caller who hung up makes
// every method fail with ErrHangup, except that variables are still set: Asterisk sets
// them on a dead channel.
type scriptedCall struct {
	answers     []string
	hangupAt    string // see pathRow
	answerErr   error
	queueStatus string
	queueErr    error
	gotoErr     error
	brokenAt    string // a variable whose SET fails as on a broken AGI connection
	preset      map[string]string
	code        func() string // the last one-time code sent, for "{otp}" in an answer

	lang    string
	next    int // next answer
	overrun int // times the flow asked beyond the script
	keys    []rune
	active  bool // an answer is being typed
	bargeIn bool
	ended   bool // the last key of an answer was just read
	gone    bool

	prompts []string          // played, in order
	heard   []string          // played, as language/prompt
	langs   []string          // languages set
	set     map[string]string // variables set
	log     []string          // every SET, as name=value
	sent    string            // queue or goto sent
}

func (c *scriptedCall) hangup() { c.gone = true }

// start begins the caller's next answer.
func (c *scriptedCall) start() {
	c.active, c.ended, c.keys, c.bargeIn = true, false, nil, false
	if c.next >= len(c.answers) {
		c.overrun++
		return
	}
	a := c.answers[c.next]
	c.next++
	if c.code != nil { // a one-time code known only now; {notp}: any other code
		code := c.code()
		a = strings.ReplaceAll(a, "{otp}", code)
		a = strings.ReplaceAll(a, "{notp}", map[bool]string{true: "111111", false: "000000"}[code == "000000"])
	}
	if rest, ok := strings.CutPrefix(a, "^"); ok {
		c.bargeIn, a = true, rest
	}
	c.keys = []rune(a)
}

// key takes the next key of the answer.
func (c *scriptedCall) key() (rune, error) {
	k := c.keys[0]
	c.keys = c.keys[1:]
	if k == '!' {
		c.hangup()
		return 0, ErrHangup
	}
	if len(c.keys) == 0 {
		c.active, c.ended = false, true
	}
	return k, nil
}

func (c *scriptedCall) Answer(context.Context) error {
	if c.answerErr != nil {
		if errors.Is(c.answerErr, ErrHangup) {
			c.hangup()
		}
		return c.answerErr
	}
	return nil
}

func (c *scriptedCall) Play(_ context.Context, prompt, escape string) (rune, error) {
	if c.gone {
		return 0, ErrHangup
	}
	if prompt == c.hangupAt {
		c.hangup()
		return 0, ErrHangup
	}
	c.prompts = append(c.prompts, prompt)
	c.heard = append(c.heard, c.lang+"/"+prompt)
	if escape == "" {
		return 0, nil
	}
	if !c.active {
		c.start()
	}
	for c.bargeIn && len(c.keys) > 0 {
		if c.keys[0] == '!' || strings.ContainsRune(escape, c.keys[0]) {
			return c.key()
		}
		c.keys = c.keys[1:]
	}
	return 0, nil
}

// SayDigits is heard as the prompt "digits:N".
func (c *scriptedCall) SayDigits(ctx context.Context, digits, escape string) (rune, error) {
	return c.Play(ctx, "digits:"+digits, escape)
}

func (c *scriptedCall) WaitDigit(context.Context, time.Duration) (rune, error) {
	if c.gone {
		return 0, ErrHangup
	}
	if !c.active {
		if c.ended {
			c.ended = false
			return 0, nil
		}
		c.start()
	}
	if len(c.keys) == 0 {
		c.active = false
		return 0, nil
	}
	return c.key()
}

func (c *scriptedCall) SetVariable(_ context.Context, name, value string) error {
	if name == c.brokenAt {
		return errors.New("agi: write: broken pipe")
	}
	if name == c.hangupAt {
		c.hangup()
	}
	c.set[name] = value
	c.log = append(c.log, name+"="+value)
	if c.gone {
		return ErrHangup
	}
	return nil
}

// setLog is every value a variable was set to, in order.
func (c *scriptedCall) setLog(name string) []string {
	var vs []string
	for _, l := range c.log {
		if v, ok := strings.CutPrefix(l, name+"="); ok {
			vs = append(vs, v)
		}
	}
	return vs
}

func (c *scriptedCall) SetLanguage(_ context.Context, lang string) error {
	if "language:"+lang == c.hangupAt {
		c.hangup()
	}
	if c.gone {
		return ErrHangup
	}
	c.lang = lang
	c.langs = append(c.langs, lang)
	return nil
}

func (c *scriptedCall) Variable(_ context.Context, name string) (string, bool, error) {
	if name == c.hangupAt {
		c.hangup()
	}
	if c.gone {
		return "", false, ErrHangup
	}
	if v, ok := c.set[name]; ok {
		return v, true, nil
	}
	v, ok := c.preset[name]
	return v, ok, nil
}

func (c *scriptedCall) Queue(_ context.Context, args string) (string, error) {
	if c.gone {
		return "", ErrHangup
	}
	c.sent = "queue " + args
	return c.queueStatus, c.queueErr
}

func (c *scriptedCall) Goto(_ context.Context, context_, extension, priority string) error {
	if c.gone {
		return ErrHangup
	}
	c.sent = "goto " + context_ + "," + extension + "," + priority
	return c.gotoErr
}

// testClock is the flow's clock; only the CRM moves it, by its latency.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

// cannedCRM is the company's back end with canned answers.
type cannedCRM struct {
	clock        *testClock
	latency      time.Duration
	phones       map[string][]Customer
	ids          map[string]Customer
	secret       string
	locked       map[string]bool  // customers the CRM answers 423 for
	fail         map[string]error // operation → its error
	slow         string           // an operation that answers only when its deadline has passed
	hangupDuring string           // an operation during which the caller hangs up
	call         *scriptedCall

	accounts map[string]Customer // customers by account number (the kind "account")
	factors  map[string]string   // each factor's right value but the PIN's (secret)
	codes    []string            // the one-time codes sent, in order

	calls   []string // "op argument", never a secret
	secrets []string // the secrets the verify requests carried
}

// crmErr is a back-end failure of a kind, as the crm adapter reports it.
type crmErr struct{ kind string }

func (e *crmErr) Error() string { return "crm: " + e.kind }
func (e *crmErr) Kind() string  { return e.kind }

func (d *cannedCRM) answer(ctx context.Context, op, arg string) error {
	d.calls = append(d.calls, op+" "+arg)
	d.clock.t = d.clock.t.Add(d.latency)
	if op == d.hangupDuring {
		d.call.hangup()
	}
	if op == d.slow {
		<-ctx.Done()
		return fmt.Errorf("crm %s: %w", op, ctx.Err())
	}
	return d.fail[op]
}

func (d *cannedCRM) FindByPhone(ctx context.Context, e164 string) ([]Customer, error) {
	if err := d.answer(ctx, "by_phone", e164); err != nil {
		return nil, err
	}
	return d.phones[e164], nil
}

func (d *cannedCRM) FindBy(ctx context.Context, kind, value string) (*Customer, error) {
	op, index := "by_id", d.ids
	if kind != KindCustomerID {
		op, index = "by_"+kind, d.accounts
	}
	if err := d.answer(ctx, op, value); err != nil {
		return nil, err
	}
	if c, ok := index[value]; ok {
		return &c, nil
	}
	return nil, nil
}

func (d *cannedCRM) Verify(ctx context.Context, factor, id string, secret Secret) (Verdict, error) {
	d.secrets = append(d.secrets, secret.Reveal())
	op, want := "verify", d.secret
	if factor != FactorPIN {
		op, want = "verify_"+factor, d.factors[factor]
	}
	if err := d.answer(ctx, op, id); err != nil {
		return Rejected, err
	}
	switch {
	case d.locked[id]:
		return Locked, nil
	case secret.Reveal() == want:
		return Verified, nil
	}
	return Rejected, nil
}

func (d *cannedCRM) SendCode(ctx context.Context, c Customer, code Secret) error {
	if err := d.answer(ctx, "otp_send", c.Mobile); err != nil {
		return err
	}
	d.codes = append(d.codes, code.Reveal())
	return nil
}

// fakeGuard keeps lockouts and throttling in memory.
type fakeGuard struct {
	locked      map[string]bool
	lockAfter   int // failures that lock a customer out; 0 never
	throttle    bool
	maxIdentify int   // identification attempts allowed when throttling
	err         error // every call fails with it

	failures map[string]int
	identify []string // the calling number of each identification attempt
	failed   []string
	passed   []string
	refuse   Limit // ReserveVerify refuses every attempt with it
	// reserved and settled count the verification attempts taken and settled.
	reserved, settled int
}

func (g *fakeGuard) VerifyLimit(_ context.Context, id, _ string) (Limit, error) {
	if g.err != nil {
		return LimitNone, g.err
	}
	if g.locked[id] {
		return LimitCaller, nil
	}
	return LimitNone, nil
}

func (g *fakeGuard) ReserveVerify(_ context.Context, id, _ string) (Attempt, Limit, error) {
	if g.err != nil {
		return nil, LimitNone, g.err
	}
	if g.refuse != LimitNone {
		return nil, g.refuse, nil
	}
	g.reserved++
	return &fakeAttempt{g: g, id: id}, LimitNone, nil
}

// fakeAttempt is one attempt the fakeGuard let through.
type fakeAttempt struct {
	g  *fakeGuard
	id string
}

func (a *fakeAttempt) Settle(_ context.Context, outcome AttemptOutcome) (Limit, error) {
	g := a.g
	g.settled++
	switch outcome {
	case AttemptVerified:
		g.passed = append(g.passed, a.id)
		delete(g.failures, a.id)
	case AttemptRejected:
		g.failed = append(g.failed, a.id)
		if g.failures == nil {
			g.failures = map[string]int{}
		}
		g.failures[a.id]++
		if g.lockAfter > 0 && g.failures[a.id] >= g.lockAfter {
			return LimitCaller, nil
		}
	}
	return LimitNone, nil
}

func (g *fakeGuard) CountIdentify(_ context.Context, ani string) (Limit, error) {
	g.identify = append(g.identify, ani)
	if g.err != nil {
		return LimitNone, g.err
	}
	if g.throttle && len(g.identify) > g.maxIdentify {
		return LimitCaller, nil
	}
	return LimitNone, nil
}

// snapshots is a Recorder that keeps each stored version of the record.
type snapshots struct {
	err   error
	snaps []Interaction
}

func (s *snapshots) Record(_ context.Context, in *Interaction) error {
	cp := *in
	cp.Events = slices.Clone(in.Events)
	s.snaps = append(s.snaps, cp)
	return s.err
}
