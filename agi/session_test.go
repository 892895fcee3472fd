package agi_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/agi"
	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/internal/testlog"
)

const envLines = "agi_network: yes\nagi_network_script: idv\nagi_request: agi://x/idv\nagi_channel: PJSIP/evil-00000001\n\n"

// counting is a listener whose connections count the bytes idv reads from them.
type counting struct {
	net.Listener
	read atomic.Int64
}

func (l *counting) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return &countingConn{Conn: c, read: &l.read}, err
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// serveOn serves h on ln with reply timeouts long enough never to be what ends a call
// here, and returns the address.
func serveOn(t *testing.T, ln net.Listener, h agi.Handler) string {
	t.Helper()
	srv := &agi.Server{Handler: h, Log: zerolog.New(&testlog.Buffer{}), Timeouts: agi.Timeouts{Reply: 5 * time.Second}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return ln.Addr().String()
}

// TestEndlessReplyEndsTheCall: a peer that answers ANSWER with bytes and no newline
// (zaf/agi would hold them all in memory until the reply timeout) ends the call with a
// ProtocolError once idv has read a reply line's cap (8 KiB) and one read buffer.
func TestEndlessReplyEndsTheCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &counting{Listener: ln}
	answered := make(chan error, 1)
	addr := serveOn(t, cl, agi.HandlerFunc(func(ctx context.Context, s *agi.Session) { answered <- s.Answer(ctx) }))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, envLines)
	if cmd, err := bufio.NewReader(conn).ReadString('\n'); cmd != "ANSWER\n" {
		t.Fatalf("first command %q, %v", cmd, err)
	}
	go func() {
		// 64 MiB with no newline: endless as far as idv should care. The writes fail
		// once idv closes the connection.
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 1024 {
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
	}()
	err = <-answered
	var pe *agi.ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "reply line longer than 8192 bytes") {
		t.Errorf("ANSWER = %v, want a ProtocolError for a reply line too long", err)
	}
	if n, most := cl.read.Load(), int64(len(envLines)+8192+4096); n > most {
		t.Errorf("idv read %d bytes before giving up; want at most %d", n, most)
	}
}

// fakeAsterisk connects to addr, sends first (the environment and whatever a test adds)
// and returns the connection and a reader of what idv sends.
func fakeAsterisk(t *testing.T, addr, first string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	io.WriteString(conn, first)
	return conn, bufio.NewReader(conn)
}

func expectLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	if got, err := r.ReadString('\n'); got != want {
		t.Fatalf("idv sent %q (%v), want %q", got, err, want)
	}
}

// rest is what idv sends until it closes the connection.
func rest(r *bufio.Reader) string {
	b, _ := io.ReadAll(r)
	return string(b)
}

