package flow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Script is the part of the flow a request asks for.
type Script string

// Scripts, as named in the FastAGI request path.
const (
	// ScriptIDV runs the whole flow and routes the call.
	ScriptIDV Script = "idv"
	// ScriptIdentify identifies the caller, sets the variables and returns to the dialplan.
	ScriptIdentify Script = "identify"
	// ScriptVerify verifies a caller identified earlier in the call (IDV_CUSTOMER_ID)
	// and returns to the dialplan.
	ScriptVerify Script = "verify"
)

// Request is what the flow knows of a call when it starts.
type Request struct {
	ID           string // interaction id, a ULID
	Script       Script
	Line         *Line
	ANI          string
	Presentation int
	DNIS         string
	Channel      string
	UniqueID     string
	Language     string
	// Observe, when set, sees every event of this call as it happens (with the record as
	// it is then, on the call's goroutine), e.g. to log it.
	Observe func(in *Interaction, ev Event)
}

// Runner runs the flow. Directory and Recorder are required; Now may be nil.
type Runner struct {
	Directory Directory
	Recorder  Recorder
	// Guard, when set, locks callers out of a customer after failed verifications
	// (reserving each attempt before the CRM checks it) and throttles identification
	// attempts.
	Guard Guard
	// RecordTimeout bounds each write of the record, so that a locked or slow database
	// delays no caller longer (default 2 s); the caller is routed all the same.
	RecordTimeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Channel variable names (README). The agi adapter adds the "__" inheritance prefix.
const (
	VarStatus       = "IDV_STATUS"
	VarCustomerID   = "IDV_CUSTOMER_ID"
	VarCustomerName = "IDV_CUSTOMER_NAME"
	VarMethod       = "IDV_METHOD"
	VarReason       = "IDV_REASON"
	VarLine         = "IDV_LINE"
	VarInteraction  = "IDV_INTERACTION"
	VarAttempts     = "IDV_ATTEMPTS"
	// VarIDType is how the caller was identified: ANI, CUSTOMER_ID, ACCOUNT, PHONE, …
	VarIDType = "IDV_ID_TYPE"
	// VarFactors lists the verification factors passed, e.g. "PIN,OTP".
	VarFactors = "IDV_FACTORS"
)

// Run takes one call through the flow and returns its record. It always ends with the
// variables set and, for ScriptIDV, the call routed — unless the caller hung up.
func (r *Runner) Run(ctx context.Context, call Call, req Request) *Interaction {
	s := &session{r: r, call: call, line: req.Line, script: req.Script, observe: req.Observe, phase: PhaseWelcome,
		dir: asideDirectory{r.Directory}}
	if r.Guard != nil {
		s.guard = asideGuard{r.Guard}
	}
	s.in = &Interaction{
		ID: req.ID, Line: req.Line.Name, Script: string(req.Script), Started: r.now(),
		ANI: req.ANI, DNIS: req.DNIS, Channel: req.Channel, UniqueID: req.UniqueID,
		Language: req.Language, Status: StatusUnidentified, Method: MethodNone,
	}
	s.event(Event{Kind: EventStart, Name: string(req.Script)})
	err := s.runSafely(ctx, req)
	s.finish(ctx, err)
	return s.in
}

// runSafely turns a panic in the flow into an error, so that a bug of ours still ends
// on the error route with a record.
func (s *session) runSafely(ctx context.Context, req Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	return s.run(ctx, req)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// session is one call's state.
type session struct {
	r        *Runner
	call     Call
	line     *Line
	script   Script
	in       *Interaction
	observe  func(*Interaction, Event)
	phase    Phase // the step the call is in, set on every event
	crmSpent time.Duration
	// callerKey is the calling number the per-number identify limit counts, "" when it
	// is withheld: withheld callers are many people, not one.
	callerKey string
	// interactionSet says IDV_INTERACTION is on the channel.
	interactionSet bool
	// otp is the one-time code of the call, once one was sent.
	otp *otpCode
	// closedAtMax says that the last entry ended at its greatest length, not with the
	// terminator (see collect).
	closedAtMax bool
	// dir and guard are the Runner's, their requests run aside (see aside.go); guard is
	// nil when the Runner has none.
	dir   Directory
	guard Guard
}

func (s *session) event(ev Event) {
	ev.At, ev.Phase = s.r.now(), s.phase
	s.in.Events = append(s.in.Events, ev)
	if s.observe != nil {
		s.observe(s.in, ev)
	}
}

// errBackend ends the flow on the error route with BACKEND_UNAVAILABLE.
var errBackend = errors.New("back end unavailable")

func (s *session) run(ctx context.Context, req Request) error {
	if !ANIWithheld(req.ANI, req.Presentation) {
		s.callerKey = req.ANI
	}
	if err := s.call.Answer(ctx); err != nil {
		return err
	}
	if err := s.setInteraction(ctx); err != nil {
		return err
	}
	if l := s.line.Language; l != "" && l != s.in.Language {
		if err := s.setLanguage(ctx, l); err != nil {
			return err
		}
	}
	if s.script == ScriptVerify {
		return s.stepUp(ctx)
	}
	if err := s.play(ctx, s.line.Prompts.Welcome, ""); err != nil {
		return err
	}
	s.phase = PhaseIdentify
	c, err := s.identifyByANI(ctx, req)
	if err != nil {
		return err
	}
	if c == nil {
		if c, err = s.identifyByDTMF(ctx); err != nil || c == nil {
			return err
		}
	}
	s.in.CustomerID, s.in.CustomerName, s.in.Status = c.ID, c.Name, StatusIdentified
	if err := s.customerLanguage(ctx, c.Language); err != nil {
		return err
	}
	if s.script == ScriptIdentify {
		s.in.Reason = ReasonOK
		return nil
	}
	risky, err := s.assessRisk(ctx, req)
	if err != nil {
		return err
	}
	if !s.line.Verify && !c.VerifyRequired && !risky {
		s.in.Reason = ReasonNotRequired
		return nil
	}
	return s.verify(ctx, *c, true)
}

// setLanguage switches the channel's language and records it.
func (s *session) setLanguage(ctx context.Context, lang string) error {
	if err := s.call.SetLanguage(ctx, lang); err != nil {
		return err
	}
	s.in.Language = lang
	s.event(Event{Kind: EventLanguage, Name: lang})
	return nil
}

// customerLanguage switches the rest of the call to the customer's language when the
// prompts exist in it.
func (s *session) customerLanguage(ctx context.Context, lang string) error {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if lang == "" || lang == s.in.Language {
		return nil
	}
	if !slices.Contains(s.line.Languages, lang) {
		s.event(Event{Kind: EventLanguage, Name: lang, Result: ResultNoPrompts})
		return nil
	}
	return s.setLanguage(ctx, lang)
}

// identifyByANI is step 3; nil, nil means "ask for the identifier".
func (s *session) identifyByANI(ctx context.Context, req Request) (*Customer, error) {
	if !s.line.ANILookup {
		return nil, nil
	}
	if ANIWithheld(req.ANI, req.Presentation) {
		s.event(Event{Kind: EventANI, Result: ResultWithheld})
		return nil, nil
	}
	s.in.ANIE164 = NormalizeANI(req.ANI, s.line.Region)
	if s.in.ANIE164 == "" {
		s.event(Event{Kind: EventANI, Result: ResultInvalid})
		return nil, nil
	}
	if s.line.MinAttestation != "" {
		trusted, result, err := s.attested(ctx, s.line.MinAttestation)
		if err != nil {
			return nil, err
		}
		if !trusted {
			s.event(Event{Kind: EventANI, Result: result})
			return nil, nil
		}
	}
	c, err := s.byPhone(ctx, s.in.ANIE164)
	if err != nil || c == nil {
		return nil, err
	}
	s.in.Method, s.in.IDType = MethodANI, KindANI
	return c, nil
}

// attested reads Asterisk's STIR/SHAKEN result for the call (res_stir_shaken's
// STIR_SHAKEN function) and says whether the calling number may be trusted.
func (s *session) attested(ctx context.Context, min string) (bool, Result, error) {
	count, _, err := s.call.Variable(ctx, "STIR_SHAKEN(count)")
	if err != nil {
		return false, "", err
	}
	if count == "" || count == "0" {
		return false, ResultNotAttested, nil
	}
	result, _, err := s.call.Variable(ctx, "STIR_SHAKEN(0,verify_result)")
	if err != nil {
		return false, "", err
	}
	if !strings.Contains(strings.ToLower(result), "success") {
		return false, ResultAttestationUnverified, nil
	}
	level, _, err := s.call.Variable(ctx, "STIR_SHAKEN(0,attest_level)")
	if err != nil {
		return false, "", err
	}
	level = strings.ToUpper(strings.TrimSpace(level))
	// A is the strongest: the carrier knows the caller and their right to the number.
	if level == "" || level > min {
		return false, Result("attestation_" + strings.ToLower(cmp.Or(level, "none"))), nil
	}
	return true, "", nil
}

// stepUp is the /verify script: verify the customer an earlier script identified.
func (s *session) stepUp(ctx context.Context) error {
	id, _, err := s.call.Variable(ctx, VarCustomerID)
	if err != nil {
		return err
	}
	if id == "" {
		s.in.Reason = ReasonNotFound
		return nil
	}
	name, _, err := s.call.Variable(ctx, VarCustomerName)
	if err != nil {
		return err
	}
	method, _, err := s.call.Variable(ctx, VarMethod)
	if err != nil {
		return err
	}
	idType, _, err := s.call.Variable(ctx, VarIDType)
	if err != nil {
		return err
	}
	s.in.CustomerID, s.in.CustomerName, s.in.Status = id, name, StatusIdentified
	if m := Method(method); m == MethodANI || m == MethodDTMF {
		s.in.Method = m
	}
	s.in.IDType = strings.ToLower(idType)
	if s.in.IDType == "" { // set by an idv from before identifier kinds
		s.in.IDType = map[Method]string{MethodANI: KindANI, MethodDTMF: KindCustomerID}[s.in.Method]
	}
	return s.verify(ctx, Customer{ID: id, Name: name}, false)
}

// lockout takes a guard's answer on verification: a limit ends verification with
// LOCKED; a failing guard is recorded and locks nobody out.
func (s *session) lockout(limit Limit, err error) bool {
	if err != nil {
		s.event(Event{Kind: EventError, Name: "guard", Detail: err.Error()})
		return false
	}
	if limit == LimitNone {
		return false
	}
	s.event(Event{Kind: EventGuard, Name: "verify", Result: ResultLockout, Detail: string(limit)})
	s.in.Reason = ReasonLocked
	return true
}

// crm runs one back-end operation inside what is left of the call's budget and records
// it. Any failure ends the flow with errBackend.
func (s *session) crm(ctx context.Context, op string, do func(context.Context) (Result, error)) error {
	left := s.line.CRMBudget - s.crmSpent
	if left <= 0 {
		s.event(Event{Kind: EventCRM, Name: op, Result: ResultBudgetExhausted})
		return errBackend
	}
	cctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	start := s.r.now()
	result, err := do(cctx)
	took := s.r.now().Sub(start)
	s.crmSpent += took
	if err != nil {
		ev := Event{Kind: EventCRM, Name: op, Result: errorKind(err), Latency: took, Detail: err.Error()}
		if cctx.Err() != nil && ctx.Err() == nil {
			ev.Result = ResultBudgetExhausted
		}
		s.event(ev)
		return errBackend
	}
	s.event(Event{Kind: EventCRM, Name: op, Result: result, Latency: took})
	return nil
}

// errorKind reads the kind of a back-end error ("timeout", "http_500", ...) where the
// adapter gives one (the contract is on Directory). A kind that reads as an answer would
// count a failure as one, so it is taken for no kind.
func errorKind(err error) Result {
	var k interface{ Kind() string }
	if errors.As(err, &k) {
		if r := Result(k.Kind()); r != "" && !r.IsAnswer() {
			return r
		}
	}
	return ResultError
}

func (s *session) play(ctx context.Context, prompt, escape string) error {
	if prompt == "" {
		return nil
	}
	_, err := s.call.Play(ctx, prompt, escape)
	if err == nil {
		s.event(Event{Kind: EventPrompt, Name: prompt, Result: ResultPlayed})
	}
	return err
}

type entryResult int

const (
	entryDigits entryResult = iota
	entryNone               // nothing typed before the first-digit timeout
	entryShort              // fewer digits than the minimum
	entryOptOut
)

type entry struct {
	digits string
	result entryResult
}

// collect plays prompts (any key interrupts them) and reads digits until the
// terminator, the maximum length or the inter-digit timeout. The event it records holds
// the number of digits, never the digits.
func (s *session) collect(ctx context.Context, what string, prompts []string, min, max int, optOut rune) (entry, error) {
	escape := "0123456789" + string(s.line.Terminator)
	if optOut != 0 {
		escape += string(optOut)
	}
	var key rune
	var err error
	// A caller who ends a fixed-length entry (a date of birth, a menu choice) with the
	// terminator, as every other entry ends, types it over the next prompt: that key
	// closes the entry before, not this one, which it would leave empty at the cost of a
	// try. It is let go once, and the prompt it cut is played again.
	trailing := s.closedAtMax
	s.closedAtMax = false
	for i := 0; i < len(prompts); i++ {
		p := prompts[i]
		if p == "" {
			continue
		}
		if key, err = s.call.Play(ctx, p, escape); err != nil {
			return entry{}, err
		}
		result := ResultPlayed
		if key != 0 {
			result = ResultInterrupted
		}
		s.event(Event{Kind: EventPrompt, Name: p, Result: result})
		if key == s.line.Terminator && trailing {
			trailing, key = false, 0
			i--
			continue
		}
		if key != 0 {
			break
		}
	}
	for first := key == 0; first; {
		if key, err = s.call.WaitDigit(ctx, s.line.FirstDigitTimeout); err != nil {
			return entry{}, err
		}
		first = key == s.line.Terminator && trailing
		trailing = false
	}
	var b strings.Builder
	end := ResultTimeout
	for key != 0 {
		if optOut != 0 && key == optOut {
			result := ResultOptOut
			if what == EntrySecret { // a secret's entry has no opt-out: the key asks for a new code
				result = ResultResend
			}
			s.event(Event{Kind: EventDigits, Name: what, Result: result, Count: b.Len()})
			return entry{result: entryOptOut}, nil
		}
		if key == s.line.Terminator {
			end = ResultTerminator
			break
		}
		if key >= '0' && key <= '9' {
			b.WriteRune(key)
			if b.Len() >= max {
				end = ResultMaxLength
				break
			}
		}
		if key, err = s.call.WaitDigit(ctx, s.line.InterDigitTimeout); err != nil {
			return entry{}, err
		}
	}
	e := entry{digits: b.String()}
	switch {
	case b.Len() == 0:
		e.result, end = entryNone, ResultNoInput
	case b.Len() < min:
		e.result, end = entryShort, ResultTooShort
	}
	s.event(Event{Kind: EventDigits, Name: what, Result: end, Count: b.Len()})
	s.closedAtMax = end == ResultMaxLength
	return e, nil
}
