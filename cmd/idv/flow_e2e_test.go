package main

import (
	"slices"
	"testing"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// want is what Asterisk must receive and what the record must say.
type want struct {
	status, reason, method, customer, name, attempts string
	apps                                             []string // EXEC'd applications
	goTo                                             string   // "context,exten,prio" where the dialplan continues
	prompts                                          []string // prompts that must have been played, in order (a subsequence)
	noCRM                                            string   // a CRM operation that must not have happened
	agiStatus                                        string
}

func checkCall(t *testing.T, res *agitest.Result, in *flow.Interaction, w want) {
	t.Helper()
	vars := map[string]string{
		"IDV_STATUS": w.status, "IDV_REASON": w.reason, "IDV_METHOD": w.method,
		"IDV_CUSTOMER_ID": w.customer, "IDV_ATTEMPTS": w.attempts,
	}
	if w.name != "" {
		vars["IDV_CUSTOMER_NAME"] = w.name
	}
	for k, v := range vars {
		if got := res.Var(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
		if res.Inherit[k] != "__" {
			t.Errorf("%s set with prefix %q, want \"__\" so the agent leg inherits it", k, res.Inherit[k])
		}
	}
	if res.Var("IDV_LINE") == "" || res.Var("IDV_INTERACTION") == "" {
		t.Errorf("IDV_LINE=%q IDV_INTERACTION=%q, want both set", res.Var("IDV_LINE"), res.Var("IDV_INTERACTION"))
	}
	if !slices.Equal(res.Apps, w.apps) {
		t.Errorf("applications run = %q, want %q", res.Apps, w.apps)
	}
	if w.goTo != "" {
		if got := res.Context + "," + res.Extension + "," + res.Priority; got != w.goTo {
			t.Errorf("dialplan continues at %s, want %s", got, w.goTo)
		}
	}
	if !subsequence(res.PromptFiles(), w.prompts) {
		t.Errorf("prompts played %q, want %q among them in order", res.PromptFiles(), w.prompts)
	}
	agiStatus := w.agiStatus
	if agiStatus == "" {
		agiStatus = "SUCCESS"
	}
	if res.AGIStatus != agiStatus {
		t.Errorf("AGISTATUS = %s, want %s", res.AGIStatus, agiStatus)
	}
	if in == nil {
		t.Fatal("no interaction record")
	}
	if string(in.Status) != w.status || string(in.Reason) != w.reason || string(in.Method) != w.method ||
		in.CustomerID != w.customer || in.Attempts() != w.attempts {
		t.Errorf("record = %s/%s/%s customer %q attempts %s, want %s/%s/%s %q %s", in.Status, in.Reason, in.Method,
			in.CustomerID, in.Attempts(), w.status, w.reason, w.method, w.customer, w.attempts)
	}
	if in.Ended.IsZero() {
		t.Error("record not closed (no end time)")
	}
	if in.ID != res.Var("IDV_INTERACTION") {
		t.Errorf("record id %s, channel says %s", in.ID, res.Var("IDV_INTERACTION"))
	}
	if w.noCRM != "" {
		for _, ev := range in.Events {
			if ev.Kind == flow.EventCRM && ev.Name == w.noCRM {
				t.Errorf("CRM %s was called (%s), want no such call", w.noCRM, ev.Result)
			}
		}
	}
}

// subsequence reports whether want appears in got in order.
func subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestFlowOverFastAGI(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			testStore = driver
			defer func() { testStore = store.SQLite }()
			testFlowOverFastAGI(t)
		})
	}
}