// TestRepliesOutOfStepEndTheCall: a reply line with no command outstanding would be
// taken for the next command's reply, and every later reply for the command before it.
// The command that would take it fails with a ProtocolError and is not sent, nothing
// more is sent but FAILURE (the dialplan's fallback takes the caller).
func TestRepliesOutOfStepEndTheCall(t *testing.T) {
	type result struct {
		answer, variable error
		value            string
	}
	// call answers and reads a variable; between the two it tells Asterisk that it
	// works (answered) and waits for it (sent).
	call := func(answered, sent chan struct{}, results chan result) agi.Handler {
		return agi.HandlerFunc(func(ctx context.Context, s *agi.Session) {
			var r result
			r.answer = s.Answer(ctx)
			close(answered)
			<-sent
			r.value, _, r.variable = s.Variable(ctx, "X")
			results <- r
		})
	}
	outOfStep := func(t *testing.T, err error, quoted string) {
		t.Helper()
		var pe *agi.ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "reply with no command outstanding: "+quoted) {
			t.Errorf("err = %v, want a ProtocolError for a reply with no command outstanding: %s", err, quoted)
		}
	}

	t.Run("two replies to one command, in one write", func(t *testing.T) {
		answered, sent, results := make(chan struct{}), make(chan struct{}), make(chan result, 1)
		close(sent)
		conn, r := fakeAsterisk(t, serveWith(t, call(answered, sent, results), &testlog.Buffer{}), envLines)
		expectLine(t, r, "ANSWER\n")
		io.WriteString(conn, "200 result=0\n200 result=1 (stale)\n")
		if got := rest(r); got != "FAILURE\n" {
			t.Errorf("after the extra reply idv sent %q, want FAILURE alone", got)
		}
		res := <-results
		if res.answer != nil || res.value != "" {
			t.Errorf("ANSWER = %v, X = %q", res.answer, res.value)
		}
		outOfStep(t, res.variable, `"200 result=1 (stale)"`)
	})

	t.Run("a line sent while idv works between commands", func(t *testing.T) {
		answered, sent, results := make(chan struct{}), make(chan struct{}), make(chan result, 1)
		conn, r := fakeAsterisk(t, serveWith(t, call(answered, sent, results), &testlog.Buffer{}), envLines)
		expectLine(t, r, "ANSWER\n")
		io.WriteString(conn, "200 result=0\n")
		<-answered
		io.WriteString(conn, "200 result=1 (stale)\n")
		close(sent)
		if got := rest(r); got != "FAILURE\n" {
			t.Errorf("after the unasked line idv sent %q, want FAILURE alone", got)
		}
		res := <-results
		if res.answer != nil {
			t.Errorf("ANSWER = %v", res.answer)
		}
		outOfStep(t, res.variable, `"200 result=1 (stale)"`)
	})

	t.Run("a line sent with the environment, before any command", func(t *testing.T) {
		answered, sent, results := make(chan struct{}), make(chan struct{}), make(chan result, 1)
		close(sent)
		_, r := fakeAsterisk(t, serveWith(t, call(answered, sent, results), &testlog.Buffer{}), envLines+"200 result=0\n")
		if got := rest(r); got != "FAILURE\n" {
			t.Errorf("idv sent %q, want FAILURE alone (no ANSWER)", got)
		}
		res := <-results
		outOfStep(t, res.answer, `"200 result=0"`)
		if res.variable == nil {
			t.Errorf("GET VARIABLE went through after the call broke")
		}
	})

	t.Run("HANGUP between commands is no reply", func(t *testing.T) {
		answered, sent, results := make(chan struct{}), make(chan struct{}), make(chan result, 1)
		close(sent)
		conn, r := fakeAsterisk(t, serveWith(t, call(answered, sent, results), &testlog.Buffer{}), envLines)
		expectLine(t, r, "ANSWER\n")
		io.WriteString(conn, "200 result=0\nHANGUP\n")
		expectLine(t, r, "GET VARIABLE \"X\"\n")
		io.WriteString(conn, "200 result=1 (v)\n")
		if got := rest(r); got != "" {
			t.Errorf("idv sent %q after the call", got)
		}
		res := <-results
		if res.answer != nil || !errors.Is(res.variable, flow.ErrHangup) {
			t.Errorf("ANSWER = %v, GET VARIABLE = %v; want nil and a hang-up", res.answer, res.variable)
		}
	})
}

// TestVariableLongerThanAsteriskGives: Asterisk answers GET VARIABLE with at most 1023
// bytes of value (its buffer); a longer value, which would go into records and logs, is
// a ProtocolError of that command, and the call goes on.
func TestVariableLongerThanAsteriskGives(t *testing.T) {
	type result struct {
		value string
		err   error
	}
	results := make(chan result, 2)
	addr := serveWith(t, agi.HandlerFunc(func(ctx context.Context, s *agi.Session) {
		for range 2 {
			v, _, err := s.Variable(ctx, "X")
			results <- result{v, err}
		}
	}), &testlog.Buffer{})
	conn, r := fakeAsterisk(t, addr, envLines)
	longest := strings.Repeat("v", 1023)
	for _, value := range []string{longest + "v", longest} {
		expectLine(t, r, "GET VARIABLE \"X\"\n")
		io.WriteString(conn, "200 result=1 ("+value+")\n")
	}
	var pe *agi.ProtocolError
	if res := <-results; !errors.As(res.err, &pe) || res.value != "" || !strings.Contains(res.err.Error(), "a value of 1024 bytes") {
		t.Errorf("1024 bytes: %q, %v; want a ProtocolError", res.value, res.err)
	}
	if res := <-results; res.err != nil || res.value != longest {
		t.Errorf("1023 bytes: %d bytes, %v", len(res.value), res.err)
	}
}
