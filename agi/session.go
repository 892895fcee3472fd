package agi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/idv-project/idv/flow"
)

// Timeouts bound every wait on Asterisk, so that a dead peer never holds a goroutine.
type Timeouts struct {
	// Env bounds the arrival of the environment block.
	Env time.Duration
	// Reply bounds the reply to a command that does not wait on the caller.
	Reply time.Duration
	// Playback bounds STREAM FILE (the longest prompt).
	Playback time.Duration
	// Queue bounds EXEC Queue: the caller's wait and talk with an agent.
	Queue time.Duration
	// Write bounds sending a command.
	Write time.Duration
}

// DefaultTimeouts are used for zero fields.
var DefaultTimeouts = Timeouts{Env: 10 * time.Second, Reply: 10 * time.Second,
	Playback: 120 * time.Second, Queue: 8 * time.Hour, Write: 10 * time.Second}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	if t.Env > 0 {
		d.Env = t.Env
	}
	if t.Reply > 0 {
		d.Reply = t.Reply
	}
	if t.Playback > 0 {
		d.Playback = t.Playback
	}
	if t.Queue > 0 {
		d.Queue = t.Queue
	}
	if t.Write > 0 {
		d.Write = t.Write
	}
	return d
}

// Session is one FastAGI connection: the environment Asterisk sent and the AGI commands,
// with deadlines, hang-up tracking and sanitised variables. It implements flow.Call.
//
// The command lines are the bytes github.com/zaf/agi v1.3.0 sends for the same commands
// (its fmt verbs: %q is strconv.AppendQuote; CR and LF become spaces), and replies are
// parsed as its parseResponse parses them (commands_test.go holds both to it), but a
// command is formatted into a buffer the session keeps and its reply parsed where the
// socket's read buffer holds it: no fmt, no string per command.
type Session struct {
	Env     Env
	Request Request

	conn     net.Conn
	ctx      context.Context // cancelled when the server cuts the call
	replies  *replyReader
	cmd      []byte // the command line being sent, reused from command to command
	cmdBuf   [128]byte
	timeouts Timeouts
	// OnPromptFailed is told when Asterisk could not play a prompt on a live channel
	// (usually a missing sound file); the flow carries on.
	OnPromptFailed func(prompt string)
	// OnCommand, when set, is told each command's round trip.
	OnCommand func(command string, took time.Duration)
	// broken is why the connection can carry no more commands, nil while it can.
	broken error
	// violation is the reply that broke the protocol beyond repair (too long, or with no
	// command outstanding): no command is sent after it, and the server answers FAILURE.
	violation *ProtocolError
	// failed says FAILURE was sent.
	failed bool
}

// replyBuffer is the read buffer of a call's replies: Asterisk's replies to idv's
// commands are a few tens of bytes (GET VARIABLE's up to about a kilobyte, read in
// pieces); a call holds it as long as it lasts.
const replyBuffer = 512

// envReaders are the read buffers of environments (maxEnvLine), used while a call's
// environment is read and then handed on to the next call.
var envReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, maxEnvLine) }}

// newSession reads the environment from conn and prepares the command channel.
func newSession(ctx context.Context, conn net.Conn, t Timeouts) (*Session, error) {
	br := envReaders.Get().(*bufio.Reader)
	br.Reset(conn)
	keep := false // the call keeps br when more than the environment came
	defer func() {
		if !keep {
			br.Reset(nil)
			envReaders.Put(br)
		}
	}()
	if err := conn.SetReadDeadline(time.Now().Add(t.Env)); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil { // checked after the deadline is set: see do
		return nil, err
	}
	env, err := ReadEnv(br)
	if err != nil {
		return nil, err
	}
	req, err := env.ParseRequest()
	if err != nil {
		return nil, err
	}
	// Nothing came after the environment (as it should be): the replies get a buffer of
	// their own size. Otherwise the reader keeps what came, for expect to find it out of
	// step.
	r, keep := br, br.Buffered() > 0
	if !keep {
		r = bufio.NewReaderSize(conn, replyBuffer)
	}
	replies := &replyReader{r: r, waiting: unreadOn(conn)}
	s := &Session{Env: env, Request: req, conn: conn, ctx: ctx, timeouts: t, replies: replies}
	s.cmd = s.cmdBuf[:0]
	return s, nil
}

