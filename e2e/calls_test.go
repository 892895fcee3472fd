package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests that change the shared environment (pause the agents, stop the CRM, point the
// dialplan elsewhere, measure the load) are not parallel: Go runs them one after the
// other before the parallel ones, so no other call sees the change.

// A caller who hangs up while waiting in the queue is recorded as abandoned, with the
// wait, from idv's queue entry and ARI's hang-up (every agent is paused meanwhile).
func TestCallerAbandonsInQueue(t *testing.T) {
	e := need(t)
	for _, a := range []string{"agent1", "agent2", "agent3"} {
		if out, err := e.ast.cli("queue pause member PJSIP/" + a); err != nil {
			t.Fatal(out, err)
		}
		t.Cleanup(func() { e.ast.cli("queue unpause member PJSIP/" + a) })
	}
	// 42# identifies 山本 短 (no PIN), then the transfer prompt (3.1 s) and the queue.
	c := e.place(t, caller(t, "anonymous", pause(afterWelcome), keys("42#"), pause(3100+4000), hangUp()), "2000", 1)[0]
	c.want(t, "IDV_STATUS=IDENTIFIED", "IDV_CUSTOMER_ID=42", "IDV_METHOD=DTMF", "AGISTATUS=HANGUP")
	r := e.record(t, e.webAddr, c, queued)
	if r.QueueResult != "abandoned" || r.Agent != "" || r.WaitMS == nil || *r.WaitMS <= 0 || r.TalkMS != nil {
		t.Errorf("abandoned call recorded as %+v", r)
	}
}

// idv not running: Asterisk answers AGISTATUS=FAILURE and the dialplan's fallback serves
// the caller unauthenticated.
func TestIDVDownFallsBackInTheDialplan(t *testing.T) {
	e := need(t)
	dead := fmt.Sprintf("127.0.0.1:%d", freeTCP())
	if out, err := e.ast.cli("dialplan set global IDV " + dead); err != nil {
		t.Fatal(out, err)
	}
	t.Cleanup(func() { e.ast.cli("dialplan set global IDV " + e.agiAddr) })
	from := logSize(e.agentSIP)
	c := e.place(t, caller(t, "0312345678", awaitBye()), "1000", 1)[0]
	c.want(t, "AGISTATUS=FAILURE", "IDV_STATUS=UNIDENTIFIED", "IDV_REASON=BACKEND_UNAVAILABLE", "IDV_INTERACTION=")
	// The agent who took the call saw the status in the INVITE: the fallback's Queue()
	// runs [idv-agent-headers] on the agent's channel before it rings (option b()).
	if _, err := awaitLogFrom(e.agentSIP, from, patience, nil, func(l string) bool {
		return strings.TrimSpace(l) == "X-IDV-Status: UNIDENTIFIED"
	}); err != nil {
		t.Errorf("no agent phone got X-IDV-Status: UNIDENTIFIED: %v", err)
	}
}

// The CRM down: idv routes the caller on the line's error route with
// IDV_REASON=BACKEND_UNAVAILABLE, and records it.
func TestCRMDownIsBackendUnavailable(t *testing.T) {
	e := need(t)
	e.crm.stop()
	t.Cleanup(func() {
		var err error
		if e.crm, err = e.spawn("democrm", filepath.Join(e.dir, "democrm2.log"), nil, e.idvBin, "democrm", "-listen", e.crmAddr); err != nil {
			t.Fatal(err)
		}
		if err := waitHTTP("http://" + e.crmAddr + "/customers/100234"); err != nil {
			t.Fatal(err)
		}
	})
	c := e.place(t, caller(t, "0312345678", awaitBye()), "1000", 1)[0]
	c.want(t, "AGISTATUS=SUCCESS", "IDV_STATUS=UNIDENTIFIED", "IDV_REASON=BACKEND_UNAVAILABLE", "IDV_LINE=retail")
	r := e.record(t, e.webAddr, c, queued)
	if r.Reason != "BACKEND_UNAVAILABLE" || r.Route != "queue:retail,,,,300" || r.QueueResult != "answered" {
		t.Errorf("record %+v", r)
	}
}

// Two idv instances (extension 4000): A takes the call while it runs; when A is down,
// Asterisk tries B, and the caller goes through the IVR once.
func TestSecondInstanceTakesOverWhenTheFirstIsDown(t *testing.T) {
	e := need(t)
	t.Parallel() // extension 4000 and instance A are this test's alone
	idvA, _ := e.ast.cli("dialplan show globals")
	m := regexp.MustCompile(`IDV_A=(\S+)`).FindStringSubmatch(idvA)
	if m == nil {
		t.Fatalf("no IDV_A in the globals:\n%s", idvA)
	}
	webA := fmt.Sprintf("127.0.0.1:%d", freeTCP())
	a, err := e.startIDV("idv-a", m[1], webA, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.stop()
	// 田中 一郎: the retail line asks every caller for the PIN.
	withPIN := caller(t, "0312345679", pause(afterWelcome), keys("2222#"), awaitBye())
	c := e.place(t, withPIN, "4000", 1)[0]
	c.want(t, "AGISTATUS=SUCCESS", "IDV_STATUS=VERIFIED", "IDV_CUSTOMER_ID=100235")
	if r := e.record(t, webA, c, nil); r.Status != "VERIFIED" {
		t.Errorf("instance A's record: %+v", r)
	}
	a.kill()
	c = e.place(t, withPIN, "4000", 1)[0]
	c.want(t, "AGISTATUS=SUCCESS", "IDV_STATUS=VERIFIED", "IDV_CUSTOMER_ID=100235")
	if r := e.record(t, e.webAddr, c, nil); r.Status != "VERIFIED" {
		t.Errorf("instance B's record: %+v", r)
	}
}

// Every caller scenario shipped in deploy/sipp, as deploy/sipp/run.sh plays them, ends as
// its comment says.
func TestShippedCallers(t *testing.T) {
	e := need(t)
	t.Parallel()
	for _, sc := range []struct {
		file, exten string
		vars        []string
		queue       string // the queue result, "" when not queued
	}{
		{"caller-ani-verified.xml", "1000", []string{"IDV_STATUS=VERIFIED", "IDV_REASON=OK", "IDV_METHOD=ANI", "IDV_CUSTOMER_ID=100234", "IDV_ATTEMPTS=0/1", "LANGUAGE=ja"}, ""},
		{"caller-identifier.xml", "2000", []string{"IDV_STATUS=IDENTIFIED", "IDV_REASON=NOT_REQUIRED", "IDV_METHOD=DTMF", "IDV_CUSTOMER_ID=100235", "IDV_ATTEMPTS=1/0"}, "answered"},
		{"caller-opt-out.xml", "2000", []string{"IDV_STATUS=UNIDENTIFIED", "IDV_REASON=OPTED_OUT", "IDV_METHOD=NONE", "IDV_CUSTOMER_ID="}, "answered"},
		{"caller-wrong-secret.xml", "1000", []string{"IDV_STATUS=IDENTIFIED", "IDV_REASON=VERIFY_FAILED", "IDV_METHOD=ANI", "IDV_CUSTOMER_ID=100238", "IDV_ATTEMPTS=0/3", "LANGUAGE=en"}, "answered"},
		{"caller-hangup.xml", "1000", []string{"IDV_STATUS=UNIDENTIFIED", "IDV_REASON=HANGUP", "AGISTATUS=HANGUP"}, ""},
	} {
		t.Run(sc.file, func(t *testing.T) {
			t.Parallel()
			c := e.place(t, filepath.Join(e.repo, "deploy/sipp", sc.file), sc.exten, 1, "-d", "5000")[0]
			c.want(t, sc.vars...)
			done := queued
			if sc.queue == "" {
				done = nil
			}
			r := e.record(t, e.webAddr, c, done)
			if sc.queue != "" && (r.QueueResult != sc.queue || r.Agent == "" || r.WaitMS == nil || r.TalkMS == nil || *r.TalkMS <= 0) {
				t.Errorf("queue outcome %+v, want %s with agent, wait and talk", r, sc.queue)
			}
		})
	}
}

// A known number on the retail line: the PIN is asked in Japanese (the customer's
// language, as the console shows) and right; the caller is verified and goes to
// self-service.
func TestKnownNumberVerifiedInJapanese(t *testing.T) {
	e := need(t)
	t.Parallel()
	c := e.place(t, caller(t, "0312345678", pause(afterWelcome), keys("1234#"), awaitBye()), "1000", 1)[0]
	c.want(t, "IDV_STATUS=VERIFIED", "IDV_REASON=OK", "IDV_METHOD=ANI", "IDV_CUSTOMER_ID=100234", "IDV_ATTEMPTS=0/1",
		"IDV_LINE=retail", "AGISTATUS=SUCCESS", "LANGUAGE=ja")
	r := e.record(t, e.webAddr, c, nil)
	if r.Status != "VERIFIED" || r.Route != "goto:idv-selfservice,s,1" || r.Language != "ja" {
		t.Errorf("record %+v", r)
	}
	if _, err := awaitLog(e.ast.full, time.Second, nil, func(l string) bool {
		return strings.Contains(l, "<"+c.Channel+"> Playing 'idv/enter-secret.") && strings.HasSuffix(l, "(language 'ja')")
	}); err != nil {
		t.Errorf("the PIN prompt was not played in Japanese on %s: %v", c.Channel, err)
	}
}

// Keys repeated in a row (100236, then PIN 3333) all arrive: SIP INFO carries each one.
func TestRepeatedDigitsArrive(t *testing.T) {
	e := need(t)
	t.Parallel()
	c := e.place(t, caller(t, "anonymous", pause(afterWelcome), keys("100236#"), pause(nextEntry), keys("3333#"), awaitBye()), "2000", 1)[0]
	c.want(t, "IDV_STATUS=VERIFIED", "IDV_REASON=OK", "IDV_METHOD=DTMF", "IDV_CUSTOMER_ID=100236", "IDV_ATTEMPTS=1/1")
}

// An agent answers (whisper first), talks and hangs up: the agent's pop shows the call
// while it lasts, and the record has the agent, the wait and the talk time.
func TestAgentAnswersTalksAndHangsUp(t *testing.T) {
	e := need(t)
	t.Parallel()
	popped := make(chan error, 1)
	from := logSize(e.ast.full)
	go func() {
		// 42 is this test's customer among the parallel tests: the whisper line names the
		// call and the agent.
		line, err := awaitLogFrom(e.ast.full, from, patience, nil, func(l string) bool {
			return strings.Contains(l, "idv-whisper: ") && strings.Contains(l, "IDV_CUSTOMER_ID=42 ")
		})
		if err != nil {
			popped <- err
			return
		}
		m := regexp.MustCompile(`IDV_INTERACTION=(\S+) .*AGENT=(PJSIP/agent\d)-`).FindStringSubmatch(line)
		if m == nil {
			popped <- fmt.Errorf("whisper line %q", line)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		popped <- firstSSE(ctx, "http://"+e.webAddr+"/api/live?agent="+m[2], func(b []byte) bool {
			var v struct {
				Call *struct {
					ID string `json:"id"`
				} `json:"call"`
			}
			return json.Unmarshal(b, &v) == nil && v.Call != nil && v.Call.ID == m[1]
		})
	}()
	c := e.place(t, caller(t, "anonymous", pause(afterWelcome), keys("42#"), awaitBye()), "2000", 1)[0]
	c.want(t, "IDV_STATUS=IDENTIFIED", "IDV_CUSTOMER_ID=42", "AGISTATUS=SUCCESS", "QUEUESTATUS=")
	if err := <-popped; err != nil {
		t.Errorf("the agent's pop never showed the call: %v", err)
	}
	r := e.record(t, e.webAddr, c, queued)
	if r.QueueResult != "answered" || !strings.HasPrefix(r.Agent, "PJSIP/agent") || r.WaitMS == nil || r.TalkMS == nil || *r.TalkMS <= 0 {
		t.Errorf("record %+v", r)
	}
}

// /identify, then /verify as a step-up in self-service (extension 3000): the caller found
// by number is identified, and the PIN asked later makes them verified.
func TestIdentifyThenVerifyStepUp(t *testing.T) {
	e := need(t)
	t.Parallel()
	c := e.place(t, caller(t, "0312345679", pause(afterWelcome), keys("2222#"), awaitBye()), "3000", 1)[0]
	c.want(t, "IDV_STATUS=VERIFIED", "IDV_REASON=OK", "IDV_CUSTOMER_ID=100235", "IDV_METHOD=ANI", "AGISTATUS=SUCCESS")
	if r := e.record(t, e.webAddr, c, nil); r.Status != "VERIFIED" {
		t.Errorf("the step-up's record: %+v", r)
	}
}

// idv's ARI connection is accepted without a NOTICE about its Origin.
func TestARIOriginAllowed(t *testing.T) {
	e := need(t)
	if _, err := awaitLog(e.ast.full, 0, nil, func(l string) bool { return strings.Contains(l, "Creating Stasis app 'idv'") }); err != nil {
		t.Fatalf("idv's ARI application never registered: %v", err)
	}
	if l, err := awaitLog(e.ast.full, 0, nil, func(l string) bool { return strings.Contains(l, "Origin") }); err == nil {
		t.Errorf("Asterisk complained about the Origin: %s", l)
	}
}
