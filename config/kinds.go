package config

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/idv-project/idv/crm"
	"github.com/idv-project/idv/flow"
)

// IDKind is an [identifiers.NAME] table: a kind of identifier lines may accept
// (lines.NAME.identifiers). Its CRM endpoint is [crm.identifiers.NAME].
type IDKind struct {
	Prompt     string `toml:"prompt"`
	MenuPrompt string `toml:"menu_prompt"`
	MinDigits  int    `toml:"min_digits"`
	MaxDigits  int    `toml:"max_digits"`
	// Normalise is "" (the digits as typed) or "phone": E.164 in the line's region,
	// looked up through crm.by_phone.
	Normalise string `toml:"normalise"`
}

// Factor is a [factors.NAME] table: a verification factor lines may ask
// (lines.NAME.factors). Its CRM endpoint is [crm.factors.NAME]; otp's is [crm.otp].
type Factor struct {
	Prompt      string `toml:"prompt"`
	WrongPrompt string `toml:"wrong_prompt"`
	MinDigits   int    `toml:"min_digits"`
	MaxDigits   int    `toml:"max_digits"`
	// Validate is "" (digits) or "date": YYYYMMDD, a real date, else asked again with
	// no CRM call.
	Validate string `toml:"validate"`
}

// risk is a [lines.NAME.risk] table (flow.Risk).
type risk struct {
	Factors        []string `toml:"factors"`
	Withheld       bool     `toml:"withheld"`
	Typed          bool     `toml:"typed"`
	MinAttestation string   `toml:"min_attestation"`
}

// builtinKinds are the identifier kinds every configuration has. customer_id takes its
// prompt and lengths from its line (prompts.enter_id, id_min_digits, id_max_digits).
func builtinKinds() map[string]IDKind {
	return map[string]IDKind{
		flow.KindCustomerID: {MenuPrompt: "idv/menu-customer-id"},
		"account":           {Prompt: "idv/enter-account", MenuPrompt: "idv/menu-account", MinDigits: 6, MaxDigits: 12},
		flow.KindPhone:      {Prompt: "idv/enter-phone", MenuPrompt: "idv/menu-phone", MinDigits: 9, MaxDigits: 15, Normalise: "phone"},
	}
}

// builtinFactors are the factors every configuration has. pin takes its prompts and
// lengths from its line (prompts.enter_secret, prompts.secret_wrong, secret_*_digits).
func builtinFactors() map[string]Factor {
	return map[string]Factor{
		flow.FactorPIN: {},
		"dob":          {Prompt: "idv/enter-dob", WrongPrompt: "idv/dob-wrong", MinDigits: 8, MaxDigits: 8, Validate: "date"},
		"postcode":     {Prompt: "idv/enter-postcode", WrongPrompt: "idv/postcode-wrong", MinDigits: 3, MaxDigits: 10},
		"last4":        {Prompt: "idv/enter-last4", WrongPrompt: "idv/last4-wrong", MinDigits: 4, MaxDigits: 4},
		flow.FactorOTP: {Prompt: "idv/enter-code", WrongPrompt: "idv/code-wrong", MinDigits: 6, MaxDigits: 6},
	}
}

