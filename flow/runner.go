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
)

// Run takes one call through the flow and returns its record. It always ends with the
// variables set and, for ScriptIDV, the call routed — unless the caller hung up.
func (r *Runner) Run(ctx context.Context, call Call, req Request) *Interaction {
	s := &session{r: r, call: call, line: req.Line, script: req.Script, observe: req.Observe, phase: PhaseWelcome}
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
	if err := s.call.SetVariable(ctx, VarInteraction, s.in.ID); err != nil {
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
	if !s.line.Verify && !c.VerifyRequired {
		s.in.Reason = ReasonNotRequired
		return nil
	}
	return s.verify(ctx, c.ID)
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
		trusted, result, err := s.attested(ctx)
		if err != nil {
			return nil, err
		}
		if !trusted {
			s.event(Event{Kind: EventANI, Result: result})
			return nil, nil
		}
	}
	var found []Customer
	err := s.crm(ctx, OpByPhone, func(ctx context.Context) (Result, error) {
		var err error
		found, err = s.r.Directory.FindByPhone(ctx, s.in.ANIE164)
		switch {
		case err != nil:
			return "", err
		case len(found) == 0:
			return ResultNotFound, nil
		case len(found) > 1:
			return ResultSeveral, nil
		}
		return ResultFound, nil
	})
	if err != nil || len(found) != 1 {
		return nil, err
	}
	s.in.Method = MethodANI
	return &found[0], nil
}

// attested reads Asterisk's STIR/SHAKEN result for the call (res_stir_shaken's
// STIR_SHAKEN function) and says whether the calling number may be trusted.
func (s *session) attested(ctx context.Context) (bool, Result, error) {
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
	if level == "" || level > s.line.MinAttestation {
		return false, Result("attestation_" + strings.ToLower(cmp.Or(level, "none"))), nil
	}
	return true, "", nil
}

// identifyByDTMF is steps 4 and 5; nil, nil means unidentified with in.Reason set.
func (s *session) identifyByDTMF(ctx context.Context) (*Customer, error) {
	p := s.line.Prompts
	prompts := []string{p.EnterID, p.OptOutHint}
	typed := false
	for s.in.IdentifyAttempts < s.line.IdentifyAttempts {
		s.in.IdentifyAttempts++
		e, err := s.collect(ctx, EntryIdentifier, prompts, s.line.IDMinDigits, s.line.IDMaxDigits, s.line.OptOutKey)
		if err != nil {
			return nil, err
		}
		switch e.result {
		case entryOptOut:
			s.in.Reason = ReasonOptedOut
			return nil, nil
		case entryNone:
			prompts = []string{p.NoInput, p.EnterID, p.OptOutHint}
			continue
		}
		typed = true
		if s.line.RecordIdentifier {
			s.in.Identifier = e.digits
		}
		if g := s.r.Guard; g != nil && e.result == entryDigits {
			limit, err := g.CountIdentify(ctx, s.callerKey)
			if err != nil {
				s.event(Event{Kind: EventError, Name: "guard", Detail: err.Error()})
			} else if limit != LimitNone {
				s.event(Event{Kind: EventGuard, Name: "identify", Result: ResultRateLimited, Detail: string(limit)})
				s.in.Reason = ReasonLocked
				return nil, nil
			}
		}
		var c *Customer
		if e.result == entryDigits {
			err = s.crm(ctx, OpByID, func(ctx context.Context) (Result, error) {
				var err error
				if c, err = s.r.Directory.FindByID(ctx, e.digits); err != nil {
					return "", err
				} else if c == nil {
					return ResultNotFound, nil
				}
				return ResultFound, nil
			})
			if err != nil {
				return nil, err
			}
		}
		if c != nil {
			s.in.Method = MethodDTMF
			return c, nil
		}
		prompts = []string{p.NotFound, p.EnterID, p.OptOutHint}
	}
	s.in.Reason = ReasonNoInput
	if typed {
		s.in.Reason = ReasonNotFound
	}
	return nil, nil
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
	s.in.CustomerID, s.in.CustomerName, s.in.Status = id, name, StatusIdentified
	if m := Method(method); m == MethodANI || m == MethodDTMF {
		s.in.Method = m
	}
	return s.verify(ctx, id)
}

