// Package phone is idv call: it acts as Asterisk and a caller at once, places one call
// against a running idv serve through agitest, and shows it as it happens — each prompt
// with its text, the keys, the channel variables set and the route. With a keypad it is
// a terminal phone.
package phone

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/idv-project/idv/agi/agitest"
	"github.com/idv-project/idv/flow"
)

// Call is one call to place.
type Call struct {
	// Addr is idv's FastAGI address; Script the AGI script with its query, e.g.
	// "idv?line=retail".
	Addr, Script string
	// ANI, Name, Presentation and DNID are the caller as Asterisk gives it.
	ANI, Name    string
	Presentation int
	DNID         string
	// Keys is what the caller types (agitest.Caller's Keys); Language the channel's.
	Keys, Language string
	// Customer, for the verify script, is IDV_CUSTOMER_ID already on the channel.
	Customer string
	// Sounds is the directory with text/<lang>.tsv, to show what each prompt says.
	Sounds string
	// Trace prints every AGI line; Play plays each prompt with sox's play; Interactive
	// reads the keys from the terminal as they are pressed.
	Trace, Play, Interactive bool
	// Expect lists VAR=VALUE the call must leave.
	Expect []string
	// CRM is the demo CRM's base URL: the one-time codes it "sends" are shown from its
	// outbox, and "{otp}" in Keys types the last one. "" looks nowhere.
	CRM string
	// Queue keeps the caller in the queue the call is routed to and plays the agent's
	// side there: after Ring, the queue member gosub's AGI(agi://…/agent) on a channel of
	// Agent, then Talk with the agent before the agent hangs up. The agent's desk shows
	// the pop meanwhile, and the wrap-up after.
	Queue      bool
	Agent      string
	Ring, Talk time.Duration
	// Paced plays the call at a live call's pace (PromptTime each prompt, KeyTime each
	// key), so that the timeline's offsets are those of a real call.
	Paced bool
}

// Pace of a paced call: how long a prompt plays, and a key takes to type.
const (
	PromptTime = 1500 * time.Millisecond
	KeyTime    = 300 * time.Millisecond
)

// DefaultAgent is the agent whose channel answers a -queue call.
const DefaultAgent = "PJSIP/agent1"

// Place places the call, prints it to out, and fails when it did not leave what Expect
// lists.
func (o Call) Place(ctx context.Context, out io.Writer) error {
	texts := promptTexts(o.Sounds)
	c := agitest.Caller{Script: o.Script, ANI: o.ANI, CallerName: o.Name, Presentation: o.Presentation, DNID: o.DNID,
		Keys: o.Keys, Language: o.Language, Timeout: 30 * time.Minute}
	if o.Customer != "" {
		c.Vars = map[string]string{flow.VarCustomerID: o.Customer}
	}
	if o.Paced {
		c.PromptTime, c.KeyTime = PromptTime, KeyTime
	}
	var agentErr error
	if o.Queue {
		c.InQueue = func(args string, vars map[string]string) { agentErr = o.agentSide(ctx, out, args, vars) }
	}
	if o.Interactive {
		restore, keypad, err := openKeypad(out)
		if err != nil {
			return err
		}
		defer restore()
		out = crlf{out}
		c.Keypad = keypad
	}
	if o.Play {
		if why := soxMissing(); why != "" {
			fmt.Fprintln(out, "warning:", why)
		}
	}
	box := &outbox{url: o.CRM}
	box.start(ctx)
	var expandErr error
	c.Expand = func(name string) string {
		if name != "otp" {
			expandErr = fmt.Errorf("-keys: {%s} is not a placeholder idv call knows (only {otp})", name)
			return ""
		}
		if err := box.show(ctx, out); err != nil || box.last == "" {
			expandErr = fmt.Errorf("-keys {otp}: no one-time code in the demo CRM's outbox at %s (%v)", o.CRM, err)
			return ""
		}
		return box.last
	}
	c.OnPrompt = func(file, lang string) {
		if strings.HasPrefix(file, "digits:") { // SAY DIGITS
			fmt.Fprintf(out, "  ♪ [%s] %-24s %s\n", lang, "(say digits)", strings.TrimPrefix(file, "digits:"))
			box.show(ctx, out)
			return
		}
		text := texts[lang][file]
		fmt.Fprintf(out, "  ♪ [%s] %-24s %s\n", lang, file, text)
		if o.Play {
			playSound(filepath.Join(o.Sounds, lang, file+".wav"))
		}
	}
	if o.Trace {
		c.Trace = func(dir, l string) {
			who := "asterisk → idv"
			if dir == ">" {
				who = "idv → asterisk"
			}
			fmt.Fprintf(out, "  %s  %s\n", who, l)
		}
	}
	if o.Interactive {
		fmt.Fprintf(out, "calling agi://%s/%s from %q — type 0-9 * # on the keypad, h hangs up\n", o.Addr, o.Script, o.ANI)
	} else {
		fmt.Fprintf(out, "calling agi://%s/%s from %q, typing %q\n", o.Addr, o.Script, o.ANI, o.Keys)
	}
	res, err := c.Call(ctx, o.Addr)
	if res != nil {
		printCall(out, res)
	}
	if err != nil {
		return err
	}
	if agentErr != nil {
		return agentErr
	}
	if expandErr != nil {
		return expandErr
	}
	if err := check(o.Expect, res); err != nil {
		return err
	}
	if res.AGIStatus == "FAILURE" && !slices.Contains(o.Expect, "AGISTATUS=FAILURE") {
		return fmt.Errorf("the call ended AGISTATUS=FAILURE, so Asterisk would run the dialplan's fallback: %s", failureCause(res))
	}
	return nil
}

