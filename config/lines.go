package config

import (
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nyaruka/phonenumbers"

	"github.com/idv-project/idv/flow"
)

// line is a [lines.NAME] table.
type line struct {
	DNIS              []string      `toml:"dnis"`
	ANILookup         bool          `toml:"ani_lookup"`
	MinAttestation    string        `toml:"ani_min_attestation"`
	Region            string        `toml:"region"`
	Verify            bool          `toml:"verify"`
	IdentifyAttempts  int           `toml:"identify_attempts"`
	VerifyAttempts    int           `toml:"verify_attempts"`
	IDMinDigits       int           `toml:"id_min_digits"`
	IDMaxDigits       int           `toml:"id_max_digits"`
	SecretMinDigits   int           `toml:"secret_min_digits"`
	SecretMaxDigits   int           `toml:"secret_max_digits"`
	FirstDigitTimeout time.Duration `toml:"first_digit_timeout"`
	InterDigitTimeout time.Duration `toml:"inter_digit_timeout"`
	Terminator        string        `toml:"terminator"`
	OptOutKey         string        `toml:"opt_out_key"`
	CRMBudget         time.Duration `toml:"crm_budget"`
	Language          string        `toml:"language"`
	// Identifiers are the identifier kinds a caller may type, in order; IdentifyBy is
	// "try" (each kind whose lengths fit, in order) or "menu".
	Identifiers []string `toml:"identifiers"`
	IdentifyBy  string   `toml:"identify_by"`
	// Factors are the verification factors, in order; Risk adds more.
	Factors      []string      `toml:"factors"`
	Risk         risk          `toml:"risk"`
	OTPTTL       time.Duration `toml:"otp_ttl"`
	OTPMaxChecks int           `toml:"otp_max_checks"`
	OTPResendKey string        `toml:"otp_resend_key"`
	Prompts      prompts       `toml:"prompts"`
	Routes       routes        `toml:"routes"`
}

type prompts struct {
	Welcome     string `toml:"welcome"`
	EnterID     string `toml:"enter_id"`
	OptOutHint  string `toml:"opt_out_hint"`
	NoInput     string `toml:"no_input"`
	NotFound    string `toml:"not_found"`
	EnterSecret string `toml:"enter_secret"`
	SecretWrong string `toml:"secret_wrong"`
	Verified    string `toml:"verified"`
	Transfer    string `toml:"transfer"`
	TooMany     string `toml:"too_many_attempts"`
	Unavailable string `toml:"unavailable"`
	Locked      string `toml:"locked"`
	IDMenu      string `toml:"id_menu"`
	OTPSent     string `toml:"otp_sent"`
	CodeExpired string `toml:"code_expired"`
}

// routes are decoded by flow.Route's UnmarshalText.
type routes struct {
	Verified     flow.Route    `toml:"verified"`
	Identified   flow.Route    `toml:"identified"`
	Unidentified flow.Route    `toml:"unidentified"`
	VerifyFailed optionalRoute `toml:"verify_failed"`
	OptedOut     flow.Route    `toml:"opted_out"`
	Error        flow.Route    `toml:"error"`
}

// optionalRoute is a route that may be left unset or "": verify_failed then takes the
// unidentified route.
type optionalRoute struct {
	set   bool
	route flow.Route
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *optionalRoute) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*o = optionalRoute{}
		return nil
	}
	o.set = true
	return o.route.UnmarshalText(text)
}

// defaultRoute sends every outcome to the support queue, for at most five minutes.
var defaultRoute = flow.Route{Kind: flow.RouteQueue, QueueArgs: "support,,,,300"}

// builtinLine is every line's starting point, before [lines.default] and its own table.
var builtinLine = line{
	ANILookup: true, Region: "JP", IdentifyAttempts: 3, VerifyAttempts: 3,
	IDMinDigits: 2, IDMaxDigits: 12, SecretMinDigits: 4, SecretMaxDigits: 8,
	FirstDigitTimeout: 6 * time.Second, InterDigitTimeout: 3 * time.Second,
	Terminator: "#", OptOutKey: "*", CRMBudget: 8 * time.Second,
	Identifiers: []string{flow.KindCustomerID}, IdentifyBy: "try", Factors: []string{flow.FactorPIN},
	OTPTTL: flow.DefaultOTPTTL, OTPMaxChecks: flow.DefaultOTPMaxChecks, OTPResendKey: "*",
	Prompts: prompts{
		Welcome: "idv/welcome", EnterID: "idv/enter-id", OptOutHint: "idv/opt-out-hint",
		NoInput: "idv/no-input", NotFound: "idv/not-found", EnterSecret: "idv/enter-secret",
		SecretWrong: "idv/secret-wrong", Verified: "idv/verified", Transfer: "idv/transfer",
		TooMany: "idv/too-many-attempts", Unavailable: "idv/service-unavailable", Locked: "idv/locked",
		IDMenu: "idv/id-menu", OTPSent: "idv/otp-sent", CodeExpired: "idv/code-expired",
	},
	Routes: routes{Verified: defaultRoute, Identified: defaultRoute, Unidentified: defaultRoute,
		OptedOut: defaultRoute, Error: defaultRoute},
}

