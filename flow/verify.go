package flow

import (
	"cmp"
	"context"
	"strings"
)

// assessRisk applies the line's risk rule to an identified caller: it says whether
// extra factors are due and records why (in.Risk).
func (s *session) assessRisk(ctx context.Context, req Request) (bool, error) {
	r := s.line.Risk
	if len(r.Factors) == 0 {
		return false, nil
	}
	if r.Withheld && ANIWithheld(req.ANI, req.Presentation) {
		s.in.Risk = append(s.in.Risk, RiskWithheld)
	}
	if r.Typed && s.in.Method == MethodDTMF {
		s.in.Risk = append(s.in.Risk, RiskTyped)
	}
	if r.MinAttestation != "" && !ANIWithheld(req.ANI, req.Presentation) {
		trusted, _, err := s.attested(ctx, r.MinAttestation)
		if err != nil {
			return false, err
		}
		if !trusted {
			s.in.Risk = append(s.in.Risk, RiskUnattested)
		}
	}
	return len(s.in.Risk) > 0, nil
}

// verify is steps 6 and 7 for an identified customer: every factor of the line (and
// of its risk rule, when in.Risk says so) must pass, in order, each with the line's tries.
// found says c came from the CRM in this call (the /verify script knows only the id).
func (s *session) verify(ctx context.Context, c Customer, found bool) error {
	s.phase = PhaseVerify
	factors := s.line.factors()
	if len(s.in.Risk) > 0 {
		factors = withRisk(factors, s.line.Risk.Factors)
	}
	for _, f := range factors {
		var passed bool
		var err error
		if f.OTP {
			if !found && c.Mobile == "" {
				// The /verify script knows only the id: the mobile is in the record.
				if c, err = s.reload(ctx, c); err != nil {
					return err
				}
				found = true
			}
			passed, err = s.verifyOTP(ctx, c, f)
		} else {
			passed, err = s.verifyFactor(ctx, c.ID, f)
		}
		if err != nil || s.in.Reason != "" {
			return err // a failure, or LOCKED
		}
		if !passed {
			s.in.Reason = ReasonVerifyFailed
			return nil
		}
		s.in.FactorsPassed = append(s.in.FactorsPassed, f.Name)
	}
	s.in.Status, s.in.Reason = StatusVerified, ReasonOK
	return s.play(ctx, s.line.Prompts.Verified, "")
}

// reload reads the customer's record again by its id.
func (s *session) reload(ctx context.Context, c Customer) (Customer, error) {
	found, err := s.find(ctx, IDKind{Name: KindCustomerID}, c.ID)
	if err != nil || found == nil {
		return c, err
	}
	return *found, nil
}

// Factors is the IDV_FACTORS value: the factors passed, upper-cased, e.g. "PIN,OTP".
func (in *Interaction) Factors() string { return strings.ToUpper(strings.Join(in.FactorsPassed, ",")) }

// verifyFactor asks for one factor the CRM checks, with the line's tries. It reports
// whether it passed; LOCKED ends it with in.Reason set.
func (s *session) verifyFactor(ctx context.Context, id string, f Factor) (bool, error) {
	p := s.line.Prompts
	key := guardKey(id, f)
	if g := s.guard; g != nil && s.lockout(g.VerifyLimit(ctx, key, s.callerKey)) {
		return false, nil
	}
	s.in.FactorsAsked = append(s.in.FactorsAsked, f.Name) // from its first prompt on
	prompts := []string{f.Prompt}
	for tries := 0; tries < s.line.VerifyAttempts; tries++ {
		s.in.VerifyAttempts++
		e, err := s.collect(ctx, EntrySecret, prompts, f.MinDigits, f.MaxDigits, 0)
		if err != nil {
			return false, err
		}
		if e.result == entryNone {
			prompts = []string{p.NoInput, f.Prompt}
			continue
		}
		prompts = []string{f.WrongPrompt, f.Prompt}
		if e.result != entryDigits {
			continue
		}
		if f.Date && !validDate(e.digits) {
			s.event(Event{Kind: EventDigits, Name: EntrySecret, Result: ResultBadDate, Count: len(e.digits), Detail: f.Name})
			continue
		}
		verdict, locked, err := s.guarded(ctx, key, func(ctx context.Context) (Verdict, error) {
			var verdict Verdict
			err := s.crm(ctx, opCheck(f), func(ctx context.Context) (Result, error) {
				var err error
				if verdict, err = s.dir.Verify(ctx, f.Name, id, NewSecret(e.digits)); err != nil {
					return "", err
				}
				return [...]Result{ResultRejected, ResultVerified, ResultLocked}[verdict], nil
			})
			return verdict, err
		})
		if err != nil || locked {
			return false, err
		}
		switch verdict {
		case Verified:
			return true, nil
		case Locked:
			s.in.Reason = ReasonLocked
			return false, nil
		}
	}
	return false, nil
}

// guarded runs one check of a secret inside an attempt the Guard reserves first (under
// key), so that calls in parallel cannot put more guesses to the checker than the
// lockout allows. locked is true (with LOCKED) when the Guard refused the attempt, or
// when this rejection reached a limit. The attempt is settled whatever happens, a
// hang-up or a failing back end included: those release it, as they were no guess.
func (s *session) guarded(ctx context.Context, key string, check func(context.Context) (Verdict, error)) (verdict Verdict, locked bool, err error) {
	var attempt Attempt
	if g := s.guard; g != nil {
		var limit Limit
		attempt, limit, err = g.ReserveVerify(ctx, key, s.callerKey)
		if s.lockout(limit, err) {
			return Rejected, true, nil
		}
	}
	// Void until the checker answers: a failure, a hang-up or a panic releases it.
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
	verdict, err = check(ctx)
	switch {
	case err != nil:
	case verdict == Verified:
		outcome = AttemptVerified
	case verdict == Rejected:
		outcome = AttemptRejected
	}
	return verdict, false, err
}
