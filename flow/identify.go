package flow

import (
	"context"
	"strconv"
)

// identifyByDTMF is steps 4 and 5: the caller types an identifier — of a kind picked
// from the menu, or looked up under each kind in turn — with the line's tries and
// opt-out across kinds. nil, nil means unidentified, with in.Reason set.
func (s *session) identifyByDTMF(ctx context.Context) (*Customer, error) {
	p := s.line.Prompts
	kinds := s.line.idKinds()
	menu := s.line.IDMenu && len(kinds) > 1
	var lead []string // what to say before asking again: no input, not found
	typed := false
	for s.in.IdentifyAttempts < s.line.IdentifyAttempts {
		s.in.IdentifyAttempts++
		candidates := kinds
		if menu {
			k, result, err := s.choose(ctx, kinds, lead)
			if err != nil {
				return nil, err
			}
			switch result {
			case entryOptOut:
				s.in.Reason = ReasonOptedOut
				return nil, nil
			case entryNone:
				lead = []string{p.NoInput}
				continue
			}
			candidates, lead = kinds[k:k+1], nil
		}
		min, max := lengths(candidates)
		prompts := append(lead, candidates[0].Prompt, p.OptOutHint)
		e, err := s.collect(ctx, EntryIdentifier, prompts, min, max, s.line.OptOutKey)
		if err != nil {
			return nil, err
		}
		switch e.result {
		case entryOptOut:
			s.in.Reason = ReasonOptedOut
			return nil, nil
		case entryNone:
			lead = []string{p.NoInput}
			continue
		}
		typed = true
		if s.line.RecordIdentifier {
			s.in.Identifier = e.digits
		}
		if g := s.guard; g != nil && e.result == entryDigits {
			limit, err := g.CountIdentify(ctx, s.callerKey)
			if err != nil {
				s.event(Event{Kind: EventError, Name: "guard", Detail: err.Error()})
			} else if limit != LimitNone {
				s.event(Event{Kind: EventGuard, Name: "identify", Result: ResultRateLimited, Detail: string(limit)})
				s.in.Reason = ReasonLocked
				return nil, nil
			}
		}
		if e.result == entryDigits {
			for _, k := range candidates {
				if len(e.digits) < k.MinDigits || len(e.digits) > k.MaxDigits {
					continue
				}
				c, err := s.find(ctx, k, e.digits)
				if err != nil {
					return nil, err
				}
				if c != nil {
					s.in.Method, s.in.IDType = MethodDTMF, k.Name
					return c, nil
				}
			}
		}
		lead = []string{p.NotFound}
	}
	s.in.Reason = ReasonNoInput
	if typed {
		s.in.Reason = ReasonNotFound
	}
	return nil, nil
}

// lengths are the shortest minimum and longest maximum of kinds: what an entry may be
// when any of them may match.
func lengths(kinds []IDKind) (shortest, longest int) {
	shortest, longest = kinds[0].MinDigits, kinds[0].MaxDigits
	for _, k := range kinds[1:] {
		shortest, longest = min(shortest, k.MinDigits), max(longest, k.MaxDigits)
	}
	return shortest, longest
}

// choose plays the identifier menu — the lead prompts, the menu's opening, then each
// kind's name and its key (1, 2, …) — and reads the caller's choice: the index of the
// kind, or entryOptOut, or entryNone for no key or one the menu does not offer.
func (s *session) choose(ctx context.Context, kinds []IDKind, lead []string) (int, entryResult, error) {
	escape := "123456789"[:len(kinds)]
	if s.line.OptOutKey != 0 {
		escape += string(s.line.OptOutKey)
	}
	key, err := s.menu(ctx, kinds, lead, escape)
	if err != nil {
		return 0, 0, err
	}
	if key == 0 {
		if key, err = s.call.WaitDigit(ctx, s.line.FirstDigitTimeout); err != nil {
			return 0, 0, err
		}
	}
	switch {
	case key == 0:
		s.event(Event{Kind: EventDigits, Name: EntryMenu, Result: ResultNoInput})
		return 0, entryNone, nil
	case s.line.OptOutKey != 0 && key == s.line.OptOutKey:
		s.event(Event{Kind: EventDigits, Name: EntryMenu, Result: ResultOptOut})
		return 0, entryOptOut, nil
	case key >= '1' && int(key-'1') < len(kinds):
		i := int(key - '1')
		s.event(Event{Kind: EventDigits, Name: EntryMenu, Result: ResultTerminator, Count: 1, Detail: kinds[i].Name})
		s.closedAtMax = true // a choice is one key: a # after it closes it (see collect)
		return i, entryDigits, nil
	}
	s.event(Event{Kind: EventDigits, Name: EntryMenu, Result: ResultBadChoice, Count: 1})
	return 0, entryNone, nil
}

// menu plays the menu's prompts until a key in escape interrupts one, and returns it.
func (s *session) menu(ctx context.Context, kinds []IDKind, lead []string, escape string) (rune, error) {
	for _, p := range append(lead, s.line.Prompts.IDMenu) {
		if key, err := s.prompt(ctx, p, escape); err != nil || key != 0 {
			return key, err
		}
	}
	for i, k := range kinds {
		if key, err := s.prompt(ctx, k.MenuPrompt, escape); err != nil || key != 0 {
			return key, err
		}
		key, err := s.call.SayDigits(ctx, strconv.Itoa(i+1), escape)
		if err != nil || key != 0 {
			return key, err
		}
	}
	return 0, nil
}

// prompt plays one prompt that keys in escape interrupt, records it, and returns the key.
func (s *session) prompt(ctx context.Context, p, escape string) (rune, error) {
	if p == "" {
		return 0, nil
	}
	key, err := s.call.Play(ctx, p, escape)
	if err != nil {
		return 0, err
	}
	result := ResultPlayed
	if key != 0 {
		result = ResultInterrupted
	}
	s.event(Event{Kind: EventPrompt, Name: p, Result: result})
	return key, nil
}

// find looks digits up as an identifier of kind k; nil, nil is no match. A phone number
// must be valid in the line's region and match one customer alone.
func (s *session) find(ctx context.Context, k IDKind, digits string) (*Customer, error) {
	var c *Customer
	value := digits
	if k.Phone {
		if value = NormalizeANI(digits, s.line.Region); value == "" {
			s.event(Event{Kind: EventCRM, Name: opFind(k), Result: ResultNotFound, Detail: "not a valid phone number; the CRM was not asked"})
			return nil, nil
		}
	}
	if k.Phone {
		return s.byPhone(ctx, value)
	}
	err := s.crm(ctx, opFind(k), func(ctx context.Context) (Result, error) {
		var err error
		if c, err = s.dir.FindBy(ctx, k.Name, value); err != nil {
			return "", err
		} else if c == nil {
			return ResultNotFound, nil
		}
		return ResultFound, nil
	})
	return c, err
}

// byPhone looks an E.164 number up: the one customer with it, or nil when none or
// several have it.
func (s *session) byPhone(ctx context.Context, e164 string) (*Customer, error) {
	var found []Customer
	err := s.crm(ctx, OpByPhone, func(ctx context.Context) (Result, error) {
		var err error
		found, err = s.dir.FindByPhone(ctx, e164)
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
	return &found[0], nil
}
