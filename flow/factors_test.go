package flow

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Identifier kinds, factors, one-time codes and the risk rule, over the same scripted
// calls as TestPaths.

var (
	kindCustomer = IDKind{Name: KindCustomerID, Prompt: "enter-id", MenuPrompt: "menu-customer-id", MinDigits: 6, MaxDigits: 8}
	kindAccount  = IDKind{Name: "account", Prompt: "enter-account", MenuPrompt: "menu-account", MinDigits: 8, MaxDigits: 8}
	kindPhone    = IDKind{Name: KindPhone, Prompt: "enter-phone", MenuPrompt: "menu-phone", MinDigits: 9, MaxDigits: 15, Phone: true}
	factorPIN    = Factor{Name: FactorPIN, Prompt: "enter-secret", WrongPrompt: "secret-wrong", MinDigits: 4, MaxDigits: 6}
	factorDOB    = Factor{Name: "dob", Prompt: "enter-dob", WrongPrompt: "dob-wrong", MinDigits: 8, MaxDigits: 8, Date: true}
	factorOTP    = Factor{Name: FactorOTP, Prompt: "enter-code", WrongPrompt: "code-wrong", MinDigits: 6, MaxDigits: 6, OTP: true}
)

// kinds gives a line identifier kinds (by menu or not) and the prompts they use.
func kinds(menu bool, ks ...IDKind) func(*Line) {
	return func(l *Line) {
		l.ANILookup, l.IDKinds, l.IDMenu = false, ks, menu
		l.Prompts.IDMenu = "id-menu"
	}
}

// factors gives a line factors, asked of everyone.
func factors(fs ...Factor) func(*Line) {
	return func(l *Line) {
		l.Verify, l.Factors = true, fs
		l.Prompts.OTPSent, l.Prompts.CodeExpired = "otp-sent", "code-expired"
		l.OTP.ResendKey = '*'
	}
}

func both(fs ...func(*Line)) func(*Line) {
	return func(l *Line) {
		for _, f := range fs {
			f(l)
		}
	}
}

// withAccounts gives the CRM an account number, a date of birth and a mobile for
// customer 100234 (Hanako Yamada, the calling number 0312345678).
func withAccounts(d *cannedCRM) {
	hanako := d.ids["100234"]
	hanako.Mobile = "+819011112278"
	d.ids["100234"], d.phones["+81312345678"] = hanako, []Customer{hanako}
	d.accounts = map[string]Customer{"55501234": hanako}
	d.factors = map[string]string{"dob": "19850412"}
}

// menuPrompts is what the identifier menu of kinds says.
func menuPrompts(ks ...IDKind) []string {
	out := []string{"id-menu"}
	for i, k := range ks {
		out = append(out, k.MenuPrompt, "digits:"+string(rune('1'+i)))
	}
	return out
}

func join(parts ...[]string) []string { return slices.Concat(parts...) }

