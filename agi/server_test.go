package agi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/internal/testlog"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/agi"
)

// answering is a handler that answers the call and waits for a key, as a flow begins.
var answering = agi.HandlerFunc(func(ctx context.Context, s *agi.Session) {
	if s.Answer(ctx) == nil {
		s.WaitDigit(ctx, time.Second)
	}
})

func startServer(t *testing.T) (string, *testlog.Buffer, *agi.Server) {
	t.Helper()
	logs := &testlog.Buffer{}
	srv := &agi.Server{Handler: answering, Log: zerolog.New(logs)}
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
	r := silentAsterisk(t, addr)
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

// TestAllowList: a peer outside agi.allow is closed at once and logged.
func TestAllowList(t *testing.T) {
	logs := &testlog.Buffer{}
	srv := &agi.Server{Handler: answering, Log: zerolog.New(logs), Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
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

// silentAsterisk starts a call as Asterisk would, reads idv's first command (ANSWER) and
// then never replies; idv's further lines can be read from the returned reader.
func silentAsterisk(t *testing.T, addr string) *bufio.Reader {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	io.WriteString(conn, "agi_network: yes\nagi_network_script: idv\nagi_request: agi://x/idv\n\n")
	r := bufio.NewReader(conn)
	if cmd, err := r.ReadString('\n'); err != nil || cmd != "ANSWER\n" {
		t.Fatalf("first command %q, %v; want ANSWER", cmd, err)
	}
	return r
}

// TestConnectionCap: with MaxConns calls in progress, the next connection is answered
// FAILURE (AGISTATUS=FAILURE: the dialplan's fallback takes the caller) and closed
// before its environment is read, and counted; the calls in progress go on, and once
// they end connections are served again. A flood of refusals is logged in a few lines
// whose "refused" counts add up to every refusal.
func TestConnectionCap(t *testing.T) {
	const maxConns, flood = 2, 50
	logs := &testlog.Buffer{}
	release := make(chan struct{})
	values := make(chan string, maxConns+1)
	var refused []string
	refusedCh := make(chan string, flood+1)
	srv := &agi.Server{Log: zerolog.New(logs), MaxConns: maxConns, OnRefused: func(reason string) { refusedCh <- reason },
		Handler: agi.HandlerFunc(func(ctx context.Context, s *agi.Session) {
			if s.Answer(ctx) != nil {
				return
			}
			<-release
			v, _, _ := s.Variable(ctx, "X")
			values <- v
		})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	addr := ln.Addr().String()

	// asterisk runs one call that answers ANSWER and GET VARIABLE.
	type call struct {
		conn net.Conn
		r    *bufio.Reader
	}
	dial := func() call {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		io.WriteString(conn, "agi_network: yes\nagi_network_script: idv\n\n")
		return call{conn, bufio.NewReader(conn)}
	}
	var held []call
	for range maxConns {
		c := dial()
		if cmd, err := c.r.ReadString('\n'); cmd != "ANSWER\n" {
			t.Fatalf("call in the cap: %q, %v", cmd, err)
		}
		io.WriteString(c.conn, "200 result=0\n")
		held = append(held, c)
	}
	for range flood {
		c := dial()
		if got, _ := io.ReadAll(c.r); string(got) != "FAILURE\n" {
			t.Fatalf("a call past the cap got %q, want FAILURE and the connection closed", got)
		}
		refused = append(refused, <-refusedCh)
	}
	if refused[0] != agi.RefusedFull || len(refused) != flood {
		t.Errorf("refusals counted: %v", refused)
	}
	close(release)
	for _, c := range held {
		if cmd, err := c.r.ReadString('\n'); cmd != "GET VARIABLE \"X\"\n" {
			t.Fatalf("a call in the cap was not served on: %q, %v", cmd, err)
		}
		io.WriteString(c.conn, "200 result=1 (served)\n")
		if v := <-values; v != "served" {
			t.Errorf("X = %q", v)
		}
		io.ReadAll(c.r) // the call ends; its connection is closed
	}
	c := dial()
	if cmd, err := c.r.ReadString('\n'); cmd != "ANSWER\n" {
		t.Errorf("after the calls ended, a new call got %q, %v", cmd, err)
	}
	c.conn.Close()

	lines, total := 0, 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "max_connections") {
			var entry struct{ Refused int }
			if err := json.Unmarshal([]byte(l), &entry); err != nil {
				t.Fatal(err)
			}
			lines++
			total += entry.Refused
		}
	}
	if total != flood || lines >= 10 {
		t.Errorf("%d log lines count %d refusals, want a few lines counting %d:\n%s", lines, total, flood, logs)
	}
}

// TestHealthCheckIsNoError: a TCP health check (connect, close) is logged at debug, not as
// a bad environment at error level every few seconds; the server keeps serving.
func TestHealthCheckIsNoError(t *testing.T) {
	addr, logs, srv := startServer(t)
	for i := range 3 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			conn.(*net.TCPConn).SetLinger(0) // a check that closes with a reset, as HAProxy's do
		}
		conn.Close()
	}
	// A call after the checks is served.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "agi_network: yes\nagi_request: agi://x/idv\nagi_channel: PJSIP/a-1\nagi_uniqueid: 1.1\n\n")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if line != "ANSWER\n" {
		t.Fatalf("after three health checks the server sent %q, want ANSWER", line)
	}
	srv.Shutdown(context.Background()) // every connection handled, and logged
	if strings.Contains(logs.String(), `"level":"error"`) || strings.Count(logs.String(), "before it sent anything") != 3 {
		t.Errorf("health checks logged as errors, or not at debug:\n%s", logs)
	}
}