// agentSide plays the queue and the agent while the caller is in EXEC Queue: the wait,
// the queue member gosub's AGI(agi://…/agent) on the agent's channel (with the caller's
// variables, IDV_INTERACTION among them, as Asterisk passes them on), and the talk.
func (o Call) agentSide(ctx context.Context, out io.Writer, args string, vars map[string]string) error {
	agent := o.Agent
	if agent == "" {
		agent = DefaultAgent
	}
	queue, _, _ := strings.Cut(args, ",")
	fmt.Fprintf(out, "  ☎ in queue %s (%s): waiting %s for an agent\n", queue, vars[flow.VarInteraction], o.Ring)
	if !sleep(ctx, o.Ring) {
		return ctx.Err()
	}
	channel := fmt.Sprintf("%s-%08x", agent, time.Now().UnixNano()&0xffffffff)
	fmt.Fprintf(out, "  ☎ %s answers: the queue member gosub runs AGI(agi://%s/agent) on %s\n", agent, o.Addr, channel)
	a := agitest.Caller{Script: "agent", Channel: channel, Vars: vars, Language: o.Language}
	if _, err := a.Call(ctx, o.Addr); err != nil {
		return fmt.Errorf("the agent's AGI(agent): %w", err)
	}
	fmt.Fprintf(out, "  ☎ talking with %s for %s (the agent's desk shows the pop)\n", agent, o.Talk)
	if !sleep(ctx, o.Talk) {
		return ctx.Err()
	}
	fmt.Fprintf(out, "  ☎ %s hangs up: the desk asks for the wrap-up\n", agent)
	return nil
}

// sleep waits d, or until ctx ends (false then).
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// failureCause says, from what the call saw, why it ended AGISTATUS=FAILURE.
func failureCause(r *agitest.Result) string {
	for _, p := range r.Prompts {
		if p.Result == "missing" {
			return fmt.Sprintf("Asterisk could not play %s (a missing sound file); idv went on", p.File)
		}
	}
	if len(r.Commands) == 0 || strings.HasPrefix(strings.ToUpper(r.Commands[0].Line), "FAILURE") {
		return "idv refused the call before any command: an unknown -line or -script, or idv at agi.max_connections; idv serve's log says which"
	}
	return "idv answered FAILURE (an internal error); idv serve's log says why"
}

