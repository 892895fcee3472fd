package agitest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// spec is one entry of res_agi.c's command table.
type spec struct {
	words  []string
	dead   bool // allowed on a dead channel
	usage  string
	handle func(ch *channel, argv []string) []string
}

// errUsage makes handle answer with the 520 usage block.
var errUsage = []string{"usage"}

// commands mirrors res_agi.c's table for the commands a FastAGI server like idv uses;
// the others answer 510 as an Asterisk without the module would.
var commands = []spec{
	{words: []string{"answer"}, handle: (*channel).answer, usage: "Answer channel"},
	{words: []string{"channel", "status"}, handle: (*channel).channelStatus, usage: "Returns status of the connected channel."},
	{words: []string{"exec"}, dead: true, handle: (*channel).exec, usage: "Executes a given Application"},
	{words: []string{"get", "data"}, handle: (*channel).getData, usage: "Prompts for DTMF on a channel"},
	{words: []string{"get", "full", "variable"}, dead: true, handle: (*channel).getFullVariable, usage: "Evaluates a channel expression"},
	{words: []string{"get", "variable"}, dead: true, handle: (*channel).getVariable, usage: "Gets a channel variable."},
	{words: []string{"hangup"}, handle: (*channel).hangupCmd, usage: "Hangup a channel."},
	{words: []string{"noop"}, dead: true, handle: func(*channel, []string) []string { return ok(0) }, usage: "Does nothing."},
	{words: []string{"set", "context"}, handle: (*channel).setContext, usage: "Sets channel context."},
	{words: []string{"set", "extension"}, handle: (*channel).setExtension, usage: "Changes channel extension."},
	{words: []string{"set", "priority"}, handle: (*channel).setPriority, usage: "Set channel dialplan priority."},
	{words: []string{"set", "variable"}, dead: true, handle: (*channel).setVariable, usage: "Sets a variable to the current channel."},
	{words: []string{"say", "digits"}, handle: (*channel).sayDigits, usage: "Says a given digit string."},
	{words: []string{"stream", "file"}, handle: (*channel).streamFile, usage: "Sends audio file on channel."},
	{words: []string{"verbose"}, dead: true, handle: func(*channel, []string) []string { return ok(1) }, usage: "Logs a message to the asterisk verbose log."},
	{words: []string{"wait", "for", "digit"}, handle: (*channel).waitForDigit, usage: "Waits for a digit to be pressed."},
}

// lookup finds a command as res_agi.c's find_command does: its words, case-insensitive,
// at the start of argv.
func lookup(argv []string) *spec {
	for i := range commands {
		sp := &commands[i]
		if len(argv) < len(sp.words) {
			continue
		}
		match := true
		for j, w := range sp.words {
			if !strings.EqualFold(w, argv[j]) {
				match = false
				break
			}
		}
		if match {
			return sp
		}
	}
	return nil
}

// okReplies are the common "200 result=N" replies, made once: the load generator sends
// one per command.
var okReplies = func() (r [258][]string) {
	for i := range r {
		r[i] = []string{"200 result=" + strconv.Itoa(i-2)}
	}
	return r
}()

func ok(res int) []string {
	if res >= -2 && res < len(okReplies)-2 {
		return okReplies[res+2]
	}
	return []string{"200 result=" + strconv.Itoa(res)}
}

// handle answers one command like agi_handle_command.
func (ch *channel) handle(argv []string) []string {
	sp := lookup(argv)
	if sp == nil {
		return []string{"510 Invalid or unknown command"}
	}
	if ch.dead && !sp.dead {
		return []string{"511 Command Not Permitted on a dead channel or intercept routine"}
	}
	reply := sp.handle(ch, argv)
	if len(reply) == 1 && reply[0] == "usage" {
		return []string{"520-Invalid command syntax.  Proper usage follows:", sp.usage, "520 End of proper usage."}
	}
	return reply
}

func (ch *channel) answer(argv []string) []string {
	ch.up = true
	return ok(0)
}

func (ch *channel) channelStatus(argv []string) []string {
	if len(argv) > 3 {
		return errUsage
	}
	if ch.up {
		return ok(6)
	}
	return ok(4)
}