func TestKindsAndFactors(t *testing.T) {
	ck, ak, pk := kindCustomer, kindAccount, kindPhone
	hanako := func(r pathRow) pathRow {
		r.custID, r.custName = "100234", "Hanako Yamada"
		r.crm = withAccounts
		return r
	}
	rows := []pathRow{
		// Identifier kinds: tried in order where the length fits, or chosen from a menu.
		hanako(pathRow{
			name: "try: digits that fit two kinds are looked up under each in order until one matches",
			line: kinds(false, ck, ak), ani: "anonymous", answers: []string{"55501234#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, idType: "ACCOUNT", attempts: "1/0",
			route: "queue:support", sent: "queue support", qstatus: "TIMEOUT", records: 2,
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "transfer"},
			crmOps:  []string{"by_id:not_found", "by_account:found"},
		}),
		{
			name: "try: a kind whose lengths do not fit the digits is not asked",
			line: kinds(false, ak, ck), ani: "anonymous", answers: []string{"100235#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, custID: "100235", custName: "Ichiro Tanaka",
			attempts: "1/0", route: "queue:support", sent: "queue support", qstatus: "TIMEOUT", records: 2,
			prompts: []string{"welcome", "enter-account", "opt-out-hint", "transfer"}, crmOps: []string{"by_id:found"},
		},
		hanako(pathRow{
			name: "menu: 2 for the account number, then the account number",
			line: kinds(true, ck, ak, pk), ani: "anonymous", answers: []string{"2", "55501234#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, idType: "ACCOUNT", attempts: "1/0",
			route: "queue:support", sent: "queue support", qstatus: "TIMEOUT", records: 2,
			prompts: join([]string{"welcome"}, menuPrompts(ck, ak, pk), []string{"enter-account", "opt-out-hint", "transfer"}),
			crmOps:  []string{"by_account:found"},
			check:   func(t *testing.T, r *pathRun) { r.wantEvent(t, EventDigits, EntryMenu, "terminator") },
		}),
		hanako(pathRow{
			name: "menu: a key the menu does not offer uses a try; then the phone number, normalised in the line's region",
			line: kinds(true, ck, ak, pk), ani: "anonymous", answers: []string{"7", "3", "0312345678#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, idType: "PHONE", attempts: "2/0",
			route: "queue:support", sent: "queue support", qstatus: "TIMEOUT", records: 2,
			prompts: join([]string{"welcome"}, menuPrompts(ck, ak, pk), []string{"no-input"}, menuPrompts(ck, ak, pk),
				[]string{"enter-phone", "opt-out-hint", "transfer"}),
			crmOps: []string{"by_phone:found"},
			check:  func(t *testing.T, r *pathRun) { r.wantEvent(t, EventDigits, EntryMenu, string(ResultBadChoice)) },
		}),
		{
			name: "menu: the opt-out key opts out",
			line: kinds(true, ck, ak), ani: "anonymous", answers: []string{"*"},
			status: StatusUnidentified, reason: ReasonOptedOut, method: MethodNone, attempts: "1/0",
			route: "queue:general", sent: "queue general", qstatus: "TIMEOUT", records: 2,
			prompts: join([]string{"welcome"}, menuPrompts(ck, ak), []string{"transfer"}),
		},
		{
			name: "menu: a phone number that is no number in the region asks no CRM and uses a try",
			line: kinds(true, ck, pk), ani: "anonymous", answers: []string{"2", "123456789#", "", ""},
			status: StatusUnidentified, reason: ReasonNotFound, method: MethodNone, attempts: "3/0",
			route: "queue:support", sent: "queue support", qstatus: "TIMEOUT", records: 2,
			prompts: join([]string{"welcome"}, menuPrompts(ck, pk), []string{"enter-phone", "opt-out-hint", "not-found"},
				menuPrompts(ck, pk), []string{"no-input"}, menuPrompts(ck, pk), []string{"too-many"}),
			crmOps: []string{"by_phone:not_found"},
		},

		// Factors: all must pass, in order, tries counted per factor.
		hanako(pathRow{
			name: "date of birth and PIN, both right: VERIFIED with DOB,PIN",
			line: factors(factorDOB, factorPIN), ani: "0312345678", answers: []string{"19850412", rightSecret + "#"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, factors: "DOB,PIN", attempts: "0/2",
			route: "goto:selfservice,s,1", sent: "goto selfservice,s,1", records: 1,
			prompts: []string{"welcome", "enter-dob", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify_dob:verified", "verify:verified"},
		}),
		hanako(pathRow{
			name: "a date of birth closed with # out of habit: that # is let go and the prompt it cut played again, no try lost",
			line: factors(factorDOB, factorPIN), ani: "0312345678", answers: []string{"19850412", "^#" + rightSecret + "#"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, factors: "DOB,PIN", attempts: "0/2",
			route: "goto:selfservice,s,1", sent: "goto selfservice,s,1", records: 1,
			prompts: []string{"welcome", "enter-dob", "enter-secret", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify_dob:verified", "verify:verified"},
			check:   func(t *testing.T, r *pathRun) { r.noDigits(t, string(ResultNoInput)) },
		}),
		hanako(pathRow{
			name: "menu: 2 closed with # out of habit, then the account number",
			line: kinds(true, ck, ak, pk), ani: "anonymous", answers: []string{"2", "^#55501234#"},
			status: StatusIdentified, reason: ReasonNotRequired, method: MethodDTMF, idType: "ACCOUNT", attempts: "1/0",
			route: "queue:support", sent: "queue support", qstatus: "TIMEOUT", records: 2,
			prompts: join([]string{"welcome"}, menuPrompts(ck, ak, pk), []string{"enter-account", "enter-account", "transfer"}),
			crmOps:  []string{"by_account:found"},
		}),
		hanako(pathRow{
			name: "only one # is let go: a second one is an empty entry",
			line: factors(factorDOB, factorPIN), ani: "0312345678", answers: []string{"19850412", "^##", rightSecret + "#"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, factors: "DOB,PIN", attempts: "0/3",
			route: "goto:selfservice,s,1", sent: "goto selfservice,s,1", records: 1,
			prompts: []string{"welcome", "enter-dob", "enter-secret", "enter-secret", "no-input", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify_dob:verified", "verify:verified"},
		}),
		hanako(pathRow{
			name: "a date of birth that is no date is asked again without asking the CRM",
			line: factors(factorDOB, factorPIN), ani: "0312345678", answers: []string{"20231345", "19850412", rightSecret + "#"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, factors: "DOB,PIN", attempts: "0/3",
			route: "goto:selfservice,s,1", sent: "goto selfservice,s,1", records: 1,
			prompts: []string{"welcome", "enter-dob", "dob-wrong", "enter-dob", "enter-secret", "verified"},
			crmOps:  []string{"by_phone:found", "verify_dob:verified", "verify:verified"},
			check:   func(t *testing.T, r *pathRun) { r.wantEvent(t, EventDigits, EntrySecret, string(ResultBadDate)) },
		}),
		hanako(pathRow{
			name: "a wrong date of birth three times: VERIFY_FAILED, the PIN never asked",
			line: factors(factorDOB, factorPIN), ani: "0312345678", answers: []string{"19990101", "19990101", "19990101"},
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodANI, attempts: "0/3",
			route: "queue:security", sent: "queue security", qstatus: "TIMEOUT", records: 2,
			prompts: []string{"welcome", "enter-dob", "dob-wrong", "enter-dob", "dob-wrong", "enter-dob", "too-many"},
			crmOps:  []string{"by_phone:found", "verify_dob:rejected", "verify_dob:rejected", "verify_dob:rejected"},
			check: func(t *testing.T, r *pathRun) {
				// The reports' "asked" and the agent's pop count only what was asked.
				if !slices.Equal(r.in.FactorsAsked, []string{"dob"}) {
					t.Errorf("factors asked %v, want [dob]: the PIN was never asked", r.in.FactorsAsked)
				}
			},
		}),

		// One-time codes.
		hanako(pathRow{
			name: "one-time code right: sent to the mobile ending 78, typed, VERIFIED with OTP",
			line: factors(factorOTP), ani: "0312345678", answers: []string{"{otp}"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, factors: "OTP", attempts: "0/1",
			route: "goto:selfservice,s,1", sent: "goto selfservice,s,1", records: 1,
			prompts: []string{"welcome", "otp-sent", "digits:78", "enter-code", "verified"},
			crmOps:  []string{"by_phone:found", "otp_send:sent"},
			check:   func(t *testing.T, r *pathRun) { r.wantEvent(t, EventOTP, FactorOTP, string(ResultVerified)) },
		}),
		hanako(pathRow{
			name: "one-time code wrong three times: VERIFY_FAILED",
			line: factors(factorOTP), ani: "0312345678", answers: []string{"{notp}", "{notp}", "{notp}"},
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodANI, attempts: "0/3",
			route: "queue:security", sent: "queue security", qstatus: "TIMEOUT", records: 2,
			prompts: []string{"welcome", "otp-sent", "digits:78", "enter-code", "code-wrong", "enter-code", "code-wrong", "enter-code", "too-many"},
			crmOps:  []string{"by_phone:found", "otp_send:sent"},
		}),
		hanako(pathRow{
			name: "one-time code expired: the right code is refused",
			line: both(factors(factorOTP), func(l *Line) { l.OTP.TTL = 100 * time.Millisecond }), // the CRM takes 200 ms
			ani:  "0312345678", answers: []string{"{otp}", "{otp}", "{otp}"},
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodANI, attempts: "0/3",
			route: "queue:security", sent: "queue security", qstatus: "TIMEOUT", records: 2,
			prompts: []string{"welcome", "otp-sent", "digits:78", "enter-code", "code-expired", "enter-code", "code-expired", "enter-code", "too-many"},
			crmOps:  []string{"by_phone:found", "otp_send:sent"},
			check:   func(t *testing.T, r *pathRun) { r.wantEvent(t, EventOTP, FactorOTP, string(ResultExpired)) },
		}),
		hanako(pathRow{
			name: "one-time code resent once on the star key; a second resend is refused and costs a try; the new code passes",
			line: factors(factorOTP), ani: "0312345678", answers: []string{"*", "*", "{otp}"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, factors: "OTP", attempts: "0/2",
			route: "goto:selfservice,s,1", sent: "goto selfservice,s,1", records: 1,
			prompts: []string{"welcome", "otp-sent", "digits:78", "enter-code", "otp-sent", "digits:78", "enter-code", "code-wrong", "enter-code", "verified"},
			crmOps:  []string{"by_phone:found", "otp_send:sent", "otp_send:sent"},
			check: func(t *testing.T, r *pathRun) {
				if len(r.crm.codes) != 2 || r.crm.codes[0] == r.crm.codes[1] && r.crm.codes[0] != "" {
					t.Errorf("codes sent %d, want 2 different ones", len(r.crm.codes))
				}
			},
		}),
		hanako(pathRow{
			name: "the resend key pressed again and again ends the tries, not a loop",
			line: factors(factorOTP), ani: "0312345678", answers: []string{"*", "*", "*", "*"},
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodANI, attempts: "0/3",
			route: "queue:security", sent: "queue security", qstatus: "TIMEOUT", records: 2,
			prompts: []string{"welcome", "otp-sent", "digits:78", "enter-code", "otp-sent", "digits:78", "enter-code", "code-wrong", "enter-code",
				"code-wrong", "enter-code", "too-many"},
			crmOps: []string{"by_phone:found", "otp_send:sent", "otp_send:sent"},
		}),
		hanako(pathRow{
			name: "one-time code checked as often as allowed: the next check is refused, even of the right code",
			line: both(factors(factorOTP), func(l *Line) { l.VerifyAttempts, l.OTP.MaxChecks = 6, 2 }),
			ani:  "0312345678", answers: []string{"{notp}", "{notp}", "{otp}"},
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodANI, attempts: "0/3",
			route: "queue:security", sent: "queue security", qstatus: "TIMEOUT", records: 2,
			prompts: []string{"welcome", "otp-sent", "digits:78", "enter-code", "code-wrong", "enter-code", "code-wrong", "enter-code", "too-many"},
			crmOps:  []string{"by_phone:found", "otp_send:sent"},
			check:   func(t *testing.T, r *pathRun) { r.wantEvent(t, EventOTP, FactorOTP, string(ResultMaxChecks)) },
		}),
		{
			name: "one-time code for a customer with no mobile: VERIFY_FAILED, nothing sent",
			line: factors(factorOTP), ani: "0312345678",
			status: StatusIdentified, reason: ReasonVerifyFailed, method: MethodANI, custID: "100234", custName: "Hanako Yamada",
			attempts: "0/0", route: "queue:security", sent: "queue security", qstatus: "TIMEOUT", records: 2,
			prompts: []string{"welcome", "too-many"}, crmOps: []string{"by_phone:found"},
			check: func(t *testing.T, r *pathRun) {
				r.wantEvent(t, EventOTP, FactorOTP, string(ResultNoMobile))
				if len(r.in.FactorsAsked) != 0 {
					t.Errorf("factors asked %v, want none: no code was sent", r.in.FactorsAsked)
				}
			},
		},

		// The risk rule adds factors for less trustworthy callers.
		hanako(pathRow{
			name: "risk: an identifier typed adds the one-time code to the PIN",
			line: both(factors(factorPIN), func(l *Line) { l.ANILookup, l.Risk = false, Risk{Factors: []Factor{factorOTP}, Typed: true} }),
			ani:  "0312345678", answers: []string{"100234#", rightSecret + "#", "{otp}"},
			status: StatusVerified, reason: ReasonOK, method: MethodDTMF, factors: "PIN,OTP", attempts: "1/2",
			route: "goto:selfservice,s,1", sent: "goto selfservice,s,1", records: 1,
			prompts: []string{"welcome", "enter-id", "opt-out-hint", "enter-secret", "otp-sent", "digits:78", "enter-code", "verified"},
			crmOps:  []string{"by_id:found", "verify:verified", "otp_send:sent"},
			check: func(t *testing.T, r *pathRun) {
				if !slices.Equal(r.in.Risk, []string{RiskTyped}) || !slices.Equal(r.in.FactorsAsked, []string{"pin", "otp"}) {
					t.Errorf("risk %v, factors asked %v", r.in.Risk, r.in.FactorsAsked)
				}
			},
		}),
		hanako(pathRow{
			name: "risk: a calling-number match attested A is asked the PIN alone",
			line: both(factors(factorPIN), func(l *Line) { l.Risk = Risk{Factors: []Factor{factorOTP}, Typed: true, MinAttestation: "B"} }),
			ani:  "0312345678", preset: attestation("1", "Verification Successful", "A"), answers: []string{rightSecret + "#"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, attempts: "0/1",
			route: "goto:selfservice,s,1", sent: "goto selfservice,s,1", records: 1,
			prompts: []string{"welcome", "enter-secret", "verified"}, crmOps: []string{"by_phone:found", "verify:verified"},
			check: func(t *testing.T, r *pathRun) {
				if len(r.in.Risk) != 0 || !slices.Equal(r.in.FactorsAsked, []string{"pin"}) {
					t.Errorf("risk %v, factors asked %v", r.in.Risk, r.in.FactorsAsked)
				}
			},
		}),
		hanako(pathRow{
			name: "risk: attestation C below B adds the code, even where the line asks no factor",
			line: func(l *Line) {
				l.Risk = Risk{Factors: []Factor{factorOTP}, MinAttestation: "B"}
				l.Prompts.OTPSent = "otp-sent"
			},
			ani: "0312345678", preset: attestation("1", "Verification Successful", "C"), answers: []string{rightSecret + "#", "{otp}"},
			status: StatusVerified, reason: ReasonOK, method: MethodANI, factors: "PIN,OTP", attempts: "0/2",
			route: "goto:selfservice,s,1", sent: "goto selfservice,s,1", records: 1,
			prompts: []string{"welcome", "enter-secret", "otp-sent", "digits:78", "enter-code", "verified"},
			crmOps:  []string{"by_phone:found", "verify:verified", "otp_send:sent"},
			check: func(t *testing.T, r *pathRun) {
				if !slices.Equal(r.in.Risk, []string{RiskUnattested}) {
					t.Errorf("risk %v, want unattested", r.in.Risk)
				}
			},
		}),
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := runPath(t, row)
			r.assert(t, row)
			if row.check != nil {
				row.check(t, r)
			}
			// A one-time code never reaches a variable, an event or the record.
			for _, code := range r.crm.codes {
				for _, ev := range r.in.Events {
					if code != "" && (containsDigits(ev.Detail, code) || containsDigits(ev.Name, code)) {
						t.Errorf("the code %s is in the event %+v", code, ev)
					}
				}
				for name, v := range r.call.set {
					if containsDigits(v, code) {
						t.Errorf("the code is in %s=%s", name, v)
					}
				}
			}
		})
	}
}

// containsDigits says whether s holds the code (a code of "" is in nothing).
func containsDigits(s, code string) bool { return code != "" && strings.Contains(s, code) }