func testFlowOverFastAGI(t *testing.T) {
	h := newHarness(t, "")
	support := []string{"Queue(support,,,,300)"}
	cases := []struct {
		name   string
		caller agitest.Caller
		want   want
	}{
		{"ANI hit, verification not required: identified only, to the agent queue",
			agitest.Caller{ANI: "+81312345679"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "ANI", customer: "100235", name: "田中 一郎", attempts: "0/0",
				apps: support, prompts: []string{"idv/welcome", "idv/transfer"}, noCRM: "by_id"}},
		{"ANI in national format is normalised with the line's region",
			agitest.Caller{ANI: "0312345679"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "ANI", customer: "100235", attempts: "0/0", apps: support}},
		{"customer's second phone number identifies too",
			agitest.Caller{ANI: "09012345678"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "ANI", customer: "100235", attempts: "0/0", apps: support}},
		{"ANI alone never verifies: a record that requires verification asks for the secret",
			agitest.Caller{ANI: "+81312345678", Keys: "1234#"},
			want{status: "VERIFIED", reason: "OK", method: "ANI", customer: "100234", name: "佐藤 花子", attempts: "0/1",
				apps: support, prompts: []string{"idv/welcome", "idv/enter-secret", "idv/verified", "idv/transfer"}}},
		{"ANI miss falls through to the identifier",
			agitest.Caller{ANI: "+81399999999", Keys: "100235#"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "100235", attempts: "1/0",
				apps: support, prompts: []string{"idv/welcome", "idv/enter-id"}}},
		// BL1, the business rule that identification by the calling number is switched on or
		// off per service line: line noani has ani_lookup = false.
		{"ANI lookup disabled for the line (BL1) asks for the identifier and never looks up the number",
			agitest.Caller{Script: "idv?line=noani", ANI: "+81312345679", Keys: "100235#"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "100235", attempts: "1/0",
				apps: support, noCRM: "by_phone"}},
		{"withheld number (anonymous) goes to the identifier",
			agitest.Caller{ANI: "anonymous", CallerName: "Anonymous", Keys: "100235#"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "100235", attempts: "1/0", apps: support, noCRM: "by_phone"}},
		{"number with restricted presentation is not used",
			agitest.Caller{ANI: "+81312345679", Presentation: 0x23, Keys: "100235#"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "100235", attempts: "1/0", apps: support, noCRM: "by_phone"}},
		{"no caller number at all (unknown) goes to the identifier",
			agitest.Caller{Keys: "100235#"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "100235", attempts: "1/0", apps: support, noCRM: "by_phone"}},
		{"invalid number goes to the identifier",
			agitest.Caller{ANI: "12", Keys: "100235#"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "100235", attempts: "1/0", apps: support, noCRM: "by_phone"}},
		{"a number shared by two customers asks for the identifier, then verifies",
			agitest.Caller{ANI: "+81355550000", Keys: "100237#4444#"},
			want{status: "VERIFIED", reason: "OK", method: "DTMF", customer: "100237", name: "鈴木 三郎", attempts: "1/1", apps: support}},
		{"identifier right on the third try",
			agitest.Caller{ANI: "anonymous", Keys: "999#998#100235#"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "100235", attempts: "3/0", apps: support,
				prompts: []string{"idv/enter-id", "idv/not-found", "idv/not-found", "idv/transfer"}}},
		{"tries exhausted: unidentified, NOT_FOUND, to the agent queue",
			agitest.Caller{ANI: "anonymous", Keys: "999#998#997#"},
			want{status: "UNIDENTIFIED", reason: "NOT_FOUND", method: "NONE", attempts: "3/0", apps: support,
				prompts: []string{"idv/not-found", "idv/not-found", "idv/too-many-attempts"}}},
		{"silence on every try: NO_INPUT",
			agitest.Caller{ANI: "anonymous"},
			want{status: "UNIDENTIFIED", reason: "NO_INPUT", method: "NONE", attempts: "3/0", apps: support,
				prompts: []string{"idv/enter-id", "idv/no-input", "idv/no-input", "idv/too-many-attempts"}}},
		{"a too-short identifier uses a try without asking the CRM",
			agitest.Caller{ANI: "anonymous", Keys: "1#100235#"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "100235", attempts: "2/0", apps: support}},
		{"opt-out key: unauthenticated route",
			agitest.Caller{ANI: "anonymous", Keys: "*"},
			want{status: "UNIDENTIFIED", reason: "OPTED_OUT", method: "NONE", attempts: "1/0", goTo: "unauthenticated,s,1", noCRM: "by_id"}},
		{"opt-out in the middle of typing",
			agitest.Caller{ANI: "anonymous", Keys: "12*"},
			want{status: "UNIDENTIFIED", reason: "OPTED_OUT", method: "NONE", attempts: "1/0", goTo: "unauthenticated,s,1"}},
		{"opt-out after a failed try",
			agitest.Caller{ANI: "anonymous", Keys: "999#*"},
			want{status: "UNIDENTIFIED", reason: "OPTED_OUT", method: "NONE", attempts: "2/0", goTo: "unauthenticated,s,1"}},
		{"line verifying everyone: verified, to self-service",
			agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679", Keys: "2222#"},
			want{status: "VERIFIED", reason: "OK", method: "ANI", customer: "100235", attempts: "0/1", goTo: "selfservice,s,1",
				prompts: []string{"idv/enter-secret", "idv/verified"}}},
		{"verification passes on the third try",
			agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679", Keys: "1111#3333#2222#"},
			want{status: "VERIFIED", reason: "OK", method: "ANI", customer: "100235", attempts: "0/3", goTo: "selfservice,s,1",
				prompts: []string{"idv/enter-secret", "idv/secret-wrong", "idv/secret-wrong", "idv/verified"}}},
		{"wrong secret three times: IDENTIFIED, VERIFY_FAILED, to the agent queue",
			agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679", Keys: "1111#3333#4444#"},
			want{status: "IDENTIFIED", reason: "VERIFY_FAILED", method: "ANI", customer: "100235", attempts: "0/3",
				apps: []string{"Queue(retail)"}, prompts: []string{"idv/secret-wrong", "idv/secret-wrong", "idv/too-many-attempts"}}},
		{"no secret typed at all: VERIFY_FAILED without asking the CRM",
			agitest.Caller{Script: "idv?line=retail", ANI: "+81312345679"},
			want{status: "IDENTIFIED", reason: "VERIFY_FAILED", method: "ANI", customer: "100235", attempts: "0/3",
				apps: []string{"Queue(retail)"}, noCRM: "verify"}},
		{"customer locked in the CRM: LOCKED",
			agitest.Caller{ANI: "+81311112222", Keys: "0000#"},
			want{status: "IDENTIFIED", reason: "LOCKED", method: "ANI", customer: "100240", attempts: "0/1",
				apps: support, prompts: []string{"idv/locked"}}},
		{"DNIS selects the line",
			agitest.Caller{DNID: "1000", ANI: "+81312345679", Keys: "2222#"},
			want{status: "VERIFIED", reason: "OK", method: "ANI", customer: "100235", attempts: "0/1", goTo: "selfservice,s,1"}},
		{"first AGI argument selects the line",
			agitest.Caller{Args: []string{"retail"}, ANI: "+81312345679", Keys: "2222#"},
			want{status: "VERIFIED", reason: "OK", method: "ANI", customer: "100235", attempts: "0/1", goTo: "selfservice,s,1"}},
		{"maximum length ends the entry without the terminator",
			agitest.Caller{Script: "idv?line=short", ANI: "anonymous", Keys: "100235"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "100235", attempts: "1/0", apps: support}},
		{"inter-digit timeout ends the entry",
			agitest.Caller{ANI: "anonymous", Keys: "42."},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "DTMF", customer: "42", attempts: "1/0", apps: support}},
		{"line without opt-out ignores the star key",
			agitest.Caller{Script: "idv?line=short", ANI: "anonymous", Keys: "*.*."},
			want{status: "UNIDENTIFIED", reason: "NO_INPUT", method: "NONE", attempts: "2/0", apps: support}},
		{"queue outcome is captured",
			agitest.Caller{ANI: "+81312345679", QueueStatus: "TIMEOUT"},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "ANI", customer: "100235", attempts: "0/0", apps: support}},
		{"a missing sound file is skipped and the call goes on",
			agitest.Caller{ANI: "+81312345679", MissingPrompts: []string{"idv/welcome"}},
			want{status: "IDENTIFIED", reason: "NOT_REQUIRED", method: "ANI", customer: "100235", attempts: "0/0", apps: support,
				agiStatus: "FAILURE"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, in := h.call(tc.caller)
			checkCall(t, res, in, tc.want)
			if tc.caller.QueueStatus != "" && in.QueueStatus != tc.caller.QueueStatus {
				t.Errorf("record queue status %q, want %q", in.QueueStatus, tc.caller.QueueStatus)
			}
		})
	}
}