// promptSamples is the length Asterisk reports as endpos for a prompt played out.
const promptSamples = 16000

func (ch *channel) streamFile(argv []string) []string {
	if len(argv) < 4 || len(argv) > 5 {
		return errUsage
	}
	file, escape := argv[2], argv[3]
	if ch.c.OnPrompt != nil {
		ch.c.OnPrompt(file, ch.language())
	}
	if slices.Contains(ch.c.MissingPrompts, file) {
		ch.res.Prompts = append(ch.res.Prompts, Prompt{File: file, Lang: ch.language(), Result: "missing"})
		ch.failed = true // res_agi returns RESULT_FAILURE: AGISTATUS becomes FAILURE
		return []string{"200 result=-1 endpos=0"}
	}
	ahead := ch.typedAhead()
	if file == ch.c.HangupOnPrompt || ahead == '!' {
		if ahead == '!' && ch.c.Keypad == nil {
			ch.nextKey()
		}
		ch.pause(ch.c.PromptTime / 4)
		ch.hangup()
		ch.res.Prompts = append(ch.res.Prompts, Prompt{File: file, Lang: ch.language(), Result: "hangup"})
		return []string{"200 result=-1 endpos=4000"}
	}
	if ahead == '_' {
		ch.pause(ch.c.PromptTime)
		ch.keys = ch.keys[1:]
		ch.res.Prompts = append(ch.res.Prompts, Prompt{File: file, Lang: ch.language(), Result: "played"})
		return playedOut
	}
	if k := ahead; k != 0 && k != '.' && strings.ContainsRune(escape, k) {
		if ch.c.Keypad == nil {
			ch.nextKey()
		}
		ch.pause(ch.c.PromptTime / 2)
		ch.typed(k)
		ch.res.Prompts = append(ch.res.Prompts, Prompt{File: file, Lang: ch.language(), Result: "interrupted", Key: k})
		return []string{fmt.Sprintf("200 result=%d endpos=%d", k, promptSamples/2)}
	}
	ch.pause(ch.c.PromptTime)
	ch.res.Prompts = append(ch.res.Prompts, Prompt{File: file, Lang: ch.language(), Result: "played"})
	return playedOut
}

// playedOut is STREAM FILE's reply for a prompt played to its end.
var playedOut = []string{"200 result=0 endpos=" + strconv.Itoa(promptSamples)}

// sayDigits is SAY DIGITS: said as prompts named "digits:N" (N the digits), which a key
// in escape interrupts as it does a STREAM FILE.
func (ch *channel) sayDigits(argv []string) []string {
	if len(argv) != 4 {
		return errUsage
	}
	reply := ch.streamFile([]string{"STREAM", "FILE", "digits:" + argv[2], argv[3]})
	// SAY DIGITS answers result= alone, without STREAM FILE's endpos.
	res, _, _ := strings.Cut(reply[0], " endpos")
	return []string{res}
}

func (ch *channel) waitForDigit(argv []string) []string {
	if len(argv) != 4 {
		return errUsage
	}
	timeout, err := strconv.Atoi(argv[3])
	if err != nil {
		return errUsage
	}
	switch k := ch.waitKey(timeout); k {
	case 0, '.':
		return ok(0)
	case '!':
		ch.hangup()
		return ok(-1)
	default:
		ch.typed(k)
		return ok(int(k))
	}
}

func (ch *channel) getData(argv []string) []string {
	if len(argv) < 3 {
		return errUsage
	}
	max, timeout := 1024, 0
	if len(argv) >= 4 {
		timeout, _ = strconv.Atoi(argv[3])
	}
	if len(argv) >= 5 {
		max, _ = strconv.Atoi(argv[4])
	}
	ch.pause(ch.c.PromptTime / 2) // the caller starts typing halfway through the prompt
	var digits []rune
	for len(digits) < max {
		switch k := ch.waitKey(timeout); k {
		case '!':
			ch.hangup()
			return []string{"200 result=-1"}
		case 0, '.':
			return []string{fmt.Sprintf("200 result=%s (timeout)", string(digits))}
		case '#':
			ch.typed(k)
			return []string{fmt.Sprintf("200 result=%s", string(digits))}
		default:
			ch.typed(k)
			digits = append(digits, k)
		}
	}
	return []string{fmt.Sprintf("200 result=%s", string(digits))}
}

