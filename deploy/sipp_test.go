package deploy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests run the shipped SIPp scenarios against stand-ins for Asterisk on loopback:
// sipp must parse every scenario and play it through. What Asterisk and idv make of the
// calls is the real-Asterisk suite's business (e2e/).

// hangGuard bounds a test that would otherwise hang on a lost datagram or a stuck sipp: it
// is no timing assertion, every step waits for an event.
const hangGuard = 60 * time.Second

func sippBinary(t *testing.T) string {
	t.Helper()
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sipp is not installed; .ci/run installs sip-tester")
		}
		t.Skip("sipp not installed (apt-get install sip-tester)")
	}
	return sipp
}

// freeUDPPort is a loopback UDP port nobody listens on at the moment.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sippRun is one sipp process of a test, in the test's directory (its logs land there).
type sippRun struct {
	name string
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
}

func startSIPp(t *testing.T, ctx context.Context, dir, name string, args ...string) *sippRun {
	t.Helper()
	r := &sippRun{name: name, done: make(chan error, 1)}
	r.cmd = exec.CommandContext(ctx, sippBinary(t), append(args, "-nostdin", "-trace_err")...)
	r.cmd.Dir = dir
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// wait waits for sipp to end and fails the test, with its errors, unless it succeeded.
func (r *sippRun) wait(t *testing.T) {
	t.Helper()
	if err := <-r.done; err != nil {
		t.Errorf("%s: %v\n%s\n%s", r.name, err, sippErrors(r.cmd.Dir, ""), tail(r.out.Bytes()))
	}
}

// sippErrors is what the *_errors.log files of a directory say, without the lines
// matching skip (a regexp; "" skips nothing).
func sippErrors(dir, skip string) string {
	logs, _ := filepath.Glob(filepath.Join(dir, "*_errors.log"))
	var b strings.Builder
	for _, l := range logs {
		text, _ := os.ReadFile(l)
		for _, line := range strings.SplitAfter(string(text), "\n") {
			if skip == "" || !regexp.MustCompile(skip).MatchString(line) {
				b.WriteString(line)
			}
		}
	}
	return b.String()
}

// The keys a caller scenario sends: the Signal= of each INFO, in order.
var signalRe = regexp.MustCompile(`(?m)^Signal=(.*)$`)

// loggedSignalRe finds them in pbxXML's log.
var loggedSignalRe = regexp.MustCompile(`Signal=(\S)`)

// pbxXML plays Asterisk for a caller scenario: it answers, takes the caller's keys (SIP
// INFO, each answered 200 and logged with -trace_logs), and hangs up once it has KEYS of
// them; a caller that hangs up first gets its 200. It checks each INFO's To tag (the
// caller must send [peer_tag_param]), Content-Type and body.
const pbxXML = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="pbx">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_party"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="local_party"/>
      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" assign_to="remote_contact"/>
      <assign assign_to="keys" value="0"/>
    </action>
  </recv>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=pbx[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:asterisk@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=pbx[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:asterisk@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=pbx 1 1 IN IP[local_ip_type] [local_ip]
` + sdpAudio + `]]></send>
  <recv request="ACK" crlf="true"/>
  <label id="wait"/>
  <nop next="hangup" test="done"/>
  <recv request="BYE" optional="true" next="caller_hung_up"/>
  <recv request="INFO">
    <action>
      <ereg regexp="tag=pbx" search_in="hdr" header="To:" check_it="true" assign_to="to_tag"/>
      <ereg regexp="application/dtmf-relay" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ctype"/>
      <ereg regexp="Signal=[0-9*#]\r?\nDuration=160" search_in="body" check_it="true" assign_to="body"/>
      <log message="[$to_tag] [$ctype] [$body]"/>
      <add assign_to="keys" value="1"/>
      <test assign_to="done" variable="keys" compare="greater_than_equal" value="KEYS"/>
    </action>
  </recv>
  <send next="wait"><![CDATA[
` + sipOK + `]]></send>
  <label id="hangup"/>
  <send retrans="500"><![CDATA[
BYE [$remote_contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: [$local_party];tag=pbx[call_number]
To: [$remote_party]
Call-ID: [call_id]
CSeq: 1 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" next="end"/>
  <label id="caller_hung_up"/>
  <send><![CDATA[
` + sipOK + `]]></send>
  <label id="end"/>
</scenario>
`

// TestSIPpCallers plays every caller scenario, one call each, against pbxXML: sipp parses
// it, the call completes, and the keys that arrive are the scenario's, in order.
func TestSIPpCallers(t *testing.T) {
	callers, _ := filepath.Glob("sipp/caller-*.xml")
	if len(callers) < 5 {
		t.Fatalf("only %d caller scenarios", len(callers))
	}
	for _, caller := range callers {
		t.Run(filepath.Base(caller), func(t *testing.T) {
			t.Parallel()
			scenario, err := os.ReadFile(caller)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, m := range signalRe.FindAllSubmatch(scenario, -1) {
				keys = append(keys, string(m[1]))
			}
			dir := t.TempDir()
			pbx := filepath.Join(dir, "pbx.xml")
			os.WriteFile(pbx, []byte(strings.Replace(pbxXML, "KEYS", strconv.Itoa(len(keys)), 1)), 0o644)
			caller, _ := filepath.Abs(caller)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			port := freeUDPPort(t)
			asterisk := startSIPp(t, ctx, dir, "pbx", "-sf", pbx, "-i", "127.0.0.1", "-p", strconv.Itoa(port),
				"-m", "1", "-trace_logs")
			// The INVITE is retransmitted until the stand-in listens.
			startSIPp(t, ctx, dir, "caller", fmt.Sprintf("127.0.0.1:%d", port), "-sf", caller, "-s", "1000",
				"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)), "-d", "50", "-m", "1", "-aa").wait(t)
			asterisk.wait(t)
			logs, _ := filepath.Glob(filepath.Join(dir, "pbx_*_logs.log"))
			var got []string
			for _, l := range logs {
				text, _ := os.ReadFile(l)
				for _, m := range loggedSignalRe.FindAllSubmatch(text, -1) {
					got = append(got, string(m[1]))
				}
			}
			if !slices.Equal(got, keys) {
				t.Errorf("keys received %q, the scenario sends %q", got, keys)
			}
		})
	}
}

// TestSIPpCallerMessages reads the caller scenarios: keys go as SIP INFO in the dialog
// (CSeq after CSeq, the To tag of the answer, each waiting for its 200), none from pcaps.
func TestSIPpCallerMessages(t *testing.T) {
	callers, _ := filepath.Glob("sipp/caller-*.xml")
	sendRe := regexp.MustCompile(`(?s)<send[^>]*><!\[CDATA\[\n(\w+) .*?\nCSeq: (\d+) (\w+)\n.*?\]\]></send>\s*(<recv[^>]*>)?`)
	for _, caller := range callers {
		b, err := os.ReadFile(caller)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if strings.Contains(s, "play_pcap") {
			t.Errorf("%s plays a pcap: a repeated RFC 2833 key keeps its RTP timestamp and Asterisk drops it", caller)
		}
		want := 1
		for _, m := range sendRe.FindAllStringSubmatch(s, -1) {
			method, cseq, cseqMethod, next := m[1], m[2], m[3], m[4]
			if method == "ACK" {
				if cseq != "1" || cseqMethod != "ACK" {
					t.Errorf("%s: ACK with CSeq %s %s", caller, cseq, cseqMethod)
				}
				continue
			}
			if cseq != strconv.Itoa(want) || cseqMethod != method {
				t.Errorf("%s: %s with CSeq %s %s, want %d %s", caller, method, cseq, cseqMethod, want, method)
			}
			want++
			if method == "INFO" {
				if !strings.Contains(m[0], "[peer_tag_param]") || !strings.Contains(m[0], "Content-Type: application/dtmf-relay") {
					t.Errorf("%s: INFO CSeq %s lacks the To tag or the dtmf-relay Content-Type", caller, cseq)
				}
				if next != `<recv response="200"/>` {
					t.Errorf("%s: INFO CSeq %s is followed by %q, not its 200", caller, cseq, next)
				}
			}
		}
		if want == 1 {
			t.Errorf("%s: no request read", caller)
		}
	}
}

// TestSIPpAgentPhones registers the agent phones (agents.xml, agents.csv) with a registrar
// written here, which checks their digests against pjsip.conf's passwords; then, as
// Asterisk would, it qualifies each contact (OPTIONS) and calls agent1, sending INFO and
// UPDATE in the call (answered by -aa) before hanging up: agent.xml, the out-of-call
// scenario, must answer all of it.
func TestSIPpAgentPhones(t *testing.T) {
	sippBinary(t)
	passwords := map[string]string{}
	for name, kvs := range confSections(t, "asterisk/pjsip.conf") {
		for _, kv := range kvs {
			if kv[0] == "password" {
				passwords[name] = kv[1]
			}
		}
	}
	dir := t.TempDir()
	agentXML, err := os.ReadFile("sipp/agent.xml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(agentXML, []byte(`timeout="20000"`)) {
		t.Fatal(`agent.xml lost its talk time timeout="20000", which run.sh rewrites`)
	}
	// The agent talks for an hour: here the caller's side hangs up.
	os.WriteFile(filepath.Join(dir, "agent.xml"), bytes.Replace(agentXML, []byte(`timeout="20000"`), []byte(`timeout="3600000"`), 1), 0o644)
	agents, _ := filepath.Abs("sipp/agents.xml")
	csv, _ := filepath.Abs("sipp/agents.csv")

	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	in := make(chan datagram)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				close(in)
				return
			}
			if m, ok := parseSIP(buf[:n]); ok {
				in <- datagram{m, from}
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	phones := startSIPp(t, ctx, dir, "agent phones", conn.LocalAddr().String(), "-sf", agents, "-oocsf", "agent.xml",
		"-inf", csv, "-m", "3", "-l", "3", "-r", "10", "-aa", "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)), "-trace_logs")
	next := func(what string) datagram {
		t.Helper()
		select {
		case d := <-in:
			return d
		case err := <-phones.done:
			t.Fatalf("the agent phones ended (%v) while the test waited for %s\n%s\n%s", err, what, sippErrors(dir, ""), tail(phones.out.Bytes()))
		case <-ctx.Done():
			t.Fatalf("no %s from the agent phones\n%s", what, sippErrors(dir, ""))
		}
		panic("unreachable")
	}

	// Registration: 401 with a challenge, then 200 for the right digest.
	const realm, nonce = "asterisk", "5f3a1c0e"
	contacts := map[string]*net.UDPAddr{}
	for len(contacts) < 3 {
		d := next("REGISTER")
		m := d.msg
		if m.method != "REGISTER" {
			t.Fatalf("got %s, want REGISTER:\n%s", m.start, m.raw)
		}
		user := sipUser(m.header("From"))
		auth := m.header("Authorization")
		if auth == "" {
			d.reply(t, conn, "401 Unauthorized", fmt.Sprintf(`WWW-Authenticate: Digest realm="%s",nonce="%s",opaque="1",algorithm=MD5,qop="auth"`, realm, nonce))
			continue
		}
		p := digestParams(auth)
		pass, known := passwords[p["username"]]
		if !known || p["username"] != user || p["realm"] != realm || p["nonce"] != nonce || p["response"] != digestResponse(p, pass, "REGISTER") {
			t.Fatalf("REGISTER of %s: wrong credentials for pjsip.conf (agents.csv must hold its passwords):\n%s", user, auth)
		}
		contact := regexp.MustCompile(`sip:[^@>]+@([^>;]+)`).FindStringSubmatch(m.header("Contact"))
		if contact == nil {
			t.Fatalf("REGISTER of %s without a contact:\n%s", user, m.raw)
		}
		addr, err := net.ResolveUDPAddr("udp", contact[1])
		if err != nil {
			t.Fatal(err)
		}
		contacts[user] = addr
		d.reply(t, conn, "200 OK", fmt.Sprintf("Contact: %s;expires=3600", m.header("Contact")))
	}
	for _, a := range []string{"agent1", "agent2", "agent3"} {
		if contacts[a] == nil {
			t.Fatalf("%s did not register (registered: %v)", a, contacts)
		}
	}

	// Qualify: each contact answers OPTIONS.
	for user, addr := range contacts {
		callID := "qualify-" + user
		options := strings.NewReplacer("USER", user, "CONTACT", addr.String(), "US", conn.LocalAddr().String(), "CALLID", callID).Replace(
			"OPTIONS sip:USER@CONTACT SIP/2.0\r\nVia: SIP/2.0/UDP US;branch=z9hG4bK-CALLID\r\n" +
				"From: <sip:asterisk@US>;tag=CALLID\r\nTo: <sip:USER@CONTACT>\r\nCall-ID: CALLID\r\n" +
				"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
		if _, err := conn.WriteToUDP([]byte(options), addr); err != nil {
			t.Fatal(err)
		}
		for {
			d := next("the answer to OPTIONS")
			if d.msg.header("Call-ID") == callID {
				if d.msg.status != 200 {
					t.Errorf("%s answered OPTIONS with %s", user, d.msg.start)
				}
				break
			}
		}
	}

	// A call to agent1 with INFO and UPDATE in it, hung up by the caller's side.
	call := filepath.Join(dir, "call-agent.xml")
	os.WriteFile(call, []byte(callAgentXML), 0o644)
	startSIPp(t, ctx, dir, "call to agent1", contacts["agent1"].String(), "-sf", call, "-s", "agent1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)), "-m", "1").wait(t)

	phones.cmd.Process.Kill()
	<-phones.done
	if errs := strings.TrimSpace(sippErrors(dir, `using the out-of-call scenario|^The following events occurred:|^\s*$`)); errs != "" {
		t.Errorf("the agent phones logged errors:\n%s", errs)
	}
	registered, _ := filepath.Glob(filepath.Join(dir, "agents_*_logs.log"))
	if len(registered) != 1 {
		t.Fatalf("agents.xml logged nothing with -trace_logs (run.sh waits for its lines): %v", registered)
	}
	if text, _ := os.ReadFile(registered[0]); strings.Count(string(text), "registered agent") != 3 {
		t.Errorf("agents.xml's log, which run.sh waits for:\n%s", text)
	}
}

// sdpAudio is the SDP of a call after its o= line: G.711 µ-law audio and RFC 2833 events.
const sdpAudio = "s=-\nc=IN IP[media_ip_type] [media_ip]\nt=0 0\nm=audio [media_port] RTP/AVP 0 101\n" +
	"a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n"

// sipOK answers the request just received, with no body: the INFO and BYE of a call.
const sipOK = "SIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n\n"

// callAgentXML calls an agent phone as Asterisk's Queue() would, sends INFO and UPDATE in
// the call, and hangs up.
const callAgentXML = callAgentAnswered + callAgentInCall

// callAgentWaitsXML calls an agent phone and waits for the agent to hang up.
const callAgentWaitsXML = callAgentAnswered + `  <recv request="BYE"/>
  <send><![CDATA[
` + sipOK + `]]></send>
</scenario>
`

// callAgentAnswered: the call up to the agent's answer and our ACK.
const callAgentAnswered = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="call-agent">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:caller@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:asterisk@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP[local_ip_type] [local_ip]
` + sdpAudio + `]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:caller@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
`

const callAgentInCall = `  <send retrans="500"><![CDATA[
INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:caller@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 INFO
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=5
Duration=160
]]></send>
  <recv response="200"/>
  <send retrans="500"><![CDATA[
UPDATE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:caller@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 UPDATE
Contact: <sip:asterisk@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
  <send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:caller@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 4 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
`

// TestSIPpAgentHangsUp: agent.xml hangs up itself when its talk time is over.
func TestSIPpAgentHangsUp(t *testing.T) {
	sippBinary(t)
	agentXML, err := os.ReadFile("sipp/agent.xml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	agent := filepath.Join(dir, "agent.xml")
	os.WriteFile(agent, bytes.Replace(agentXML, []byte(`timeout="20000"`), []byte(`timeout="100"`), 1), 0o644)
	// The call waits for the agent's BYE, however long the agent talks.
	call := filepath.Join(dir, "call-agent.xml")
	os.WriteFile(call, []byte(callAgentWaitsXML), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	port := freeUDPPort(t)
	phone := startSIPp(t, ctx, dir, "agent", "-sf", agent, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", "1", "-aa")
	startSIPp(t, ctx, dir, "call", fmt.Sprintf("127.0.0.1:%d", port), "-sf", call, "-s", "agent1", "-i", "127.0.0.1",
		"-p", strconv.Itoa(freeUDPPort(t)), "-m", "1").wait(t)
	phone.wait(t)
}

// sipMessage is a SIP request or response, as far as these tests read one.
type sipMessage struct {
	raw, start, method string
	status             int
	headers            [][2]string
}

func parseSIP(b []byte) (sipMessage, bool) {
	m := sipMessage{raw: string(b)}
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() {
		return m, false
	}
	m.start = strings.TrimSpace(sc.Text())
	if rest, ok := strings.CutPrefix(m.start, "SIP/2.0 "); ok {
		m.status, _ = strconv.Atoi(strings.Fields(rest)[0])
	} else {
		m.method, _, _ = strings.Cut(m.start, " ")
	}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m.headers = append(m.headers, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return m, m.start != ""
}

func (m sipMessage) header(name string) string {
	for _, h := range m.headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// datagram is a SIP message the registrar received, and where from.
type datagram struct {
	msg  sipMessage
	from *net.UDPAddr
}

// reply answers the request with a status ("401 Unauthorized") and extra header lines.
func (d datagram) reply(t *testing.T, conn *net.UDPConn, status string, extra ...string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %s\r\n", status)
	for _, h := range d.msg.headers {
		switch strings.ToLower(h[0]) {
		case "via", "from", "call-id", "cseq":
			fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
		case "to":
			fmt.Fprintf(&b, "To: %s;tag=registrar\r\n", h[1])
		}
	}
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	if _, err := conn.WriteToUDP([]byte(b.String()), d.from); err != nil {
		t.Fatal(err)
	}
}

func sipUser(h string) string {
	m := regexp.MustCompile(`sip:([^@>;]+)@`).FindStringSubmatch(h)
	if m == nil {
		return ""
	}
	return m[1]
}

func digestParams(h string) map[string]string {
	p := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+)=(?:"([^"]*)"|([^,\s]*))`).FindAllStringSubmatch(strings.TrimPrefix(h, "Digest "), -1) {
		p[m[1]] = m[2] + m[3]
	}
	return p
}

// digestResponse is RFC 2617's response for the parameters of an Authorization header.
func digestResponse(p map[string]string, password, method string) string {
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	ha1 := h(p["username"] + ":" + p["realm"] + ":" + password)
	ha2 := h(method + ":" + p["uri"])
	if p["qop"] != "" {
		return h(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":" + p["qop"] + ":" + ha2)
	}
	return h(ha1 + ":" + p["nonce"] + ":" + ha2)
}

// TestShellScriptsParse: bash reads the kit's scripts without a syntax error.
func TestShellScriptsParse(t *testing.T) {
	for _, f := range []string{"sipp/run.sh", "../sounds/generate.sh", "../.ci/run"} {
		if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		}
	}
	out, err := exec.Command("bash", "sipp/run.sh", "-h").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-t  how long agents talk") || !strings.Contains(string(out), "-p  the agent phones' SIP port") {
		t.Errorf("run.sh -h: %v\n%s", err, out)
	}
}

func tail(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}
