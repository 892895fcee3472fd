package agi_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/agi"
	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/flow"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type oneLine struct{ l *flow.Line }

func (o oneLine) ResolveLine(string, string, string) (*flow.Line, error) { return o.l, nil }

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, *flow.Interaction) error { return nil }

func startServer(t *testing.T) (string, *lockedBuffer, *agi.Server) {
	t.Helper()
	logs := &lockedBuffer{}
	srv := &agi.Server{
		Runner: &flow.Runner{Recorder: nopRecorder{}},
		Lines:  oneLine{&flow.Line{Name: "default"}},
		Log:    zerolog.New(logs),
		NewID:  func() string { return "01TEST" },
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return ln.Addr().String(), logs, srv
}

// TestMalformedEnvironment: a peer that is not Asterisk gets the connection closed and a
// log line that says why; the server keeps serving.
func TestMalformedEnvironment(t *testing.T) {
	addr, logs, _ := startServer(t)
	for _, garbage := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "agi_request agi://x/idv\n\n", "\x16\x03\x01\x02\x00\x01\x00\n\n"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, garbage)
		// The server must close the connection without sending a command.
		rest, _ := io.ReadAll(conn)
		conn.Close()
		if len(rest) != 0 {
			t.Errorf("server sent %q to a peer with a bad environment", rest)
		}
	}
	if n := strings.Count(logs.String(), "bad environment"); n != 3 {
		t.Errorf("%d log lines about a bad environment, want 3:\n%s", n, logs)
	}
}

// TestShutdownCutsCalls: a call whose Asterisk stops answering is cut by Shutdown's
// deadline; the connection is closed and Shutdown says so.
func TestShutdownCutsCalls(t *testing.T) {
	addr, _, srv := startServer(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "agi_network: yes\nagi_network_script: idv\nagi_request: agi://x/idv\n\n")
	r := bufio.NewReader(conn)
	if cmd, err := r.ReadString('\n'); err != nil || cmd != "ANSWER\n" {
		t.Fatalf("first command %q, %v; want ANSWER", cmd, err)
	}
	// The call is in progress and Asterisk never replies.
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no grace: cut at once
	if err := srv.Shutdown(ctx); err != context.Canceled {
		t.Errorf("Shutdown = %v, want context.Canceled after cutting the call", err)
	}
	var sent []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("connection still open after shutdown: %v", err)
			}
			break // EOF or reset: closed
		}
		sent = append(sent, strings.TrimSpace(l))
	}
	if len(sent) == 0 || sent[len(sent)-1] != "FAILURE" {
		t.Errorf("after the cut idv sent %q, want FAILURE last so the dialplan falls back", sent)
	}
}

type captured struct {
	mu  sync.Mutex
	ins []flow.Interaction
}

func (c *captured) Record(_ context.Context, in *flow.Interaction) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ins = append(c.ins, *in)
	return nil
}

// TestSilentAsteriskDoesNotHoldTheCall: an Asterisk that stops answering mid-call costs a
// goroutine only until the reply timeout; the record says what happened.
func TestSilentAsteriskDoesNotHoldTheCall(t *testing.T) {
	logs := &lockedBuffer{}
	rec := &captured{}
	srv := &agi.Server{
		Runner:   &flow.Runner{Recorder: rec},
		Lines:    oneLine{&flow.Line{Name: "default"}},
		Timeouts: agi.Timeouts{Reply: 50 * time.Millisecond},
		Log:      zerolog.New(logs),
		NewID:    func() string { return "01SILENT" },
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "agi_network: yes\nagi_network_script: idv\nagi_request: agi://x/idv\n\n")
	// Read whatever idv sends, never answer; idv must give up and close the connection.
	sent, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(sent), "ANSWER\n") {
		t.Errorf("idv sent %q", sent)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	last := rec.ins[len(rec.ins)-1]
	if last.Reason != flow.ReasonHangup || last.Ended.IsZero() {
		t.Errorf("record %s ended %v, want HANGUP and closed", last.Reason, last.Ended)
	}
	if !strings.Contains(logs.String(), "no reply to ANSWER within 50ms") {
		t.Errorf("log does not say Asterisk went silent:\n%s", logs)
	}
}

// TestAllowList: a peer outside agi.allow is closed at once and logged.
func TestAllowList(t *testing.T) {
	logs := &lockedBuffer{}
	srv := &agi.Server{Runner: &flow.Runner{Recorder: nopRecorder{}}, Lines: oneLine{&flow.Line{Name: "default"}},
		Log: zerolog.New(logs), NewID: func() string { return "01X" }, Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "agi_network: yes\nagi_request: agi://x/idv\n\n")
	got, _ := io.ReadAll(conn)
	conn.Close()
	if len(got) != 0 || !strings.Contains(logs.String(), "peer not in agi.allow") {
		t.Errorf("sent %q; log:\n%s", got, logs)
	}
}

type agentsFunc func(ctx context.Context, interaction, agent string) error

func (f agentsFunc) AgentConnected(ctx context.Context, interaction, agent string) error {
	return f(ctx, interaction, agent)
}

// The queue member gosub's /agent script: its log line names the caller's interaction, and
// only that one (the agent's channel has no interaction of its own).
func TestAgentConnectLogsTheCallersInteraction(t *testing.T) {
	logs := &lockedBuffer{}
	connected := make(chan string, 1)
	srv := &agi.Server{
		Runner: &flow.Runner{Recorder: nopRecorder{}},
		Lines:  oneLine{&flow.Line{Name: "default"}},
		Log:    zerolog.New(logs),
		NewID:  func() string { return "01NEWID" },
		Agents: agentsFunc(func(_ context.Context, id, agent string) error { connected <- id + " " + agent; return nil }),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	vars := map[string]string{"IDV_INTERACTION": "01CALLER"}
	if _, err := (agitest.Caller{Script: "agent", Channel: "PJSIP/agent1-00000007", Vars: vars}).Call(context.Background(), ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if got := <-connected; got != "01CALLER PJSIP/agent1" {
		t.Errorf("agent connected: %q", got)
	}
	srv.Shutdown(context.Background())
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, "01NEWID") || strings.Count(line, `"interaction"`) > 1 {
			t.Errorf("log line %s", line)
		}
	}
	if !strings.Contains(logs.String(), `"interaction":"01CALLER"`) {
		t.Errorf("no log line names the caller's interaction:\n%s", logs)
	}
}
