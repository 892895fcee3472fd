package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// ended is one call as the dialplan saw it at its end: the [idv-hangup] handler's line.
type ended struct {
	Channel string
	Vars    map[string]string // CALL_ID, IDV_*, AGISTATUS, QUEUESTATUS, LANGUAGE
}

var hangupLine = regexp.MustCompile(`NoOp\("([^"]+)", "idv-hangup: (.*)"\) in new stack`)

var runs atomic.Int32

// place runs a SIPp caller scenario n times to extension exten (one call at a time when
// n is 1) and returns each call's end as the dialplan saw it. The scenario must finish
// with no failed call.
func (e *environment) place(t *testing.T, scenario, exten string, n int, extra ...string) []ended {
	t.Helper()
	return e.placeWith(t, scenario, exten, n, nil, extra...)
}

// sippCaller is a SIPp caller while its one call lasts: where it takes SIP requests, and
// the call's Call-ID, so that a test can send it a request in the call (sendToCaller).
type sippCaller struct {
	addr, callID string
}

// placeDuring places one call, as place does, and runs during beside it: during learns
// something only the call makes (a one-time code) and tells the SIPp caller, whose
// scenario waits for it (a "code" step). An error from during fails the test.
func (e *environment) placeDuring(t *testing.T, scenario, exten string, during func(context.Context, sippCaller) error) ended {
	t.Helper()
	return e.placeWith(t, scenario, exten, 1, during)[0]
}

func (e *environment) placeWith(t *testing.T, scenario, exten string, n int, during func(context.Context, sippCaller) error, extra ...string) []ended {
	t.Helper()
	tag := fmt.Sprintf("e2e%d", runs.Add(1))
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	port := freeUDP()
	cid := tag + "-%u-%p@%s"
	if during != nil {
		cid = tag + "-1@127.0.0.1" // one call, whose Call-ID during must know
	}
	cmd := exec.CommandContext(ctx, "sipp", e.sipAddr(), "-sf", scenario, "-s", exten, "-m", strconv.Itoa(n), "-l", strconv.Itoa(n),
		"-r", "10", "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(nextMediaPort()),
		"-cid_str", cid, "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_stat", "-stf", filepath.Join(dir, "stat.csv"))
	cmd.Args = append(cmd.Args, extra...)
	cmd.Dir = dir
	duringErr := make(chan error, 1)
	if during != nil {
		go func() { duringErr <- during(ctx, sippCaller{addr: fmt.Sprintf("127.0.0.1:%d", port), callID: cid}) }()
	} else {
		duringErr <- nil
	}
	out, err := cmd.CombinedOutput()
	cancel() // during ends with the call
	if derr := <-duringErr; derr != nil {
		t.Errorf("during the call to %s: %v", exten, derr)
	}
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp %s to %s: %v\n%s\nerrors:\n%s", filepath.Base(scenario), exten, err, lastLines(string(out), 30), lastLines(string(errs), 30))
	}
	return e.hangups(t, tag, n)
}

// sendToCaller sends a SIP MESSAGE in the caller's call, with body as text: SIPp matches
// it to the call by its Call-ID, wherever it comes from. The caller does not answer it.
func sendToCaller(c sippCaller, body string) error {
	conn, err := net.Dial("udp", c.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := fmt.Sprintf("MESSAGE sip:caller@%[1]s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %[2]s;branch=z9hG4bK-e2e-%[3]d\r\n"+
		"From: <sip:e2e@%[2]s>;tag=e2e%[3]d\r\n"+
		"To: <sip:caller@%[1]s>\r\n"+
		"Call-ID: %[4]s\r\n"+
		"CSeq: 1 MESSAGE\r\n"+
		"Max-Forwards: 70\r\n"+
		"Content-Type: text/plain\r\n"+
		"Content-Length: %[5]d\r\n\r\n%[6]s", c.addr, local, time.Now().UnixNano(), c.callID, len(body), body)
	_, err = conn.Write([]byte(msg))
	return err
}

// hangups waits for the [idv-hangup] lines of n calls whose SIP Call-ID starts with tag.
func (e *environment) hangups(t *testing.T, tag string, n int) []ended {
	t.Helper()
	var got []ended
	_, err := awaitLog(e.ast.full, patience, nil, func(l string) bool {
		m := hangupLine.FindStringSubmatch(l)
		if m == nil {
			return false
		}
		c := ended{Channel: m[1], Vars: map[string]string{}}
		for _, kv := range strings.Fields(m[2]) {
			k, v, _ := strings.Cut(kv, "=")
			c.Vars[k] = v
		}
		if strings.HasPrefix(c.Vars["CALL_ID"], tag+"-") {
			got = append(got, c)
		}
		return len(got) == n
	})
	if err != nil {
		t.Fatalf("%d of %d calls %s ended in the dialplan: %v", len(got), n, tag, err)
	}
	return got
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// want checks channel variables the dialplan saw.
func (c ended) want(t *testing.T, vars ...string) {
	t.Helper()
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		if c.Vars[k] != v {
			t.Errorf("%s: %s=%q, want %q (all: %v)", c.Channel, k, c.Vars[k], v, c.Vars)
		}
	}
}

// record is an interaction as idv's web API gives it.
type record struct {
	ID          string     `json:"id"`
	Line        string     `json:"line"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason"`
	Method      string     `json:"method"`
	CustomerID  string     `json:"customer_id"`
	Attempts    string     `json:"attempts"`
	Route       string     `json:"route"`
	QueueStatus string     `json:"queue_status"`
	QueueResult string     `json:"queue_result"`
	Agent       string     `json:"agent"`
	WaitMS      *int64     `json:"wait_ms"`
	TalkMS      *int64     `json:"talk_ms"`
	Language    string     `json:"language"`
	Ended       *time.Time `json:"ended"`
	Timeline    []struct {
		Kind   string `json:"kind"`
		Name   string `json:"name"`
		Result string `json:"result"`
	} `json:"timeline"`
}

// record reads the interaction of a call from idv's web API at web, waiting until done
// says it is complete (the ARI observer writes the queue outcome after the call ends).
func (e *environment) record(t *testing.T, web string, c ended, done func(record) bool) record {
	t.Helper()
	id := c.Vars["IDV_INTERACTION"]
	if id == "" {
		t.Fatalf("%s: no IDV_INTERACTION (%v)", c.Channel, c.Vars)
	}
	deadline := time.Now().Add(patience)
	for {
		var r record
		err := httpJSON("http://"+web+"/api/interactions/"+id, &r)
		if err == nil && r.Ended != nil && (done == nil || done(r)) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("interaction %s never complete: %+v (%v)", id, r, err)
		}
		time.Sleep(50 * time.Millisecond) // polling for a write that follows the call's end
	}
}