// ErrShutdown ends a call that idv's shutdown deadline cut: not a hang-up, the caller is
// still there, and Asterisk's dialplan fallback takes the call (idv answers FAILURE).
var ErrShutdown = errors.New("call cut by idv's shutdown deadline; the dialplan fallback takes it")

// connLost is a failure of the connection to Asterisk; the call is gone for us.
type connLost struct{ err error }

func (e connLost) Error() string        { return "connection to asterisk lost: " + e.err.Error() }
func (e connLost) Unwrap() error        { return e.err }
func (e connLost) Is(target error) bool { return target == flow.ErrHangup }

// ProtocolError is a reply that breaks the AGI protocol (510, 520, malformed lines).
// Its message quotes at most maxPeerText bytes of what the peer sent: it goes into the
// log and the interaction record.
type ProtocolError struct {
	Command string
	Err     error
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("agi %s: %s", e.Command, clip(e.Err.Error(), maxPeerText))
}
func (e *ProtocolError) Unwrap() error { return e.Err }

// do sends the command line in s.cmd (see command) with deadlines and classifies its
// error. The reply is awaited until the reply timeout plus wait, or ctx's deadline if
// sooner; when ctx ends first the command is abandoned, and with it the connection,
// since Asterisk's late reply would answer the next command. The reply's Dat is valid
// until the next command.
func (s *Session) do(ctx context.Context, name string, wait time.Duration) (reply, error) {
	if s.violation != nil {
		// Replies no longer match their commands: nothing more is sent.
		return reply{}, &ProtocolError{Command: name, Err: fmt.Errorf("not sent after %w", s.violation)}
	}
	if s.broken != nil {
		// The connection was lost or a command abandoned: nothing more gets through, and
		// the first cause is the one worth reporting.
		return reply{}, connLost{fmt.Errorf("%s not sent: %w", name, s.broken)}
	}
	r, err := s.send(ctx, name, wait)
	if err != nil {
		s.classify(err)
	}
	return r, err
}

// classify remembers an error that ends the connection or the protocol. (Apart from do,
// so that its targets are not allocated for every command.)
func (s *Session) classify(err error) {
	var lost connLost
	var pe *ProtocolError
	var se *streamError
	switch {
	case errors.As(err, &lost):
		s.broken = lost.err
	case errors.As(err, &pe) && errors.As(err, &se):
		s.violation = pe
	}
}

func (s *Session) send(ctx context.Context, name string, wait time.Duration) (reply, error) {
	now := time.Now()
	deadline := now.Add(s.timeouts.Reply + wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := s.conn.SetWriteDeadline(now.Add(s.timeouts.Write)); err != nil {
		return reply{}, connLost{err}
	}
	if err := s.conn.SetReadDeadline(deadline); err != nil {
		return reply{}, connLost{err}
	}
	// A cut (server shutdown) sets a past deadline after cancelling s.ctx; checking it
	// only now makes sure the deadlines just set cannot undo it.
	if s.ctx.Err() != nil {
		return reply{}, ErrShutdown
	}
	if err := ctx.Err(); err != nil {
		return reply{}, fmt.Errorf("agi %s: %w", name, err)
	}
	if done := ctx.Done(); done != nil && done != s.ctx.Done() {
		stop := context.AfterFunc(ctx, s.cut)
		defer func() {
			if !stop() && s.broken == nil {
				// ctx ended while the command ran: the cut has landed or will land on
				// the next command, so the connection is done.
				s.broken = fmt.Errorf("%s abandoned: %w", name, context.Cause(ctx))
			}
		}()
	}
	// Anything Asterisk sent since the last reply is read before the command goes out: a
	// reply with none outstanding would be taken for this command's.
	err := s.replies.expect()
	var r reply
	if err == nil {
		r, err = s.roundTrip()
		if s.OnCommand != nil {
			s.OnCommand(name, time.Since(now))
		}
	}
	if err != nil && s.ctx.Err() != nil {
		return r, ErrShutdown
	}
	if err != nil && ctx.Err() != nil {
		return r, connLost{fmt.Errorf("%s abandoned: %w", name, ctx.Err())}
	}
	switch {
	case err == nil && s.replies.hungUp:
		// The command ran (Asterisk still runs some on a dead channel) but the caller is gone.
		return r, fmt.Errorf("agi %s: HANGUP notification: %w", name, flow.ErrHangup)
	case err == nil:
		return r, nil
	case strings.HasPrefix(err.Error(), "command not permitted on a dead channel"):
		return r, fmt.Errorf("agi %s: %w (511)", name, flow.ErrHangup)
	case errors.Is(err, io.EOF), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, net.ErrClosed),
		isNetError(err):
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("no reply to %s within %s", name, s.timeouts.Reply+wait)
		}
		return r, connLost{err}
	}
	return r, &ProtocolError{Command: name, Err: err}
}

