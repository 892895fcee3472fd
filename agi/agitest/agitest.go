// Package agitest is a stand-in for Asterisk that calls a FastAGI server exactly as
// Asterisk 22's res_agi.c does — agi_network and agi_* environment, the blank line,
// then one reply per command ("200 result=…", 510, 511, 520 usage blocks), the HANGUP
// notification after a hang-up and the dead-channel rules — and plays a scripted caller.
// It records every command, reply and variable so that tests can assert on them.
//
// The wire format follows res/res_agi.c and the transcripts of a real Asterisk in
// docs/agi.md: after the caller hangs up during a command, that
// command ends with result -1 and "HANGUP" is sent when the next command arrives, before
// its reply; a hang-up while the server is busy (HangupAfter) sends "HANGUP" at once.
package agitest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Caller describes the call: the channel's data and what the caller does.
type Caller struct {
	// Script is what follows the host in AGI(agi://host/SCRIPT), e.g. "idv?line=retail".
	Script string
	// Args are the AGI arguments (agi_arg_1…).
	Args []string
	// ANI is the caller number; "" sends "unknown" as Asterisk does when there is none.
	ANI          string
	CallerName   string
	Presentation int
	DNID         string
	Context      string
	Extension    string
	Channel      string
	Language     string
	UniqueID     string

	// Keys is what the caller types, in order. A digit, '*' or '#' is a key press; it
	// interrupts a STREAM FILE whose escape digits hold it (else the prompt plays to its
	// end and the key waits), and answers WAIT FOR DIGIT or feeds GET DATA. '.' is
	// silence: the next WAIT FOR DIGIT or GET DATA times out. '_' lets the next STREAM
	// FILE play to its end before the following keys are typed. '!' hangs up during the
	// next STREAM FILE, WAIT FOR DIGIT or GET DATA. When Keys runs out, the caller is
	// silent. "{name}" stands for keys known only during the call (a one-time code):
	// Expand gives them when the caller gets to them.
	Keys string
	// Expand, when set, gives the keys a "{name}" of Keys stands for.
	Expand func(name string) string
	// Keypad, when set, replaces Keys with a live caller: a key received during a STREAM
	// FILE whose escape digits hold it interrupts it, WAIT FOR DIGIT waits for a key up to
	// its timeout, and '!' hangs up.
	Keypad <-chan rune
	// OnPrompt, when set, is told when a prompt starts to play, in the channel's language.
	OnPrompt func(file, lang string)
	// HangupOnPrompt hangs up when this sound file starts playing.
	HangupOnPrompt string
	// HangupAfter hangs up right after the reply to a command for which it returns true,
	// while the server works (Asterisk sends HANGUP at once).
	HangupAfter func(c Command) bool
	// CloseAfter, when it returns true for a command, makes Asterisk close the connection
	// right after replying to it (a crash, a network cut).
	CloseAfter func(c Command) bool
	// Mangle, when set, may replace the reply to a command (a broken peer); "" keeps it.
	Mangle func(c Command) string
	// MissingPrompts are sound files Asterisk cannot find.
	MissingPrompts []string
	// Vars are channel variables set before the AGI runs.
	Vars map[string]string
	// QueueStatus is the QUEUESTATUS that EXEC Queue leaves when the caller left the
	// queue unanswered (TIMEOUT, FULL, LEAVEEMPTY, …). Default "": an agent talked to the
	// caller and hung up first, and Asterisk 22 sets no QUEUESTATUS then (seen on a real
	// one: the caller goes on in the dialplan with QUEUESTATUS empty).
	QueueStatus string
	// QueueHangup makes the caller hang up in the queue (EXEC Queue returns -1).
	QueueHangup bool
	// InQueue, when set, runs while the caller is in EXEC Queue (before it returns), with
	// the queue's arguments and the channel's variables: a test connects an agent there.
	InQueue func(args string, vars map[string]string)

	// PromptTime is how long a prompt takes to play to its end (an interrupted one half
	// of it), KeyTime how long the caller takes over each key, and QueueTime how long
	// EXEC Queue holds the caller: zero (the default) answers at once, for throughput
	// runs; real values hold the call as long as a live one, for concurrency runs. A
	// silent caller then waits out the command's own timeout too.
	PromptTime, KeyTime, QueueTime time.Duration
	// OnCommand, when set, is told of each command with the time the server took to send
	// it: from Asterisk's previous write (the environment or a reply) to its arrival.
	OnCommand func(took time.Duration)
	// OnCommandAfter, when set, is told the same time with the command line and the
	// command before it, its reply included (nil for the first): what a load test needs
	// to tell the commands that follow back-end work from the others.
	OnCommandAfter func(line string, prev *Command, took time.Duration)

	// Timeout bounds the whole call; default 30 s.
	Timeout time.Duration
	// Trace, when set, sees every line: "<" for what Asterisk sends, ">" for what the
	// server sends.
	Trace func(dir, line string)
}

// Command is one command the server sent and Asterisk's reply.
type Command struct {
	Line  string   // as received, without the newline
	Args  []string // as parse_args splits it
	Reply string   // reply lines, joined by "\n"; "" after FAILURE
	Dead  bool     // the channel was dead when the command ran
}

