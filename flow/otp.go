package flow

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// otpCode is a one-time code as the call keeps it: never the digits, only their keyed
// hash (a key of this call's own, never stored), with the code's expiry and the checks
// made of it.
type otpCode struct {
	key     [32]byte
	mac     []byte
	expires time.Time
	checks  int
	resent  bool
}

// newCode makes a code of n digits from crypto/rand and keeps its keyed hash in o.
func (o *otpCode) newCode(n int, expires time.Time) (Secret, error) {
	if _, err := rand.Read(o.key[:]); err != nil {
		return Secret{}, err
	}
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, max)
	if err != nil {
		return Secret{}, err
	}
	digits := fmt.Sprintf("%0*d", n, v)
	o.mac, o.expires = o.sum(digits), expires
	return NewSecret(digits), nil
}

func (o *otpCode) sum(digits string) []byte {
	h := hmac.New(sha256.New, o.key[:])
	h.Write([]byte(digits))
	return h.Sum(nil)
}

// matches compares typed digits with the code in constant time.
func (o *otpCode) matches(digits string) bool { return hmac.Equal(o.sum(digits), o.mac) }

// verifyOTP is the one-time code factor: idv makes a code, has the CRM (or an SMS
// gateway) send it to the customer's registered mobile, says where it went ("to the
// number ending 78"), and checks what the caller types — within the code's time and
// checks, and the line's tries. The resend key sends a new code, once.
func (s *session) verifyOTP(ctx context.Context, c Customer, f Factor) (bool, error) {
	policy := s.line.OTP
	ttl, maxChecks := cmp.Or(policy.TTL, DefaultOTPTTL), cmp.Or(policy.MaxChecks, DefaultOTPMaxChecks)
	mobile := strings.TrimSpace(c.Mobile)
	if len(digitsOf(mobile)) < 2 {
		s.event(Event{Kind: EventOTP, Name: f.Name, Result: ResultNoMobile})
		return false, nil
	}
	key := guardKey(c.ID, f)
	if g := s.guard; g != nil && s.lockout(g.VerifyLimit(ctx, key, s.callerKey)) {
		return false, nil
	}
	s.in.FactorsAsked = append(s.in.FactorsAsked, f.Name) // from the code sent on
	s.otp = &otpCode{}
	if err := s.sendCode(ctx, c, f, ttl, ResultSent); err != nil {
		return false, err
	}
	p := s.line.Prompts
	prompts := []string{f.Prompt}
	for tries := 0; tries < s.line.VerifyAttempts; {
		e, err := s.collect(ctx, EntrySecret, prompts, f.MinDigits, f.MaxDigits, policy.ResendKey)
		if err != nil {
			return false, err
		}
		if e.result == entryOptOut { // the resend key
			if s.otp.resent {
				// Refused: a code is resent once. It costs a try, so that the key cannot
				// keep the caller in the prompt for ever.
				s.event(Event{Kind: EventOTP, Name: f.Name, Result: ResultResend, Detail: "refused: a code is resent once"})
				tries++
				s.in.VerifyAttempts++
				prompts = []string{f.WrongPrompt, f.Prompt}
				continue
			}
			s.otp.resent = true
			if err := s.sendCode(ctx, c, f, ttl, ResultResend); err != nil {
				return false, err
			}
			prompts = []string{f.Prompt}
			continue
		}
		tries++
		s.in.VerifyAttempts++
		if e.result == entryNone {
			prompts = []string{p.NoInput, f.Prompt}
			continue
		}
		prompts = []string{f.WrongPrompt, f.Prompt}
		if e.result != entryDigits {
			continue
		}
		if s.otp.checks >= maxChecks {
			s.event(Event{Kind: EventOTP, Name: f.Name, Result: ResultMaxChecks})
			return false, nil
		}
		s.otp.checks++
		if !s.r.now().Before(s.otp.expires) {
			s.event(Event{Kind: EventOTP, Name: f.Name, Result: ResultExpired})
			prompts = []string{cmp.Or(p.CodeExpired, f.WrongPrompt), f.Prompt}
			continue
		}
		verdict, locked, err := s.guarded(ctx, key, func(context.Context) (Verdict, error) {
			if s.otp.matches(e.digits) {
				s.event(Event{Kind: EventOTP, Name: f.Name, Result: ResultVerified})
				return Verified, nil
			}
			s.event(Event{Kind: EventOTP, Name: f.Name, Result: ResultRejected})
			return Rejected, nil
		})
		if err != nil || locked {
			return false, err
		}
		if verdict == Verified {
			return true, nil
		}
	}
	return false, nil
}

// sendCode makes a new code, sends it, and tells the caller where it went: the
// OTPSent prompt, then the mobile's last two digits.
func (s *session) sendCode(ctx context.Context, c Customer, f Factor, ttl time.Duration, result Result) error {
	code, err := s.otp.newCode(cmp.Or(f.MaxDigits, 6), s.r.now().Add(ttl))
	if err != nil {
		return err
	}
	if err := s.crm(ctx, OpSendCode, func(ctx context.Context) (Result, error) {
		if err := s.dir.SendCode(ctx, c, code); err != nil {
			return "", err
		}
		return ResultSent, nil
	}); err != nil {
		return err
	}
	ending := digitsOf(c.Mobile)
	ending = ending[len(ending)-2:]
	s.event(Event{Kind: EventOTP, Name: f.Name, Result: result, Detail: "to the mobile ending " + ending})
	if err := s.play(ctx, s.line.Prompts.OTPSent, ""); err != nil {
		return err
	}
	_, err = s.call.SayDigits(ctx, ending, "")
	return err
}

// digitsOf keeps the digits of s.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