// TestSTIRSHAKENAttestation: a line that requires attestation B trusts an A or B verified
// number and asks the others for their identifier.
func TestSTIRSHAKENAttestation(t *testing.T) {
	h := newHarness(t, "", "[lines.strict]\nani_min_attestation = \"B\"")
	ss := func(count, result, level string) map[string]string {
		return map[string]string{"STIR_SHAKEN(count)": count, "STIR_SHAKEN(0,verify_result)": result, "STIR_SHAKEN(0,attest_level)": level}
	}
	cases := []struct {
		name   string
		vars   map[string]string
		method string
	}{
		{"A, verified: trusted", ss("1", "Verification Successful", "A"), "ANI"},
		{"B, verified: trusted", ss("1", "Verification Successful", "B"), "ANI"},
		{"C: asked for the identifier", ss("1", "Verification Successful", "C"), "DTMF"},
		{"A but verification failed: asked", ss("1", "Signature verification failed", "A"), "DTMF"},
		{"no STIR/SHAKEN at all: asked", nil, "DTMF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, in := h.call(agitest.Caller{Script: "idv?line=strict", ANI: "+81312345679", Keys: "100235#", Vars: tc.vars})
			if res.Var("IDV_METHOD") != tc.method || in.CustomerID != "100235" {
				t.Errorf("method %s customer %s, want %s", res.Var("IDV_METHOD"), in.CustomerID, tc.method)
			}
		})
	}
}