// Name is the command's words in upper case, e.g. "STREAM FILE".
func (c Command) Name() string {
	if spec := lookup(c.Args); spec != nil {
		return strings.ToUpper(strings.Join(spec.words, " "))
	}
	return strings.ToUpper(strings.Join(c.Args, " "))
}

// Prompt is one STREAM FILE as the caller heard it.
type Prompt struct {
	File   string
	Lang   string // the channel's language when it played
	Result string // "played", "interrupted", "hangup", "missing"
	Key    rune
}

// Result is what happened on the Asterisk side.
type Result struct {
	Commands []Command
	Prompts  []Prompt
	// Vars holds every variable the server set, by name without the "_"/"__"
	// inheritance prefix; Inherit tells which prefix it carried.
	Vars    map[string]string
	Inherit map[string]string
	// Apps lists applications run with EXEC, as "Queue(support)".
	Apps []string
	// Context, Extension and Priority are where the dialplan continues.
	Context, Extension, Priority string
	// AGIStatus is what Asterisk sets in AGISTATUS: SUCCESS, FAILURE or HANGUP.
	AGIStatus string
	// HungUp says the caller hung up.
	HungUp bool
	// Typed is the keys Asterisk delivered to the server.
	Typed string
	// Languages lists the values the server set in CHANNEL(language), in order.
	Languages []string
}

// Var is a variable the server set, "" when unset.
func (r *Result) Var(name string) string { return r.Vars[name] }

// PromptFiles lists the prompts played, in order.
func (r *Result) PromptFiles() []string {
	out := make([]string, len(r.Prompts))
	for i, p := range r.Prompts {
		out[i] = p.File
	}
	return out
}

// Call dials the FastAGI server at addr and plays the call to its end: the server
// closes the connection, sends FAILURE, or the timeout passes (an error).
func (c Caller) Call(ctx context.Context, addr string) (*Result, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	ch := newChannel(c, addr)
	ch.ctx = ctx
	err = ch.run(conn)
	if ctx.Err() != nil && err != nil {
		err = fmt.Errorf("asterisk stand-in: call not finished within %s: %w", timeout, err)
	}
	return ch.res, err
}

// callSeq numbers calls, as Asterisk's uniqueid does.
var callSeq atomic.Int64

// channel is the simulated Asterisk channel and its AGI loop.
type channel struct {
	c       Caller
	ctx     context.Context
	sent    time.Time // when Asterisk last wrote
	addr    string
	w       *bufio.Writer
	keys    []rune
	vars    map[string]string
	lang    string // set by CHANNEL(language)
	up      bool
	dead    bool
	needhup bool
	failed  bool
	res     *Result
}

func newChannel(c Caller, addr string) *channel {
	ch := &channel{c: c, addr: addr, keys: []rune(c.Keys), vars: map[string]string{}}
	for k, v := range c.Vars {
		ch.vars[k] = v
	}
	ch.res = &Result{Vars: map[string]string{}, Inherit: map[string]string{},
		Context: or(c.Context, "inbound"), Extension: or(c.Extension, or(c.DNID, "s")), Priority: "2"}
	return ch
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (ch *channel) send(lines ...string) error {
	for _, l := range lines {
		if ch.c.Trace != nil {
			ch.c.Trace("<", l)
		}
		ch.w.WriteString(l)
		if err := ch.w.WriteByte('\n'); err != nil {
			return err
		}
	}
	err := ch.w.Flush()
	if ch.c.OnCommand != nil || ch.c.OnCommandAfter != nil {
		ch.sent = time.Now()
	}
	return err
}

// pause holds the channel for d, as a prompt playing or a caller typing does; it ends
// early when the call's time is up.
func (ch *channel) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ch.ctx.Done():
	}
}

func (ch *channel) env() []string {
	c := ch.c
	script := or(c.Script, "idv")
	ani, name := or(c.ANI, "unknown"), or(c.CallerName, "unknown")
	lines := []string{
		"agi_network: yes",
		"agi_network_script: " + script,
		"agi_request: agi://" + ch.addr + "/" + script,
		"agi_channel: " + or(c.Channel, "PJSIP/sipp-00000000"),
		"agi_language: " + or(c.Language, "en"),
		"agi_type: PJSIP",
		"agi_uniqueid: " + or(c.UniqueID, fmt.Sprintf("%d.%d", time.Now().Unix(), callSeq.Add(1))),
		"agi_version: 22.10.1",
		"agi_callerid: " + ani,
		"agi_calleridname: " + name,
		"agi_callingpres: " + strconv.Itoa(c.Presentation),
		"agi_callingani2: 0",
		"agi_callington: 0",
		"agi_callingtns: 0",
		"agi_dnid: " + or(c.DNID, "unknown"),
		"agi_rdnis: unknown",
		"agi_context: " + ch.res.Context,
		"agi_extension: " + ch.res.Extension,
		"agi_priority: " + ch.res.Priority,
		"agi_enhanced: 0.0",
		"agi_accountcode: ",
		"agi_threadid: 139983944533696",
	}
	for i, a := range c.Args {
		lines = append(lines, fmt.Sprintf("agi_arg_%d: %s", i+1, a))
	}
	return append(lines, "")
}

