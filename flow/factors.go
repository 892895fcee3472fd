package flow

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// IDKind is a kind of identifier a caller may type: the customer number, an account
// number, a tracking number, another phone number… IDV_ID_TYPE is its name upper-cased.
type IDKind struct {
	Name string
	// Prompt asks for it; MenuPrompt names it in the menu, before its key is said
	// ("For your account number, press" … "2").
	Prompt, MenuPrompt   string
	MinDigits, MaxDigits int
	// Phone is a phone number: normalised to E.164 with the line's region and looked up
	// as the calling number is (Directory.FindByPhone).
	Phone bool
}

// Built-in identifier kinds, and the id type of a caller found by the calling number.
const (
	KindCustomerID = "customer_id"
	KindPhone      = "phone"
	KindANI        = "ani"
)

// Factor is one verification factor: something the caller types that the CRM (or, for a
// one-time code, idv) checks.
type Factor struct {
	// Name is the factor's name: pin, dob, postcode, last4, otp, … IDV_FACTORS lists the
	// passed ones upper-cased.
	Name string
	// Prompt asks for it; WrongPrompt says it was wrong (or not a date) and asks again.
	Prompt, WrongPrompt  string
	MinDigits, MaxDigits int
	// Date is a date typed as YYYYMMDD: anything that is not a real date is refused and
	// asked again without a CRM call.
	Date bool
	// OTP is a one-time code idv makes, sends to the customer's registered mobile and
	// checks itself (Line.OTP).
	OTP bool
}

// Built-in factor names.
const (
	FactorPIN = "pin"
	FactorOTP = "otp"
)

// Risk adds factors to verification when the caller is less trustworthy: any of the
// conditions set makes the line ask Factors as well, verification required or not.
type Risk struct {
	Factors []Factor
	// Withheld: the calling number was withheld.
	Withheld bool
	// Typed: the caller was identified by a typed identifier, not the calling number.
	Typed bool
	// MinAttestation ("A", "B" or "C"): the calling number's STIR/SHAKEN attestation is
	// weaker than this, or missing or unverified.
	MinAttestation string
}

// Risk conditions, as the record's Risk lists them.
const (
	RiskWithheld   = "withheld"
	RiskTyped      = "typed"
	RiskUnattested = "unattested"
)

// OTPPolicy is how one-time codes work: Twilio Verify's rules by default.
type OTPPolicy struct {
	// TTL is how long a code is good for (default 10 minutes).
	TTL time.Duration
	// MaxChecks is how many times a code may be checked, resends included (default 5).
	MaxChecks int
	// ResendKey asks for a new code, once per call; 0 offers no resend.
	ResendKey rune
}

// Default one-time code policy.
const (
	DefaultOTPTTL       = 10 * time.Minute
	DefaultOTPMaxChecks = 5
)

// idKinds are the line's identifier kinds; a line built without any takes the customer
// number alone, asked with Prompts.EnterID in IDMinDigits..IDMaxDigits digits.
func (l *Line) idKinds() []IDKind {
	if len(l.IDKinds) > 0 {
		return l.IDKinds
	}
	return []IDKind{{Name: KindCustomerID, Prompt: l.Prompts.EnterID, MinDigits: l.IDMinDigits, MaxDigits: l.IDMaxDigits}}
}

// factors are the line's factors; a line built without any asks the PIN alone, with
// Prompts.EnterSecret in SecretMinDigits..SecretMaxDigits digits.
func (l *Line) factors() []Factor {
	if len(l.Factors) > 0 {
		return l.Factors
	}
	return []Factor{{Name: FactorPIN, Prompt: l.Prompts.EnterSecret, WrongPrompt: l.Prompts.SecretWrong,
		MinDigits: l.SecretMinDigits, MaxDigits: l.SecretMaxDigits}}
}

// withRisk is factors with the risk factors not already in it appended.
func withRisk(factors, risk []Factor) []Factor {
	out := slices.Clone(factors)
	for _, r := range risk {
		if !slices.ContainsFunc(out, func(f Factor) bool { return f.Name == r.Name }) {
			out = append(out, r)
		}
	}
	return out
}

// IDType is the IDV_ID_TYPE value of a kind: ANI, CUSTOMER_ID, ACCOUNT, PHONE, ….
func IDType(kind string) string { return strings.ToUpper(kind) }

// validDate says whether YYYYMMDD digits are a real date between 1900 and 2100.
func validDate(digits string) bool {
	if len(digits) != 8 {
		return false
	}
	t, err := time.Parse("20060102", digits)
	return err == nil && t.Year() >= 1900 && t.Year() <= 2100
}

// opFind is the CRM operation that looks a kind up (an event's Name, a metric label).
func opFind(k IDKind) string {
	switch {
	case k.Phone:
		return OpByPhone
	case k.Name == KindCustomerID:
		return OpByID
	}
	return "by_" + k.Name
}

// opCheck is the CRM operation that checks a factor.
func opCheck(f Factor) string {
	if f.Name == FactorPIN {
		return OpVerify
	}
	return OpVerify + "_" + f.Name
}

// guardKey is what the Guard counts a factor's failures under: the customer for the PIN
// (as before there were other factors), the customer and the factor for the others, so
// that lockout applies per factor.
func guardKey(customerID string, f Factor) string {
	if f.Name == FactorPIN {
		return customerID
	}
	return customerID + "/" + f.Name
}

// PromptsInUse are the prompts the line's calls may play, by the configuration key that
// names each ("prompts.welcome", "identifiers.account.prompt", "factors.dob.prompt", …):
// those of its prompts it uses, and those of its identifier kinds and factors.
func (l *Line) PromptsInUse() map[string]string {
	kinds, factors := l.idKinds(), withRisk(l.factors(), l.Risk.Factors)
	menu := l.IDMenu && len(kinds) > 1
	otp := slices.ContainsFunc(factors, func(f Factor) bool { return f.OTP })
	out, files := map[string]string{}, map[string]bool{}
	add := func(key, file string) {
		if file != "" && !files[file] { // the customer number's and the PIN's are prompts.*
			out[key], files[file] = file, true
		}
	}
	names := l.Prompts.Names()
	for _, k := range slices.Sorted(maps.Keys(names)) {
		if k == "id_menu" && !menu || (k == "otp_sent" || k == "code_expired") && !otp {
			continue
		}
		add("prompts."+k, names[k])
	}
	for _, k := range kinds {
		add("identifiers."+k.Name+".prompt", k.Prompt)
		if menu {
			add("identifiers."+k.Name+".menu_prompt", k.MenuPrompt)
		}
	}
	for _, f := range factors {
		add("factors."+f.Name+".prompt", f.Prompt)
		add("factors."+f.Name+".wrong_prompt", f.WrongPrompt)
	}
	return out
}