// roundTrip writes the command line and reads and parses its reply, as zaf/agi's sendMsg
// does (whose check for bytes buffered before the command is expect's, earlier).
func (s *Session) roundTrip() (reply, error) {
	if _, err := s.conn.Write(s.cmd); err != nil {
		return reply{}, err
	}
	line, err := s.replies.readLine()
	if err != nil {
		return reply{}, err
	}
	return parseReply(line)
}

// command starts the command line in s.cmd with its name; the arg methods add its
// arguments and do ends it.
func (s *Session) command(name string) *Session {
	s.cmd = append(s.cmd[:0], name...)
	return s
}

// quoted adds " %q".
func (s *Session) quoted(arg string) *Session {
	s.cmd = strconv.AppendQuote(append(s.cmd, ' '), arg)
	return s
}

// raw adds " %s" (zaf/agi's %v of a string).
func (s *Session) raw(arg string) *Session {
	s.cmd = append(append(s.cmd, ' '), arg...)
	return s
}

// number adds " %d".
func (s *Session) number(n int) *Session {
	s.cmd = strconv.AppendInt(append(s.cmd, ' '), int64(n), 10)
	return s
}

// quotedNumber adds " \"%d\"".
func (s *Session) quotedNumber(n int) *Session {
	s.cmd = append(strconv.AppendInt(append(s.cmd, ' ', '"'), int64(n), 10), '"')
	return s
}

// line ends the command line: CR and LF anywhere become spaces, as zaf/agi makes them
// (%q never leaves one, an unquoted argument might), and a newline ends it.
func (s *Session) line() {
	for i, c := range s.cmd {
		if c == '\r' || c == '\n' {
			s.cmd[i] = ' '
		}
	}
	s.cmd = append(s.cmd, '\n')
}

// cut ends any read or write on the connection at once.
func (s *Session) cut() { s.conn.SetDeadline(time.Unix(1, 0)) }

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// Answer implements flow.Call.
func (s *Session) Answer(ctx context.Context) error {
	s.command("ANSWER").line()
	r, err := s.do(ctx, "ANSWER", 0)
	if err == nil && r.Res < 0 {
		return fmt.Errorf("agi ANSWER: result %d: %w", r.Res, flow.ErrHangup)
	}
	return err
}

// Play implements flow.Call. A prompt Asterisk cannot play on a live channel (result -1
// while CHANNEL STATUS still answers) is reported to OnPromptFailed and skipped.
func (s *Session) Play(ctx context.Context, prompt, escape string) (rune, error) {
	s.command("STREAM FILE").quoted(prompt).quoted(escape).line()
	r, err := s.do(ctx, "STREAM FILE", s.timeouts.Playback)
	if err != nil {
		return 0, err
	}
	if r.Res < 0 {
		if err := s.probe(ctx); err != nil {
			return 0, err
		}
		if s.OnPromptFailed != nil {
			s.OnPromptFailed(prompt)
		}
		return 0, nil
	}
	return keyOf(r.Res), nil
}

