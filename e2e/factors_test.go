package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The example lines of config.toml that go beyond a PIN: bank (identifier menu, date of
// birth) and secure (a one-time code for risky callers), on the real Asterisk. Both
// read idv's AGI conversation from Asterisk's own log (agi set debug on while they run):
// what idv sent and what Asterisk answered, SAY DIGITS included, which idv had never
// used before these lines.

// The bank line (extension 1100): a withheld number hears the identifier menu —
// "customer number 1, account number 2, phone number 3", each key said with SAY DIGITS —,
// presses 2 after it, types the account number, the date of birth (8 digits, no
// terminator) and the PIN.
func TestMenuAccountDateOfBirthAndPIN(t *testing.T) {
	e := need(t)
	t.Parallel()
	e.agiDebug(t)
	// The welcome (3.7 s), the menu's opening and its three choices with their keys
	// (about 13.5 s): the 2 comes 2 s into the 6 s the menu then waits for a key. The account
	// number 1.5 s into its prompt (English), the date and the PIN into theirs (Japanese,
	// the customer's language, from the CRM).
	c := e.place(t, caller(t, "anonymous", pause(20000), keys("2"), pause(1500), keys("55501234#"),
		pause(1500), keys("19850412"), pause(1500), keys("1234#"), awaitBye()), "1100", 1)[0]
	c.want(t, "IDV_STATUS=VERIFIED", "IDV_REASON=OK", "IDV_METHOD=DTMF", "IDV_CUSTOMER_ID=100234", "IDV_LINE=bank",
		"IDV_ID_TYPE=ACCOUNT", "IDV_FACTORS=DOB,PIN", "IDV_ATTEMPTS=1/2", "AGISTATUS=SUCCESS", "LANGUAGE=ja")
	r := e.record(t, e.webAddr, c, nil)
	if r.Status != "VERIFIED" || r.Line != "bank" || r.Route != "queue:support,,,,300" {
		t.Errorf("record %+v", r)
	}
	if !r.has("digits", "menu", "terminator") {
		t.Errorf("the record has no menu choice: %+v", r.Timeline)
	}
	// Each menu key was said with its own SAY DIGITS, the menu's keys as escape digits,
	// and Asterisk answered 200 result=0 (played out, no key).
	says := e.sayDigits(t, c.Channel)
	for i, want := range []string{`SAY DIGITS "1" "123*"`, `SAY DIGITS "2" "123*"`, `SAY DIGITS "3" "123*"`} {
		if i >= len(says) || says[i][0] != want || says[i][1] != "200 result=0" {
			t.Errorf("SAY DIGITS on the real Asterisk: %q, want %s answered 200 result=0 in turn", says, want)
			break
		}
	}
}

// The secure line (extension 1200): a caller with a withheld number types the customer
// number and the PIN; the risk rule (withheld, typed) adds a one-time code, which idv
// has the CRM send to the customer's mobile ("ending in 7 8", SAY DIGITS). The test
// reads the code from the demo CRM's outbox while the call waits, and hands it to the
// SIPp caller in a SIP MESSAGE; the caller types it. The code is in no log line of idv
// or Asterisk, in no channel variable, in nothing idv sent Asterisk, nor in the record.
func TestOneTimeCodeTypedMidCall(t *testing.T) {
	e := need(t)
	t.Parallel()
	e.agiDebug(t)
	started := time.Now()
	from := logSize(e.ast.full)
	var code, channel, channelDump string
	during := func(ctx context.Context, sc sippCaller) error {
		var err error
		if code, err = e.awaitCode(ctx, "100234", started); err != nil {
			return err
		}
		// The caller types while the prompt asking for the code plays.
		line, err := awaitLogFrom(e.ast.full, from, patience, ctx.Done(), func(l string) bool {
			return strings.Contains(l, "> Playing 'idv/enter-code.")
		})
		if err != nil {
			return fmt.Errorf("the code was never asked for: %w", err)
		}
		channel = regexp.MustCompile(`<([^>]+)> Playing`).FindStringSubmatch(line)[1]
		if err := sendToCaller(sc, "code="+code); err != nil {
			return err
		}
		// Every variable of the caller's channel once idv has set its own: idv sets them
		// all before it queues the caller, so Asterisk's reading of the Queue command
		// says they are there.
		if _, err := awaitLogFrom(e.ast.full, from, patience, ctx.Done(), func(l string) bool {
			return strings.Contains(l, "<"+channel+">AGI Rx << EXEC Queue")
		}); err != nil {
			return fmt.Errorf("%s was never queued: %w", channel, err)
		}
		channelDump, _ = e.ast.cli("core show channel " + channel)
		if !strings.Contains(channelDump, "IDV_FACTORS=") {
			return fmt.Errorf("%s has no IDV_FACTORS once queued:\n%s", channel, channelDump)
		}
		return nil
	}
	c := e.placeDuring(t, caller(t, "anonymous", pause(afterWelcome), keys("100234#"), pause(1500), keys("1234#"),
		typeCode(1000), awaitBye()), "1200", during)
	c.want(t, "IDV_STATUS=VERIFIED", "IDV_REASON=OK", "IDV_METHOD=DTMF", "IDV_CUSTOMER_ID=100234", "IDV_LINE=secure",
		"IDV_ID_TYPE=CUSTOMER_ID", "IDV_FACTORS=PIN,OTP", "IDV_ATTEMPTS=1/2", "AGISTATUS=SUCCESS", "LANGUAGE=ja")
	if code == "" {
		t.Fatal("no one-time code reached the outbox")
	}
	if channel != c.Channel {
		t.Errorf("the code was asked on %s, the call was %s", channel, c.Channel)
	}
	r := e.record(t, e.webAddr, c, nil)
	if r.Status != "VERIFIED" || r.Line != "secure" {
		t.Errorf("record %+v", r)
	}
	for _, result := range []string{"sent", "verified"} {
		if !r.has("otp", "otp", result) {
			t.Errorf("the record has no otp step %q: %+v", result, r.Timeline)
		}
	}
	// "We have sent a code to your mobile ending in" 7, 8: two SAY DIGITS, no escape
	// digit, each answered 200 result=0.
	says := e.sayDigits(t, c.Channel)
	want := [][2]string{{`SAY DIGITS "7" ""`, "200 result=0"}, {`SAY DIGITS "8" ""`, "200 result=0"}}
	if len(says) != len(want) || says[0] != want[0] || says[1] != want[1] {
		t.Errorf("SAY DIGITS on the real Asterisk: %q, want %q", says, want)
	}
	// Said in the caller's language: idv's Japanese digits are where Asterisk looks for
	// them (Debian ships no Japanese core sounds; without these it says them in English).
	if idx, _ := e.ast.cli("core show sound digits/7"); !strings.Contains(idx, "Language ja") {
		t.Errorf("Asterisk has no Japanese digits/7:\n%s", idx)
	}
	// Nowhere to be read.
	leak := regexp.MustCompile(`(^|[^0-9])` + code + `([^0-9]|$)`)
	if !strings.Contains(channelDump, "IDV_STATUS=VERIFIED") || leak.MatchString(channelDump) {
		t.Errorf("the channel's variables (core show channel) hold the code %s or lack IDV_STATUS:\n%s", code, channelDump)
	}
	for k, v := range c.Vars {
		if leak.MatchString(v) {
			t.Errorf("%s=%s holds the code", k, v)
		}
	}
	var raw json.RawMessage
	if err := httpJSON("http://"+e.webAddr+"/api/interactions/"+r.ID, &raw); err != nil || leak.Match(raw) {
		t.Errorf("the record holds the code %s (%v): %s", code, err, raw)
	}
	if n := len(e.agiExchange(t, c.Channel)); n < 20 {
		t.Errorf("only %d AGI lines of %s in Asterisk's log: agi set debug did not take", n, c.Channel)
	}
	for _, f := range []string{e.idv.log, e.ast.full, e.ast.proc.log} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if leak.MatchString(l) {
				t.Errorf("%s logged the code %s: %s", f, code, l)
			}
		}
	}
}

