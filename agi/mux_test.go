package agi_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/idv-project/idv/internal/testlog"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/agi"
	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/flow"
)

// serveWith starts a server with h and returns its address.
func serveWith(t *testing.T, h agi.Handler, logs *testlog.Buffer) string {
	t.Helper()
	srv := &agi.Server{Handler: h, Log: zerolog.New(logs)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return ln.Addr().String()
}

// TestMuxRoutesByScript: each script reaches its own handler; a script nobody handles is
// answered FAILURE (AGISTATUS=FAILURE, the dialplan falls back) and logged with the
// scripts there are.
func TestMuxRoutesByScript(t *testing.T) {
	logs := &testlog.Buffer{}
	mux := &agi.Mux{Log: zerolog.New(logs)}
	reached := make(chan string, 2)
	for _, script := range []string{"idv", "agent"} {
		mux.Handle(script, agi.HandlerFunc(func(ctx context.Context, s *agi.Session) {
			reached <- script + " " + s.Request.Query.Get("line")
		}))
	}
	addr := serveWith(t, mux, logs)
	for _, c := range []agitest.Caller{{Script: "idv?line=retail"}, {Script: "agent"}} {
		if _, err := c.Call(context.Background(), addr); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := <-reached, <-reached; a != "idv retail" || b != "agent " {
		t.Errorf("handlers reached: %q, %q", a, b)
	}
	res, err := agitest.Caller{Script: "idvv"}.Call(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.AGIStatus != "FAILURE" {
		t.Errorf("unknown script: AGISTATUS %q, want FAILURE", res.AGIStatus)
	}
	if l := logs.String(); !strings.Contains(l, `"script":"idvv"`) || !strings.Contains(l, `"want":["agent","idv"]`) {
		t.Errorf("log does not name the unknown script and the known ones:\n%s", l)
	}
}

// TestPanickingHandlerFallsBack: a bug in a handler still hands the caller to the
// dialplan's fallback, and the log says where it panicked.
func TestPanickingHandlerFallsBack(t *testing.T) {
	logs := &testlog.Buffer{}
	addr := serveWith(t, agi.HandlerFunc(func(context.Context, *agi.Session) { panic("nil map in a handler") }), logs)
	res, err := agitest.Caller{}.Call(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if res.AGIStatus != "FAILURE" {
		t.Errorf("AGISTATUS %q after a panic, want FAILURE", res.AGIStatus)
	}
	if !strings.Contains(logs.String(), "nil map in a handler") {
		t.Errorf("log does not carry the panic:\n%s", logs)
	}
}

// TestSessionHonoursTheContext: a command run with a context that has ended is not sent,
// and one whose context ends while Asterisk has not answered is abandoned, with the
// context's error.
func TestSessionHonoursTheContext(t *testing.T) {
	done := make(chan error, 2)
	addr := serveWith(t, agi.HandlerFunc(func(ctx context.Context, s *agi.Session) {
		ended, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := s.Variable(ended, "IDV_STATUS")
		done <- err
		short, cancel := context.WithDeadline(ctx, time.Now()) // already past: no wait
		defer cancel()
		_, err = s.WaitDigit(short, time.Minute)
		done <- err
	}), &testlog.Buffer{})
	if _, err := (agitest.Caller{}).Call(context.Background(), addr); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("command under a cancelled context: %v, want context.Canceled", err)
	}
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, flow.ErrHangup) {
		t.Errorf("command past its context's deadline: %v, want the deadline", err)
	}
}

// TestAbandonedCommandEndsTheConnection: a command whose context ends while Asterisk has
// not answered is abandoned; the commands after it are not sent (Asterisk's late reply
// would answer them), and they say why.
func TestAbandonedCommandEndsTheConnection(t *testing.T) {
	cancels := make(chan context.CancelFunc, 1)
	errs := make(chan error, 2)
	addr := serveWith(t, agi.HandlerFunc(func(ctx context.Context, s *agi.Session) {
		cmdCtx, cancel := context.WithCancel(ctx)
		cancels <- cancel
		errs <- s.Answer(cmdCtx)
		errs <- s.SetVariable(ctx, "IDV_STATUS", "VERIFIED")
	}), &testlog.Buffer{})
	r := silentAsterisk(t, addr)
	(<-cancels)() // Asterisk never answers; the handler gives up on the command
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned ANSWER: %v, want context.Canceled", err)
	}
	if err := <-errs; err == nil || !strings.Contains(err.Error(), "not sent") || !strings.Contains(err.Error(), "ANSWER abandoned") {
		t.Errorf("command after the abandoned one: %v, want it not sent, naming the abandoned ANSWER", err)
	}
	rest, _ := io.ReadAll(r)
	if strings.Contains(string(rest), "SET VARIABLE") {
		t.Errorf("idv sent %q after abandoning a command", rest)
	}
}