func (ch *channel) setVariable(argv []string) []string {
	if len(argv) != 4 {
		return errUsage
	}
	name, value := argv[2], argv[3]
	if name == "CHANNEL(language)" {
		ch.lang = value
		ch.res.Languages = append(ch.res.Languages, value)
		return ok(1)
	}
	ch.vars[name] = value
	bare := strings.TrimLeft(name, "_")
	ch.vars[bare] = value
	ch.res.Vars[bare] = value
	ch.res.Inherit[bare] = name[:len(name)-len(bare)]
	return ok(1)
}

func (ch *channel) getVariable(argv []string) []string {
	if len(argv) != 3 {
		return errUsage
	}
	v, set := ch.variable(argv[2])
	if !set {
		return ok(0)
	}
	return []string{fmt.Sprintf("200 result=1 (%s)", v)}
}

func (ch *channel) variable(name string) (string, bool) {
	switch name {
	case "CALLERID(num)":
		return or(ch.c.ANI, ""), ch.c.ANI != ""
	case "CALLERID(name)":
		return ch.c.CallerName, ch.c.CallerName != ""
	case "CHANNEL(language)":
		return ch.language(), true
	}
	v, set := ch.vars[name]
	return v, set
}

func (ch *channel) getFullVariable(argv []string) []string {
	if len(argv) != 4 && len(argv) != 5 {
		return errUsage
	}
	expr := argv[3]
	var b strings.Builder
	for {
		i := strings.Index(expr, "${")
		if i < 0 {
			b.WriteString(expr)
			break
		}
		j := strings.IndexByte(expr[i:], '}')
		if j < 0 {
			b.WriteString(expr)
			break
		}
		b.WriteString(expr[:i])
		v, _ := ch.variable(expr[i+2 : i+j])
		b.WriteString(v)
		expr = expr[i+j+1:]
	}
	return []string{fmt.Sprintf("200 result=1 (%s)", b.String())}
}

func (ch *channel) exec(argv []string) []string {
	if len(argv) < 2 {
		return errUsage
	}
	app, data := argv[1], ""
	if len(argv) >= 3 {
		data = argv[2]
	}
	ch.res.Apps = append(ch.res.Apps, app+"("+data+")")
	if ch.dead {
		return ok(-1)
	}
	switch strings.ToLower(app) {
	case "queue":
		ch.pause(ch.c.QueueTime)
		if ch.c.InQueue != nil {
			ch.c.InQueue(data, maps.Clone(ch.vars))
		}
		if ch.c.QueueHangup {
			ch.hangup() // Queue sets no QUEUESTATUS when the caller leaves
			return ok(-1)
		}
		if ch.c.QueueStatus != "" {
			ch.vars["QUEUESTATUS"] = ch.c.QueueStatus
		}
		return ok(0)
	case "playback", "wait", "noop", "set", "verbose", "goto", "gosub", "dial":
		return ok(0)
	}
	return ok(-2)
}

func (ch *channel) hangupCmd(argv []string) []string {
	if len(argv) > 2 {
		return errUsage
	}
	ch.hangup()
	return ok(1)
}

func (ch *channel) setContext(argv []string) []string {
	if len(argv) != 3 {
		return errUsage
	}
	ch.res.Context = argv[2]
	return ok(0)
}

func (ch *channel) setExtension(argv []string) []string {
	if len(argv) != 3 {
		return errUsage
	}
	ch.res.Extension = argv[2]
	return ok(0)
}

func (ch *channel) setPriority(argv []string) []string {
	if len(argv) != 3 {
		return errUsage
	}
	ch.res.Priority = argv[2]
	return ok(0)
}

func (ch *channel) language() string {
	return or(ch.lang, or(ch.c.Language, "en"))
}