// has says whether the record's timeline has a step of this kind, name and result.
func (r record) has(kind, name, result string) bool {
	for _, s := range r.Timeline {
		if s.Kind == kind && s.Name == name && s.Result == result {
			return true
		}
	}
	return false
}

// agiDebugUsers counts the tests that need Asterisk's AGI debug (agi set debug on): the
// first turns it on, the last off.
var agiDebugUsers struct {
	sync.Mutex
	n int
}

// agiDebug has Asterisk log every AGI line it sends and receives while the test runs.
func (e *environment) agiDebug(t *testing.T) {
	t.Helper()
	agiDebugUsers.Lock()
	defer agiDebugUsers.Unlock()
	if agiDebugUsers.n == 0 {
		if out, err := e.ast.cli("agi set debug on"); err != nil {
			t.Fatal(out, err)
		}
	}
	agiDebugUsers.n++
	t.Cleanup(func() {
		agiDebugUsers.Lock()
		defer agiDebugUsers.Unlock()
		if agiDebugUsers.n--; agiDebugUsers.n == 0 {
			e.ast.cli("agi set debug off")
		}
	})
}

// agiExchange is a channel's AGI conversation as Asterisk logged it: "Rx << command"
// (from idv) and "Tx >> reply" lines, in order.
func (e *environment) agiExchange(t *testing.T, channel string) []string {
	t.Helper()
	b, err := os.ReadFile(e.ast.full)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if _, rest, ok := strings.Cut(l, "<"+channel+">AGI "); ok {
			out = append(out, strings.TrimSpace(rest))
		}
	}
	return out
}

