package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// transferTalk is what the agent phones do instead of talking, in the transfer test: the
// first call they answer, they blind-transfer (REFER) to extension 102 of [idv-agents] after
// the whisper; the call that then reaches them (agent2) talks 3 s and hangs up.
const transferTalk = `  <nop><action><test assign_to="again" variable="xfer" compare="equal" value="1"/></action></nop>
  <nop next="talk" test="again"/>
  <nop><action><assign assign_to="xfer" value="1"/></action></nop>
  <pause milliseconds="8000"/>
  <send retrans="500"><![CDATA[
REFER [$remote_contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[$cid]-refer
From: [$local_party];tag=[pid]SIPpTag01-[$cid]
To: [$remote_party]
Call-ID: [call_id]
CSeq: 2 REFER
Contact: <sip:[local_ip]:[local_port]>
Refer-To: <sip:102@[remote_ip]:[remote_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="202"/>
  <label id="after_refer"/>
  <recv request="NOTIFY" optional="true" next="notify"/>
  <recv request="BYE"/>
  <send next="done"><![CDATA[
` + sipOK + `]]></send>
  <label id="notify"/>
  <send next="after_refer"><![CDATA[
` + sipOK + `]]></send>
  <label id="talk"/>
`

// An agent who answers a queued call and blind-transfers it: the record says
// transferred, with the agent who took it first.
func TestAgentBlindTransfer(t *testing.T) {
	e := need(t)
	shipped, err := os.ReadFile(filepath.Join(e.repo, "deploy/sipp/agent.xml"))
	if err != nil {
		t.Fatal(err)
	}
	ack := `<recv request="ACK" rtd="true" crlf="true"/>` + "\n"
	talk := `timeout="20000"`
	xml := string(shipped)
	if !strings.Contains(xml, ack) || !strings.Contains(xml, talk) {
		t.Fatal("deploy/sipp/agent.xml changed shape: no ACK step or talk timeout to build the transferring agent on")
	}
	xml = strings.Replace(xml, ack, ack+transferTalk, 1)
	xml = strings.Replace(xml, talk, `timeout="3000"`, 1)
	xml = strings.Replace(xml, `<scenario name="agent">`, `<scenario name="agent">`+"\n  <Global variables=\"xfer\"/>", 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "transfer.xml")
	os.WriteFile(path, []byte(xml), 0o644)

	// The transferring phones take the three agents' registrations over; the usual
	// phones come back after.
	e.agents.stop()
	port := freeUDP()
	phones, err := e.spawn("transfer-agents", filepath.Join(dir, "sipp.log"), nil, "sipp", e.sipAddr(),
		"-sf", filepath.Join(e.repo, "deploy/sipp/agents.xml"), "-oocsf", path,
		"-inf", filepath.Join(e.repo, "deploy/sipp/agents.csv"), "-m", "3", "-l", "3", "-r", "10", "-aa",
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(nextMediaPort()), "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		phones.stop()
		if err := e.startAgents(agentTalk); err != nil {
			t.Fatal(err)
		}
	})
	if err := e.awaitContacts(fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		t.Fatal(err)
	}

	c := e.place(t, caller(t, "anonymous", pause(afterWelcome), keys("42#"), awaitBye()), "2000", 1)[0]
	c.want(t, "IDV_STATUS=IDENTIFIED", "IDV_CUSTOMER_ID=42")
	r := e.record(t, e.webAddr, c, queued)
	if r.QueueResult != "transferred" || !strings.HasPrefix(r.Agent, "PJSIP/agent") || r.TalkMS == nil {
		t.Errorf("transferred call recorded as %+v", r)
	}
}
