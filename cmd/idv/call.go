package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/phone"
)

func call(args []string) error { return callTo(os.Stdout, args) }

// callTo places the call and prints it to out.
func callTo(out io.Writer, args []string) error {
	fs := newFlagSet("call", "[flags]", `Acts as Asterisk and places one call against a running idv serve: prints each
prompt as it plays (with its text), the keys delivered, the channel variables set and
the route. With -i it is a terminal phone: type 0-9 * # live, h hangs up.
Examples:
  idv call -ani +81312345678 -keys "1234#"
  idv call -line secure -ani anonymous -keys "100234#1234#{otp}"    # {otp}: the code sent
  idv call -i -ani anonymous
  idv call -queue -ani +81312345678 -keys "1234#"   # and be the agent: open the desk
  idv call -scenario deploy/scenarios/wrong-pin.txt`)
	addr := fs.String("addr", config.Defaults().AGI.Listen, "idv's FastAGI address")
	script := fs.String("script", "idv", "FastAGI script: idv, identify or verify")
	line := fs.String("line", "", "service line (?line=)")
	ani := fs.String("ani", "", `calling number as Asterisk gives it ("" or "anonymous" for a withheld number)`)
	name := fs.String("name", "", "calling name")
	pres := fs.Int("pres", 0, "calling presentation (agi_callingpres; 32 = restricted)")
	dnid := fs.String("dnid", "", "dialled number")
	keys := fs.String("keys", "", `what the caller types: digits, * and #; '.' is a timeout, '_' lets a prompt play out, '!' hangs up, {otp} the one-time code just sent`)
	lang := fs.String("lang", "en", "channel language")
	customer := fs.String("customer", "", "for -script verify: IDV_CUSTOMER_ID already on the channel")
	trace := fs.Bool("trace", false, "print every AGI line exchanged")
	interactive := fs.Bool("i", false, "terminal phone: type keys live (0-9 * #), h hangs up")
	scenario := fs.String("scenario", "", `read flags from a file: one "flag value" a line, # comments; flags given after -scenario win`)
	sounds := fs.String("sounds", "sounds", "directory with text/<lang>.tsv, to show what each prompt says")
	play := fs.Bool("play", false, "also play each prompt with sox's play command, if installed")
	crmURL := fs.String("crm", "http://"+config.Defaults().DemoCRM.Listen, `the demo CRM, whose outbox shows the one-time codes it "sends" ("" for none)`)
	queue := fs.Bool("queue", false, "keep the caller in the queue and play the agent's side: AGI(agent) as the queue member gosub runs it, then talk; open the agent's desk to see the pop")
	agent := fs.String("agent", phone.DefaultAgent, "with -queue: the agent's endpoint that answers")
	ring := fs.Duration("ring", 3*time.Second, "with -queue: the wait in the queue before the agent answers")
	talk := fs.Duration("talk", 20*time.Second, "with -queue: the talk before the agent hangs up")
	pace := fs.String("pace", "", `"live": prompts play and keys are typed as long as on a real call, so the timeline has real offsets; "instant": at once (the default, but live with -queue)`)
	var expect expectations
	fs.Var(&expect, "expect", "VAR=VALUE the call must leave (repeatable); idv call fails otherwise")
	fs.Parse(args)
	if *scenario != "" {
		fileArgs, err := readScenario(*scenario)
		if err != nil {
			return err
		}
		rest := withoutFlag(args, "scenario")
		return callTo(out, append(fileArgs, rest...))
	}

	if *pace != "" && *pace != "live" && *pace != "instant" {
		return fmt.Errorf("-pace %q: live or instant", *pace)
	}
	paced := *pace == "live" || *pace == "" && *queue
	s := *script
	if *line != "" {
		s += "?line=" + *line
	}
	return phone.Call{Addr: *addr, Script: s, ANI: *ani, Name: *name, Presentation: *pres, DNID: *dnid, Keys: *keys,
		Language: *lang, Customer: *customer, Sounds: *sounds, Trace: *trace, Play: *play, Interactive: *interactive,
		Expect: expect, CRM: *crmURL, Queue: *queue, Agent: *agent, Ring: *ring, Talk: *talk, Paced: paced}.Place(context.Background(), out)
}

// expectations are -expect VAR=VALUE flags.
type expectations []string

func (e *expectations) String() string { return strings.Join(*e, ",") }

func (e *expectations) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want VAR=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

// readScenario turns a scenario file into flags.
func readScenario(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	defer f.Close()
	var args []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		flag, value, _ := strings.Cut(l, " ")
		if flag == "scenario" {
			return nil, fmt.Errorf("%s:%d: a scenario cannot include another", path, n)
		}
		args = append(args, "-"+flag+"="+strings.TrimSpace(value))
	}
	return args, sc.Err()
}

// withoutFlag drops -name and its value from args.
func withoutFlag(args []string, name string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		switch {
		case a == name:
			i++
		case strings.HasPrefix(a, name+"="):
		default:
			out = append(out, args[i])
		}
	}
	return out
}