// sayDigits lists a channel's SAY DIGITS commands with Asterisk's reply to each, as
// they went over the wire, and logs them.
func (e *environment) sayDigits(t *testing.T, channel string) [][2]string {
	t.Helper()
	var says [][2]string
	lines := e.agiExchange(t, channel)
	for i, l := range lines {
		cmd, ok := strings.CutPrefix(l, "Rx << ")
		if !ok || !strings.HasPrefix(cmd, "SAY DIGITS") {
			continue
		}
		reply := ""
		for _, next := range lines[i+1:] {
			if r, ok := strings.CutPrefix(next, "Tx >> "); ok {
				reply = r
				break
			}
		}
		says = append(says, [2]string{cmd, reply})
		t.Logf("%s: idv sent %s, Asterisk answered %s", channel, cmd, reply)
	}
	return says
}

// awaitCode waits for a one-time code to customer in the demo CRM's outbox, sent after
// since, and returns it.
func (e *environment) awaitCode(ctx context.Context, customer string, since time.Time) (string, error) {
	for {
		var box struct {
			Messages []struct {
				To       string    `json:"to"`
				Customer string    `json:"customer"`
				Code     string    `json:"code"`
				At       time.Time `json:"at"`
			} `json:"messages"`
		}
		resp, err := http.Get("http://" + e.crmAddr + "/outbox")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err = json.Unmarshal(b, &box); err != nil {
				return "", fmt.Errorf("GET /outbox: %v: %s", err, b)
			}
		}
		for _, m := range box.Messages {
			if m.Customer == customer && m.At.After(since) {
				if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(m.Code) || m.To != "+819011112278" {
					return "", fmt.Errorf("the outbox has %+v, want 6 digits to +819011112278", m)
				}
				return m.Code, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no code to %s in the outbox (%v): %w", customer, err, ctx.Err())
		case <-time.After(100 * time.Millisecond): // polling the outbox until idv has sent the code
		}
	}
}