// decodeLines layers the [lines.*] tables: built-in defaults, then [lines.default], then
// each line's own table.
func decodeLines(name string, md toml.MetaData, tables map[string]toml.Primitive) (map[string]line, error) {
	base := builtinLine.copied()
	if p, ok := tables[flow.DefaultLine]; ok {
		if err := md.PrimitiveDecode(p, &base); err != nil {
			return nil, lineError(name, "lines."+flow.DefaultLine, err)
		}
	}
	raw := map[string]line{flow.DefaultLine: base}
	for n, p := range tables {
		if n == flow.DefaultLine {
			continue
		}
		l := base.copied()
		l.DNIS = nil
		if err := md.PrimitiveDecode(p, &l); err != nil {
			return nil, lineError(name, "lines."+n, err)
		}
		raw[n] = l
	}
	return raw, nil
}

// copied is l with lists of its own. A table decoded into a line whose lists it shares
// with another writes its items into the other's when the lengths match: one line's
// factors = ["last4"] became every line's.
func (l line) copied() line {
	ownSlices(reflect.ValueOf(&l).Elem())
	return l
}

// ownSlices gives every slice under the struct v a backing array of its own.
func ownSlices(v reflect.Value) {
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.Slice:
			if !f.IsNil() && f.CanSet() {
				own := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
				reflect.Copy(own, f)
				f.Set(own)
			}
		case reflect.Struct:
			ownSlices(f)
		}
	}
}

// lineError names the key of a value that did not decode, such as a bad route.
func lineError(file, table string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.LastKey != "" {
		return &Error{File: file, Key: pe.LastKey, Reason: pe.Message}
	}
	if e := typeError(file, err); e != nil {
		return e
	}
	return &Error{File: file, Key: table, Reason: err.Error()}
}

// buildLines checks every line and turns it into the flow's rules.
func (c *Config) buildLines(raw map[string]line) error {
	c.Lines = flow.Lines{ByName: map[string]*flow.Line{}, DNIS: map[string]string{}}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l, err := c.buildLine(n, raw[n])
		if err != nil {
			return err
		}
		c.Lines.ByName[n] = l
		for _, d := range raw[n].DNIS {
			if prev, dup := c.Lines.DNIS[d]; dup {
				return c.fail("lines."+n+".dnis", "%q is already the DNIS of line %q", d, prev)
			}
			c.Lines.DNIS[d] = n
		}
	}
	return nil
}