// SayDigits implements flow.Call: SAY DIGITS, one digit at a time (zaf/agi's SAY DIGITS
// takes the digits as a number, which would drop a leading zero).
func (s *Session) SayDigits(ctx context.Context, digits, escape string) (rune, error) {
	for _, d := range digits {
		if d < '0' || d > '9' {
			continue
		}
		s.command("SAY DIGITS").quotedNumber(int(d - '0')).quoted(escape).line()
		r, err := s.do(ctx, "SAY DIGITS", s.timeouts.Playback)
		if err != nil {
			return 0, err
		}
		if r.Res < 0 {
			return 0, s.probe(ctx)
		}
		if key := keyOf(r.Res); key != 0 {
			return key, nil
		}
	}
	return 0, nil
}

// probe tells a hang-up from another failure: on a dead channel CHANNEL STATUS is
// refused with 511.
func (s *Session) probe(ctx context.Context) error {
	s.command("CHANNEL STATUS").line()
	_, err := s.do(ctx, "CHANNEL STATUS", 0)
	return err
}

// WaitDigit implements flow.Call.
func (s *Session) WaitDigit(ctx context.Context, timeout time.Duration) (rune, error) {
	ms := int(timeout / time.Millisecond)
	s.command("WAIT FOR DIGIT").number(ms).line()
	r, err := s.do(ctx, "WAIT FOR DIGIT", timeout)
	if err != nil {
		return 0, err
	}
	if r.Res < 0 {
		return 0, fmt.Errorf("agi WAIT FOR DIGIT: result -1: %w", flow.ErrHangup)
	}
	return keyOf(r.Res), nil
}

// keyOf maps a result to a DTMF key; anything else counts as no key.
func keyOf(res int) rune {
	if res > 0 && res < 128 && strings.ContainsRune("0123456789*#ABCD", rune(res)) {
		return rune(res)
	}
	return 0
}

// MaxVariableLen caps what idv writes into a channel variable, in runes.
const MaxVariableLen = 128

// SanitizeValue makes a value safe for SET VARIABLE and for the dialplan that reads it:
// no quotes, backslashes, CR/LF or other control characters, valid UTF-8, at most
// MaxVariableLen runes.
func SanitizeValue(v string) string {
	return string(appendSanitized(make([]byte, 0, len(v)), v))
}

// appendSanitized appends SanitizeValue(v) to dst.
func appendSanitized(dst []byte, v string) []byte {
	start, n := len(dst), 0
	for _, c := range v { // an invalid byte is utf8.RuneError, dropped below
		switch {
		case c == '"' || c == '\\' || c == '`':
			c = '\''
		case c == '\t' || c == '\r' || c == '\n':
			c = ' '
		case unicode.IsControl(c) || c == utf8.RuneError || unicode.Is(unicode.Cf, c):
			continue
		}
		if n == MaxVariableLen {
			break
		}
		dst = utf8.AppendRune(dst, c)
		n++
	}
	trimmed := bytes.TrimSpace(dst[start:])
	return dst[:start+copy(dst[start:], trimmed)]
}

// SetVariable implements flow.Call: the variable is set with the "__" prefix so that it
// reaches the agent's channel, and its value is sanitised. After a hang-up Asterisk still
// sets it, and SetVariable reports the hang-up.
func (s *Session) SetVariable(ctx context.Context, name, value string) error {
	// %q of "__"+name, without building that string: the quote, "__", then name's
	// quoting without its opening quote (a rune's quoting does not depend on the runes
	// before it).
	s.command("SET VARIABLE")
	s.cmd = append(s.cmd, ` "__`...)
	n := len(s.cmd)
	s.cmd = strconv.AppendQuote(s.cmd, name)
	s.cmd = append(s.cmd[:n], s.cmd[n+1:]...)
	s.cmd = append(appendSanitized(append(s.cmd, ' ', '"'), value), '"')
	s.line()
	_, err := s.do(ctx, "SET VARIABLE", 0)
	return err
}