// check fails when the call did not leave every VAR=VALUE of expect.
func check(expect []string, r *agitest.Result) error {
	var failed []string
	for _, x := range expect {
		name, want, _ := strings.Cut(x, "=")
		got := r.Var(name)
		if name == "AGISTATUS" {
			got = r.AGIStatus
		}
		if got != want {
			failed = append(failed, fmt.Sprintf("%s=%q, expected %q", name, got, want))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("call did not end as expected: %s", strings.Join(failed, "; "))
	}
	return nil
}

// promptTexts reads sounds/text/<lang>.tsv: language → prompt file name → text.
func promptTexts(dir string) map[string]map[string]string {
	out := map[string]map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "text", "*.tsv"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lang := strings.TrimSuffix(filepath.Base(f), ".tsv")
		out[lang] = map[string]string{}
		for _, l := range strings.Split(string(data), "\n") {
			if name, text, ok := strings.Cut(l, "\t"); ok && !strings.HasPrefix(name, "#") {
				out[lang]["idv/"+name] = text
			}
		}
	}
	return out
}

// soxMissing is why -play plays nothing, or "" when sox's play is installed.
func soxMissing() string {
	if _, err := exec.LookPath("play"); err != nil {
		return "-play needs sox's play command, which is not installed (apt-get install sox); the prompts are shown, not played"
	}
	return ""
}

func playSound(path string) {
	if p, err := exec.LookPath("play"); err == nil {
		cmd := exec.Command(p, "-q", path)
		if cmd.Start() == nil {
			go cmd.Wait()
		}
	}
}

// openKeypad reads keys from the terminal as they are pressed.
func openKeypad(out io.Writer) (restore func(), keys <-chan rune, err error) {
	ch := make(chan rune, 64)
	restore = func() {}
	fd := int(os.Stdin.Fd())
	if term.IsTerminal(fd) {
		state, err := term.MakeRaw(fd)
		if err != nil {
			return nil, nil, fmt.Errorf("terminal: %w", err)
		}
		restore = func() { term.Restore(fd, state) }
	}
	go func() {
		r := bufio.NewReader(os.Stdin)
		for {
			b, err := r.ReadByte()
			if err != nil {
				ch <- '!'
				return
			}
			switch {
			case b >= '0' && b <= '9' || b == '*' || b == '#':
				fmt.Fprintf(out, "  ⌨ %c\r\n", b)
				ch <- rune(b)
			case b == 'h' || b == 'q' || b == 3 || b == 4: // h, q, Ctrl-C, Ctrl-D
				fmt.Fprint(out, "  ☎ hang up\r\n")
				ch <- '!'
				return
			}
		}
	}()
	return restore, ch, nil
}

// crlf ends lines with CR LF, for a terminal in raw mode.
type crlf struct{ w io.Writer }

func (c crlf) Write(p []byte) (int, error) {
	_, err := c.w.Write([]byte(strings.ReplaceAll(string(p), "\n", "\r\n")))
	return len(p), err
}

func printCall(w io.Writer, r *agitest.Result) {
	fmt.Fprintln(w, "\nprompts:")
	for _, p := range r.Prompts {
		extra := ""
		if p.Key != 0 {
			extra = fmt.Sprintf(" (caller pressed %c)", p.Key)
		}
		fmt.Fprintf(w, "  ▶ %-28s %s%s\n", p.File, p.Result, extra)
	}
	fmt.Fprintf(w, "keys delivered: %q\n", r.Typed)
	fmt.Fprintln(w, "\nchannel variables:")
	names := make([]string, 0, len(r.Vars))
	for n := range r.Vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %s%s=%s\n", r.Inherit[n], n, r.Vars[n])
	}
	fmt.Fprintln(w, "\nroute:")
	for _, a := range r.Apps {
		fmt.Fprintf(w, "  EXEC %s\n", a)
	}
	fmt.Fprintf(w, "  dialplan continues at %s,%s,%s\n", r.Context, r.Extension, r.Priority)
	fmt.Fprintf(w, "  AGISTATUS=%s%s\n", r.AGIStatus, map[bool]string{true: " (caller hung up)"}[r.HungUp])
}