// verify is steps 6 and 7 for an identified customer.
func (s *session) verify(ctx context.Context, id string) error {
	s.phase = PhaseVerify
	p := s.line.Prompts
	prompts := []string{p.EnterSecret}
	if g := s.r.Guard; g != nil && s.lockout(g.VerifyLimit(ctx, id, s.callerKey)) {
		return nil
	}
	for s.in.VerifyAttempts < s.line.VerifyAttempts {
		s.in.VerifyAttempts++
		e, err := s.collect(ctx, EntrySecret, prompts, s.line.SecretMinDigits, s.line.SecretMaxDigits, 0)
		if err != nil {
			return err
		}
		if e.result == entryNone {
			prompts = []string{p.NoInput, p.EnterSecret}
			continue
		}
		verdict := Rejected
		if e.result == entryDigits {
			var locked bool
			if verdict, locked, err = s.checkSecret(ctx, id, NewSecret(e.digits)); err != nil || locked {
				return err
			}
		}
		switch verdict {
		case Verified:
			s.in.Status, s.in.Reason = StatusVerified, ReasonOK
			return s.play(ctx, p.Verified, "")
		case Locked:
			s.in.Reason = ReasonLocked
			return nil
		}
		prompts = []string{p.SecretWrong, p.EnterSecret}
	}
	s.in.Reason = ReasonVerifyFailed
	return nil
}

// checkSecret asks the directory to check a secret inside an attempt the Guard reserves
// first, so that calls in parallel cannot put more guesses to the CRM than the lockout
// allows. locked is true (with LOCKED) when the Guard refused the attempt, or when this
// rejection reached a limit. The attempt is settled whatever happens, a hang-up or a
// failing back end included: those release it, as they were no guess.
func (s *session) checkSecret(ctx context.Context, id string, secret Secret) (verdict Verdict, locked bool, err error) {
	var attempt Attempt
	if g := s.r.Guard; g != nil {
		var limit Limit
		attempt, limit, err = g.ReserveVerify(ctx, id, s.callerKey)
		if s.lockout(limit, err) {
			return Rejected, true, nil
		}
	}
	// Void until the directory answers: a failure, a hang-up or a panic releases it.
	outcome := AttemptVoid
	if attempt != nil { // nil when the guard failed: it locks nobody out
		defer func() {
			timeout := cmp.Or(s.r.RecordTimeout, DefaultRecordTimeout)
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
			defer cancel()
			limit, err := attempt.Settle(sctx, outcome)
			if err != nil || outcome == AttemptRejected {
				locked = s.lockout(limit, err)
			}
		}()
	}
	err = s.crm(ctx, OpVerify, func(ctx context.Context) (Result, error) {
		var err error
		if verdict, err = s.r.Directory.Verify(ctx, id, secret); err != nil {
			return "", err
		}
		return [...]Result{ResultRejected, ResultVerified, ResultLocked}[verdict], nil
	})
	switch {
	case err != nil:
	case verdict == Verified:
		outcome = AttemptVerified
	case verdict == Rejected:
		outcome = AttemptRejected
	}
	return verdict, false, err
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
	for _, p := range prompts {
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
		if key != 0 {
			break
		}
	}
	if key == 0 {
		if key, err = s.call.WaitDigit(ctx, s.line.FirstDigitTimeout); err != nil {
			return entry{}, err
		}
	}
	var b strings.Builder
	end := ResultTimeout
	for key != 0 {
		if optOut != 0 && key == optOut {
			s.event(Event{Kind: EventDigits, Name: what, Result: ResultOptOut, Count: b.Len()})
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
	return e, nil
}