// queued says the ARI observer has written the queue outcome.
func queued(r record) bool { return r.QueueResult != "" }

// step is one thing a generated caller does.
type step string

// Steps of a generated caller.
func pause(ms int) step  { return step(fmt.Sprintf("pause %d", ms)) }
func keys(k string) step { return step("keys " + k) }
func hangUp() step       { return "hangup" }
func awaitBye() step     { return "bye" }

// typeCode waits for a SIP MESSAGE in the call whose text holds "code=" and six digits
// (sendToCaller), pauses ms, then types the six digits, as a caller types a code that
// reached their phone during the call.
func typeCode(ms int) step { return step(fmt.Sprintf("code %d", ms)) }

// Timings of a generated caller. A key is lost when it arrives while a prompt that takes
// no keys plays (the welcome) or between two AGI commands; prompts that ask for keys
// take them at once. So a caller types its first entry well into the prompt after the
// welcome, and each later entry well into the next asking prompt.
const (
	afterWelcome = 3700 + 1500 // the English welcome (3.7 s), then 1.5 s into the next prompt
	nextEntry    = 7500        // a "wrong" prompt and the asking prompt again, both languages
)

// caller writes a SIPp caller scenario: INVITE from number (or anonymous), the steps,
// keys as SIP INFO (application/dtmf-relay), one request each.
func caller(t *testing.T, number string, steps ...step) string {
	t.Helper()
	from := fmt.Sprintf(`"Caller" <sip:%s@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]`, number)
	if number == "anonymous" {
		from = `"Anonymous" <sip:anonymous@anonymous.invalid>;tag=[pid]SIPpTag00[call_number]`
	}
	var b strings.Builder
	cseq := 1
	req := func(method, extraHeaders, body string) {
		cseq++
		fmt.Fprintf(&b, `  <send retrans="500"><![CDATA[
%s sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: %s
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: %d %s
Contact: <sip:[local_ip]:[local_port]>
Max-Forwards: 70
%sContent-Length: [len]

%s]]></send>
  <recv response="200"/>
`, method, from, cseq, method, extraHeaders, body)
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="e2e caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: %s
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: %s
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
`, from, from)
	for _, s := range steps {
		verb, arg, _ := strings.Cut(string(s), " ")
		switch verb {
		case "pause":
			fmt.Fprintf(&b, "  <pause milliseconds=%q/>\n", arg)
		case "keys":
			for _, k := range arg {
				req("INFO", "Content-Type: application/dtmf-relay\n", fmt.Sprintf("Signal=%c\nDuration=160\n", k))
				b.WriteString("  <pause milliseconds=\"400\"/>\n")
			}
		case "code":
			b.WriteString(`  <recv request="MESSAGE" timeout="60000">
    <action>
      <ereg regexp="code=([0-9])([0-9])([0-9])([0-9])([0-9])([0-9])" search_in="msg" check_it="true" assign_to="_,k1,k2,k3,k4,k5,k6"/>
    </action>
  </recv>
`)
			fmt.Fprintf(&b, "  <pause milliseconds=%q/>\n", arg)
			for i := 1; i <= 6; i++ {
				req("INFO", "Content-Type: application/dtmf-relay\n", fmt.Sprintf("Signal=[$k%d]\nDuration=160\n", i))
				b.WriteString("  <pause milliseconds=\"400\"/>\n")
			}
		case "hangup":
			req("BYE", "", "")
		case "bye":
			b.WriteString("  <recv request=\"BYE\"/>\n  <send><![CDATA[\n" + sipOK + "]]></send>\n")
		default:
			t.Fatalf("unknown step %q", s)
		}
	}
	b.WriteString("  <timewait milliseconds=\"2000\"/>\n</scenario>\n")
	path := filepath.Join(t.TempDir(), "caller.xml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sipOK answers the request just received, in a SIPp scenario.
const sipOK = `SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

`