func (ch *channel) run(conn net.Conn) error {
	ch.w = bufio.NewWriter(conn)
	r := bufio.NewReader(conn)
	if err := ch.send(ch.env()...); err != nil {
		return err
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && line == "" {
				ch.finish()
				return nil
			}
			return fmt.Errorf("asterisk stand-in: reading command: %w", err)
		}
		line = strings.TrimSuffix(line, "\n")
		if ch.c.Trace != nil {
			ch.c.Trace(">", line)
		}
		if strings.HasPrefix(strings.ToLower(line), "failure") {
			ch.res.Commands = append(ch.res.Commands, Command{Line: line, Args: parseArgs(line)})
			ch.failed = true
			ch.finish()
			return nil
		}
		if ch.needhup {
			ch.needhup, ch.dead = false, true
			if err := ch.send("HANGUP"); err != nil {
				return err
			}
		}
		cmd := Command{Line: line, Args: parseArgs(line), Dead: ch.dead}
		if ch.c.OnCommand != nil || ch.c.OnCommandAfter != nil {
			took := time.Since(ch.sent)
			if ch.c.OnCommand != nil {
				ch.c.OnCommand(took)
			}
			if ch.c.OnCommandAfter != nil {
				var prev *Command
				if n := len(ch.res.Commands); n > 0 {
					prev = &ch.res.Commands[n-1]
				}
				ch.c.OnCommandAfter(line, prev, took)
			}
		}
		reply := ch.handle(cmd.Args)
		if ch.c.Mangle != nil {
			if m := ch.c.Mangle(cmd); m != "" {
				reply = []string{m}
			}
		}
		cmd.Reply = strings.Join(reply, "\n")
		ch.res.Commands = append(ch.res.Commands, cmd)
		if err := ch.send(reply...); err != nil {
			return err
		}
		if ch.c.CloseAfter != nil && ch.c.CloseAfter(cmd) {
			ch.res.HungUp = true
			ch.finish()
			return nil
		}
		if !ch.dead && !ch.needhup && ch.c.HangupAfter != nil && ch.c.HangupAfter(cmd) {
			ch.hangup()
			ch.needhup, ch.dead = false, true
			if err := ch.send("HANGUP"); err != nil {
				return err
			}
		}
	}
}

// finish is what Asterisk does when the script ends: set AGISTATUS.
func (ch *channel) finish() {
	switch {
	case ch.failed:
		ch.res.AGIStatus = "FAILURE"
	case ch.res.HungUp:
		ch.res.AGIStatus = "HANGUP"
	default:
		ch.res.AGIStatus = "SUCCESS"
	}
}

// hangup marks the caller gone; Asterisk notices and sends HANGUP before the next reply.
func (ch *channel) hangup() {
	ch.res.HungUp = true
	ch.needhup = true
}

// waitKey is the caller's next key for a wait of timeoutMS: from the keypad in real
// time, else from the script; 0 is silence.
func (ch *channel) waitKey(timeoutMS int) rune {
	if ch.c.Keypad == nil {
		k := ch.nextKey()
		if k == 0 || k == '.' {
			if ch.c.KeyTime > 0 {
				ch.pause(time.Duration(timeoutMS) * time.Millisecond)
			}
		} else {
			ch.pause(ch.c.KeyTime)
		}
		return k
	}
	t := time.NewTimer(time.Duration(max(timeoutMS, 0)) * time.Millisecond)
	defer t.Stop()
	select {
	case k := <-ch.c.Keypad:
		return k
	case <-t.C:
		return 0
	}
}

// typedAhead is a key already pressed when a prompt starts: from the keypad without
// waiting, else the script's next key (left in place).
func (ch *channel) typedAhead() rune {
	if ch.c.Keypad == nil {
		return ch.peekKey()
	}
	select {
	case k := <-ch.c.Keypad:
		return k
	default:
		return 0
	}
}

// expand replaces a "{name}" at the head of the script by the keys Expand gives.
func (ch *channel) expand() {
	if len(ch.keys) == 0 || ch.keys[0] != '{' || ch.c.Expand == nil {
		return
	}
	end := slices.Index(ch.keys, '}')
	if end < 0 {
		return
	}
	ch.keys = append([]rune(ch.c.Expand(string(ch.keys[1:end]))), ch.keys[end+1:]...)
}

// nextKey pops the next scripted key for a wait; 0 when the script is over (silence).
func (ch *channel) nextKey() rune {
	ch.expand()
	for len(ch.keys) > 0 && ch.keys[0] == '_' {
		ch.keys = ch.keys[1:]
	}
	ch.expand()
	if len(ch.keys) == 0 {
		return 0
	}
	k := ch.keys[0]
	ch.keys = ch.keys[1:]
	return k
}

func (ch *channel) peekKey() rune {
	ch.expand()
	if len(ch.keys) == 0 {
		return 0
	}
	return ch.keys[0]
}

func (ch *channel) typed(k rune) {
	ch.res.Typed += string(k)
}