// checkKinds checks the [identifiers.*] and [factors.*] tables, layered over the
// built-in ones.
func (c *Config) checkKinds() error {
	for _, n := range slices.Sorted(maps.Keys(c.Identifiers)) {
		k, key := c.Identifiers[n], "identifiers."+n
		if !validKindName(n) {
			return c.fail(key, "identifier kind names are lower-case letters, digits and _")
		}
		if n != flow.KindCustomerID {
			if k.MinDigits < 1 || k.MaxDigits > 32 || k.MinDigits > k.MaxDigits {
				return c.fail(key+".min_digits", "%d..%d: want 1 <= min_digits <= max_digits <= 32", k.MinDigits, k.MaxDigits)
			}
			if !validPrompt(k.Prompt) {
				return c.fail(key+".prompt", "%q is not a sound file name", k.Prompt)
			}
		}
		if k.MenuPrompt != "" && !validPrompt(k.MenuPrompt) {
			return c.fail(key+".menu_prompt", "%q is not a sound file name", k.MenuPrompt)
		}
		if k.Normalise != "" && k.Normalise != "phone" {
			return c.fail(key+".normalise", "%q is not \"\" or \"phone\"", k.Normalise)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(c.Factors)) {
		f, key := c.Factors[n], "factors."+n
		if !validKindName(n) {
			return c.fail(key, "factor names are lower-case letters, digits and _")
		}
		if n == flow.FactorPIN {
			continue
		}
		if f.MinDigits < 1 || f.MaxDigits > 32 || f.MinDigits > f.MaxDigits {
			return c.fail(key+".min_digits", "%d..%d: want 1 <= min_digits <= max_digits <= 32", f.MinDigits, f.MaxDigits)
		}
		if !validPrompt(f.Prompt) || !validPrompt(f.WrongPrompt) {
			return c.fail(key+".prompt", "prompt and wrong_prompt must name sound files")
		}
		if f.Validate != "" && f.Validate != "date" {
			return c.fail(key+".validate", "%q is not \"\" or \"date\"", f.Validate)
		}
		if f.Validate == "date" && (f.MinDigits != 8 || f.MaxDigits != 8) {
			return c.fail(key+".validate", "a date is typed as YYYYMMDD: min_digits and max_digits must be 8")
		}
	}
	return nil
}

// fillZero is t with its zero fields taken from b.
func fillZero[T any](t, b T) T {
	tv, bv := reflect.ValueOf(&t).Elem(), reflect.ValueOf(b)
	for i := range tv.NumField() {
		if tv.Field(i).IsZero() {
			tv.Field(i).Set(bv.Field(i))
		}
	}
	return t
}

func validKindName(s string) bool { return only(s, "abcdefghijklmnopqrstuvwxyz0123456789_", 32) }

// lineKinds builds a line's identifier kinds from their names.
func (c *Config) lineKinds(name string, l line) ([]flow.IDKind, error) {
	key := "lines." + name + ".identifiers"
	if len(l.Identifiers) == 0 {
		return nil, c.fail(key, "list at least one identifier kind, e.g. [\"customer_id\"]")
	}
	var out []flow.IDKind
	for _, n := range l.Identifiers {
		k, ok := c.Identifiers[n]
		if !ok {
			return nil, c.fail(key, "%q is not an identifier kind (built in: customer_id, account, phone; or add [identifiers.%s])", n, n)
		}
		if slices.ContainsFunc(out, func(o flow.IDKind) bool { return o.Name == n }) {
			return nil, c.fail(key, "%q is listed twice", n)
		}
		fk := flow.IDKind{Name: n, Prompt: k.Prompt, MenuPrompt: k.MenuPrompt, MinDigits: k.MinDigits, MaxDigits: k.MaxDigits,
			Phone: k.Normalise == "phone"}
		if n == flow.KindCustomerID {
			fk.Prompt, fk.MinDigits, fk.MaxDigits = l.Prompts.EnterID, l.IDMinDigits, l.IDMaxDigits
		}
		out = append(out, fk)
	}
	if l.IdentifyBy == "menu" && len(out) > 1 {
		if len(out) > 9 {
			return nil, c.fail(key, "a menu offers at most 9 kinds (keys 1 to 9)")
		}
		for _, k := range out {
			if k.MenuPrompt == "" {
				return nil, c.fail("identifiers."+k.Name+".menu_prompt", "line %q chooses by menu: the kind needs a menu prompt", name)
			}
		}
	}
	return out, nil
}

// lineFactors builds factors from their names (key names the list in errors).
func (c *Config) lineFactors(key string, l line, names []string) ([]flow.Factor, error) {
	var out []flow.Factor
	for _, n := range names {
		f, ok := c.Factors[n]
		if !ok {
			return nil, c.fail(key, "%q is not a factor (built in: pin, dob, postcode, last4, otp; or add [factors.%s])", n, n)
		}
		if slices.ContainsFunc(out, func(o flow.Factor) bool { return o.Name == n }) {
			return nil, c.fail(key, "%q is listed twice", n)
		}
		ff := flow.Factor{Name: n, Prompt: f.Prompt, WrongPrompt: f.WrongPrompt, MinDigits: f.MinDigits, MaxDigits: f.MaxDigits,
			Date: f.Validate == "date", OTP: n == flow.FactorOTP}
		if n == flow.FactorPIN {
			ff.Prompt, ff.WrongPrompt, ff.MinDigits, ff.MaxDigits = l.Prompts.EnterSecret, l.Prompts.SecretWrong, l.SecretMinDigits, l.SecretMaxDigits
		}
		out = append(out, ff)
	}
	return out, nil
}

// lineRisk builds a line's risk rule and one-time code policy.
func (c *Config) lineRisk(name string, l line, out *flow.Line) error {
	key := func(k string) string { return "lines." + name + "." + k }
	var err error
	if out.Risk.Factors, err = c.lineFactors(key("risk.factors"), l, l.Risk.Factors); err != nil {
		return err
	}
	r := l.Risk
	if !slices.Contains([]string{"", "A", "B", "C"}, r.MinAttestation) {
		return c.fail(key("risk.min_attestation"), "%q is not \"\", \"A\", \"B\" or \"C\"", r.MinAttestation)
	}
	if len(r.Factors) > 0 && !r.Withheld && !r.Typed && r.MinAttestation == "" {
		return c.fail(key("risk"), "risk.factors are never asked: set withheld, typed or min_attestation")
	}
	out.Risk.Withheld, out.Risk.Typed, out.Risk.MinAttestation = r.Withheld, r.Typed, r.MinAttestation
	if l.OTPTTL < time.Minute || l.OTPTTL > time.Hour {
		return c.fail(key("otp_ttl"), "%s is outside 1m..1h", l.OTPTTL)
	}
	if l.OTPMaxChecks < 1 || l.OTPMaxChecks > 10 {
		return c.fail(key("otp_max_checks"), "%d is outside 1..10", l.OTPMaxChecks)
	}
	out.OTP = flow.OTPPolicy{TTL: l.OTPTTL, MaxChecks: l.OTPMaxChecks}
	switch l.OTPResendKey {
	case "":
	case "*", "#":
		if l.OTPResendKey == l.Terminator {
			return c.fail(key("otp_resend_key"), "is the same key as the terminator")
		}
		out.OTP.ResendKey = rune(l.OTPResendKey[0])
	default:
		return c.fail(key("otp_resend_key"), "%q must be \"*\", \"#\" or \"\" (no resend)", l.OTPResendKey)
	}
	return nil
}

// crmKinds fills in the CRM endpoints of the identifier kinds and factors the lines use
// and the configuration leaves out, from the reference API under crm.base_url.
func (c *Config) crmKinds() {
	base := strings.TrimRight(c.CRM.BaseURL, "/")
	if c.CRM.Identifiers == nil {
		c.CRM.Identifiers = map[string]Endpoint{}
	}
	if c.CRM.Factors == nil {
		c.CRM.Factors = map[string]Endpoint{}
	}
	for _, l := range c.Lines.ByName {
		for _, k := range l.IDKinds {
			if _, ok := c.CRM.Identifiers[k.Name]; !ok && k.Name != flow.KindCustomerID && !k.Phone {
				c.CRM.Identifiers[k.Name] = Endpoint(crm.ReferenceIdentifier(base, k.Name))
			}
		}
		for _, f := range append(slices.Clone(l.Factors), l.Risk.Factors...) {
			if _, ok := c.CRM.Factors[f.Name]; !ok && f.Name != flow.FactorPIN && !f.OTP {
				c.CRM.Factors[f.Name] = Endpoint(crm.ReferenceFactor(base, f.Name))
			}
		}
	}
	if c.CRM.OTP.URL == "" {
		c.CRM.OTP = Endpoint(crm.ReferenceOTP(base))
	}
}
