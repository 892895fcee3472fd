package app_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idv-project/idv/internal/testlog"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/agi"
	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/app"
	"github.com/idv-project/idv/flow"
)

// oneLine is a configuration of one line, the default.
var oneLine = flow.Lines{ByName: map[string]*flow.Line{flow.DefaultLine: {Name: flow.DefaultLine}}}

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
	logs := &testlog.Buffer{}
	rec := &captured{}
	srv, conn := dialCalls(t, "01SILENT", rec, logs, agi.Timeouts{Reply: 50 * time.Millisecond})
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

type agentsFunc func(ctx context.Context, interaction, agent string) error

func (f agentsFunc) AgentConnected(ctx context.Context, interaction, agent string) error {
	return f(ctx, interaction, agent)
}

// The queue member gosub's /agent script: its log line names the caller's interaction, and
// only that one (the agent's channel has no interaction of its own).
func TestAgentConnectLogsTheCallersInteraction(t *testing.T) {
	logs := &testlog.Buffer{}
	connected := make(chan string, 1)
	calls := &app.Calls{Log: zerolog.New(logs), NewID: func() string { return "01NEWID" }}
	calls.Use(&app.Rules{Runner: &flow.Runner{Recorder: &captured{}}, Lines: oneLine})
	mux := &agi.Mux{Log: zerolog.New(logs)}
	mux.Handle("idv", calls)
	mux.Handle("agent", &app.Agents{Log: zerolog.New(logs),
		Connect: agentsFunc(func(_ context.Context, id, agent string) error { connected <- id + " " + agent; return nil })})
	srv := &agi.Server{Handler: mux, Log: zerolog.New(logs)}
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

// TestPeerTextIsBoundedInLogAndRecord: a peer's garbage reply reaches the log and the
// interaction record's events only as a short quote: a 1 MB line ends the call before
// zaf/agi holds it, and an 8000-byte one is quoted in 200 bytes.
func TestPeerTextIsBoundedInLogAndRecord(t *testing.T) {
	for _, tc := range []struct{ name, reply, detail string }{
		{"a 1 MB line", strings.Repeat("x", 1<<20) + "\n", "agi ANSWER: reply line longer than 8192 bytes"},
		{"an 8000-byte line", "999 " + strings.Repeat("y", 8000) + "\n", "agi ANSWER: malformed or partial agi response: 999 yyy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &testlog.Buffer{}
			rec := &captured{}
			srv, conn := dialCalls(t, "01GARBAGE", rec, logs, agi.Timeouts{})
			io.WriteString(conn, "agi_network: yes\nagi_network_script: idv\nagi_callerid: anonymous\n\n")
			// Garbage to ANSWER, then a plain reply to every command until idv hangs up.
			r := bufio.NewReader(conn)
			for n := 0; ; n++ {
				cmd, err := r.ReadString('\n')
				if err != nil || cmd == "FAILURE\n" {
					break
				}
				if n == 0 {
					go io.WriteString(conn, tc.reply) // idv may stop reading it half way
				} else {
					io.WriteString(conn, "200 result=0\n")
				}
			}
			conn.Close()
			if err := srv.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(logs.String(), "\n") {
				if len(line) > 1024 {
					t.Errorf("a log line of %d bytes: %.300s…", len(line), line)
				}
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			found := false
			for _, in := range rec.ins {
				for _, ev := range in.Events {
					if len(ev.Detail) > 300 {
						t.Errorf("an event detail of %d bytes: %.300s…", len(ev.Detail), ev.Detail)
					}
					found = found || strings.HasPrefix(ev.Detail, tc.detail)
				}
			}
			if !found {
				t.Errorf("no event says %q; log:\n%.3000s", tc.detail, logs)
			}
		})
	}
}

// dialCalls serves the ID&V scripts with one line, recording into rec and logging into
// logs, and connects to it as Asterisk would, before the environment is sent.
func dialCalls(t *testing.T, id string, rec *captured, logs *testlog.Buffer, timeouts agi.Timeouts) (*agi.Server, net.Conn) {
	t.Helper()
	calls := &app.Calls{Log: zerolog.New(logs), NewID: func() string { return id }}
	calls.Use(&app.Rules{Runner: &flow.Runner{Recorder: rec}, Lines: oneLine})
	srv := &agi.Server{Handler: calls, Timeouts: timeouts, Log: zerolog.New(logs)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return srv, conn
}