// SetLanguage implements flow.Call with SET VARIABLE CHANNEL(language).
func (s *Session) SetLanguage(ctx context.Context, lang string) error {
	s.command("SET VARIABLE").quoted("CHANNEL(language)")
	s.cmd = append(appendSanitized(append(s.cmd, ' ', '"'), lang), '"')
	s.line()
	_, err := s.do(ctx, "SET VARIABLE", 0)
	return err
}

// Variable implements flow.Call. A value longer than Asterisk ever answers (1023 bytes)
// is a ProtocolError: it goes into records and logs, and no Asterisk sent it.
func (s *Session) Variable(ctx context.Context, name string) (string, bool, error) {
	r, value, err := s.getVariable(ctx, name)
	if err != nil {
		return "", false, err
	}
	return value, r.Res == 1, nil
}

// getVariable sends GET VARIABLE and returns its reply and value: Dat without the
// parentheses around it, as zaf/agi's GetVariable gives it.
func (s *Session) getVariable(ctx context.Context, name string) (reply, string, error) {
	s.command("GET VARIABLE").quoted(name).line()
	r, err := s.do(ctx, "GET VARIABLE", 0)
	dat := r.Dat
	if len(dat) > 0 {
		dat = bytes.TrimPrefix(dat, []byte("("))
		dat = bytes.TrimSuffix(dat, []byte(")"))
	}
	if len(dat) > maxVariable {
		return reply{}, "", &ProtocolError{Command: "GET VARIABLE",
			Err: fmt.Errorf("%s: a value of %d bytes, longer than Asterisk's %d", name, len(dat), maxVariable)}
	}
	return r, string(dat), err
}

// Queue implements flow.Call with EXEC Queue and returns QUEUESTATUS. A -1 result is
// the caller hanging up in the queue or after talking to an agent.
func (s *Session) Queue(ctx context.Context, args string) (string, error) {
	s.command("EXEC").raw("Queue").quoted(args).line()
	r, err := s.do(ctx, "EXEC Queue", s.timeouts.Queue)
	if err != nil && !errors.Is(err, flow.ErrHangup) {
		return "", err
	}
	if r.Res == -2 {
		return "", &ProtocolError{Command: "EXEC Queue", Err: errors.New("asterisk has no Queue application (app_queue not loaded)")}
	}
	// GET VARIABLE works on a dead channel: read QUEUESTATUS whether or not the caller left.
	_, status, verr := s.getVariable(ctx, "QUEUESTATUS")
	if verr != nil && !errors.Is(verr, flow.ErrHangup) {
		return "", verr
	}
	if err == nil && r.Res < 0 {
		err = fmt.Errorf("agi EXEC Queue: result -1: %w", flow.ErrHangup)
	}
	if err == nil {
		err = verr
	}
	return status, err
}

// Goto implements flow.Call with SET CONTEXT, SET EXTENSION and SET PRIORITY.
func (s *Session) Goto(ctx context.Context, context, extension, priority string) error {
	for _, st := range [...]struct{ name, arg string }{
		{"SET CONTEXT", context}, {"SET EXTENSION", extension}, {"SET PRIORITY", priority},
	} {
		s.command(st.name).quoted(st.arg).line()
		if _, err := s.do(ctx, st.name, 0); err != nil {
			return err
		}
	}
	return nil
}

// Fail ends the script with FAILURE, which Asterisk reports as AGISTATUS=FAILURE so the
// dialplan's fallback takes the call. It is sent once; later calls do nothing.
func (s *Session) Fail() error {
	if s.failed {
		return nil
	}
	s.failed = true
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.timeouts.Write)); err != nil {
		return err
	}
	_, err := io.WriteString(s.conn, "FAILURE\n")
	return err
}