func (c *Config) buildLine(name string, l line) (*flow.Line, error) {
	key := func(k string) string { return "lines." + name + "." + k }
	if !validName(name) {
		return nil, c.fail("lines."+name, "line names are letters, digits, '-' and '_'")
	}
	for k, v := range map[string][3]int{"identify_attempts": {l.IdentifyAttempts, 1, 10}, "verify_attempts": {l.VerifyAttempts, 1, 10},
		"id_min_digits": {l.IDMinDigits, 1, 32}, "id_max_digits": {l.IDMaxDigits, 1, 32},
		"secret_min_digits": {l.SecretMinDigits, 1, 32}, "secret_max_digits": {l.SecretMaxDigits, 1, 32}} {
		if v[0] < v[1] || v[0] > v[2] {
			return nil, c.fail(key(k), "%d is outside %d..%d", v[0], v[1], v[2])
		}
	}
	if l.IDMinDigits > l.IDMaxDigits {
		return nil, c.fail(key("id_min_digits"), "%d is more than id_max_digits %d", l.IDMinDigits, l.IDMaxDigits)
	}
	if l.SecretMinDigits > l.SecretMaxDigits {
		return nil, c.fail(key("secret_min_digits"), "%d is more than secret_max_digits %d", l.SecretMinDigits, l.SecretMaxDigits)
	}
	for k, d := range map[string]time.Duration{"first_digit_timeout": l.FirstDigitTimeout, "inter_digit_timeout": l.InterDigitTimeout} {
		if d < 100*time.Millisecond || d > time.Minute {
			return nil, c.fail(key(k), "%s is outside 100ms..1m", d)
		}
	}
	if l.CRMBudget <= 0 || l.CRMBudget > 5*time.Minute {
		return nil, c.fail(key("crm_budget"), "%s is outside 0..5m", l.CRMBudget)
	}
	if l.Terminator != "#" && l.Terminator != "*" {
		return nil, c.fail(key("terminator"), "%q must be \"#\" or \"*\"", l.Terminator)
	}
	if l.OptOutKey != "" && l.OptOutKey != "#" && l.OptOutKey != "*" {
		return nil, c.fail(key("opt_out_key"), "%q must be \"*\", \"#\" or \"\" (no opting out)", l.OptOutKey)
	}
	if l.OptOutKey == l.Terminator {
		return nil, c.fail(key("opt_out_key"), "is the same key as the terminator")
	}
	if !slices.Contains([]string{"", "A", "B", "C"}, l.MinAttestation) {
		return nil, c.fail(key("ani_min_attestation"), "%q is not \"\", \"A\", \"B\" or \"C\"", l.MinAttestation)
	}
	region := strings.ToUpper(l.Region)
	if !phonenumbers.GetSupportedRegions()[region] {
		return nil, c.fail(key("region"), "%q is not a region code such as \"JP\" or \"GB\"", l.Region)
	}
	p := l.Prompts
	out := &flow.Line{
		Name: name, ANILookup: l.ANILookup, MinAttestation: l.MinAttestation, Region: region, Verify: l.Verify,
		IdentifyAttempts: l.IdentifyAttempts, VerifyAttempts: l.VerifyAttempts,
		IDMinDigits: l.IDMinDigits, IDMaxDigits: l.IDMaxDigits,
		SecretMinDigits: l.SecretMinDigits, SecretMaxDigits: l.SecretMaxDigits,
		FirstDigitTimeout: l.FirstDigitTimeout, InterDigitTimeout: l.InterDigitTimeout,
		Terminator: rune(l.Terminator[0]), CRMBudget: l.CRMBudget, RecordIdentifier: c.Privacy.RecordIdentifier,
		Prompts: flow.Prompts(p),
	}
	if l.OptOutKey != "" {
		out.OptOutKey = rune(l.OptOutKey[0])
	}
	if l.Language != "" && !slices.Contains(c.Sounds.Languages, l.Language) {
		return nil, c.fail(key("language"), "%q is not in sounds.languages %q", l.Language, c.Sounds.Languages)
	}
	out.Language, out.Languages = l.Language, c.Sounds.Languages
	for k, v := range out.Prompts.Names() {
		if v != "" && !validPrompt(v) {
			return nil, c.fail(key("prompts."+k), "%q is not a sound file name (letters, digits, / - _ .)", v)
		}
	}
	if out.Prompts.EnterID == "" || out.Prompts.EnterSecret == "" {
		return nil, c.fail(key("prompts.enter_id"), "enter_id and enter_secret must name a prompt: the caller must be asked")
	}
	if l.IdentifyBy != "try" && l.IdentifyBy != "menu" {
		return nil, c.fail(key("identify_by"), "%q is not \"try\" or \"menu\"", l.IdentifyBy)
	}
	var err error
	if out.IDKinds, err = c.lineKinds(name, l); err != nil {
		return nil, err
	}
	out.IDMenu = l.IdentifyBy == "menu"
	if len(l.Factors) == 0 {
		return nil, c.fail(key("factors"), "list at least one factor, e.g. [\"pin\"]")
	}
	if out.Factors, err = c.lineFactors(key("factors"), l, l.Factors); err != nil {
		return nil, err
	}
	if err := c.lineRisk(name, l, out); err != nil {
		return nil, err
	}
	r := l.Routes
	out.Routes = flow.Routes{Verified: r.Verified, Identified: r.Identified, Unidentified: r.Unidentified,
		VerifyFailed: r.Unidentified, OptedOut: r.OptedOut, Error: r.Error}
	if r.VerifyFailed.set {
		out.Routes.VerifyFailed = r.VerifyFailed.route
	}
	return out, nil
}

// Character sets of the names a configuration holds.
const (
	letters      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits       = "0123456789"
	nameChars    = letters + digits + "-_"
	languageChar = letters + "-_"
	promptChars  = letters + digits + "/-_."
)

// only says whether s is 1 to max characters, each one of chars.
func only(s, chars string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune(chars, c) {
			return false
		}
	}
	return true
}

func validName(s string) bool     { return only(s, nameChars, 64) }
func validLanguage(s string) bool { return only(s, languageChar, 16) }

// validPrompt also refuses ".." and a bare "/": a prompt stays under the sounds
// directory.
func validPrompt(s string) bool {
	return only(s, promptChars, 200) && !strings.Contains(s, "..") && s != "/"
}
