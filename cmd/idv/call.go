package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/idv-project/idv/agi/agitest"
)

func call(args []string) error { return callTo(os.Stdout, args) }

// callTo places the call and prints it to out.
func callTo(out io.Writer, args []string) error {
	fs := newFlagSet("call", "[flags]", `Acts as Asterisk and places one call against a running idv serve: prints each
prompt as it plays (with its text), the keys delivered, the channel variables set and
the route. With -i it is a terminal phone: type 0-9 * # live, h hangs up.
Examples:
  idv call -ani +81312345678 -keys "1234#"
  idv call -i -ani anonymous
  idv call -scenario deploy/scenarios/wrong-pin.txt`)
	addr := fs.String("addr", "127.0.0.1:4573", "idv's FastAGI address")
	script := fs.String("script", "idv", "FastAGI script: idv, identify or verify")
	line := fs.String("line", "", "service line (?line=)")
	ani := fs.String("ani", "", `calling number as Asterisk gives it ("" or "anonymous" for a withheld number)`)
	name := fs.String("name", "", "calling name")
	pres := fs.Int("pres", 0, "calling presentation (agi_callingpres; 32 = restricted)")
	dnid := fs.String("dnid", "", "dialled number")
	keys := fs.String("keys", "", `what the caller types: digits, * and #; '.' is a timeout, '_' lets a prompt play out, '!' hangs up`)
	lang := fs.String("lang", "en", "channel language")
	customer := fs.String("customer", "", "for -script verify: IDV_CUSTOMER_ID already on the channel")
	trace := fs.Bool("trace", false, "print every AGI line exchanged")
	interactive := fs.Bool("i", false, "terminal phone: type keys live (0-9 * #), h hangs up")
	scenario := fs.String("scenario", "", `read flags from a file: one "flag value" a line, # comments; flags given after -scenario win`)
	sounds := fs.String("sounds", "sounds", "directory with text/<lang>.tsv, to show what each prompt says")
	play := fs.Bool("play", false, "also play each prompt with sox's play command, if installed")
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

	s := *script
	if *line != "" {
		s += "?line=" + *line
	}
	texts := promptTexts(*sounds)
	c := agitest.Caller{Script: s, ANI: *ani, CallerName: *name, Presentation: *pres, DNID: *dnid,
		Keys: *keys, Language: *lang, Timeout: 30 * time.Minute}
	if *customer != "" {
		c.Vars = map[string]string{"IDV_CUSTOMER_ID": *customer}
	}
	if *interactive {
		restore, keypad, err := openKeypad(out)
		if err != nil {
			return err
		}
		defer restore()
		out = crlf{out}
		c.Keypad = keypad
	}
	c.OnPrompt = func(file, lang string) {
		text := texts[lang][file]
		fmt.Fprintf(out, "  ♪ [%s] %-24s %s\n", lang, file, text)
		if *play {
			playSound(filepath.Join(*sounds, lang, file+".wav"))
		}
	}
	if *trace {
		c.Trace = func(dir, l string) {
			who := "asterisk → idv"
			if dir == ">" {
				who = "idv → asterisk"
			}
			fmt.Fprintf(out, "  %s  %s\n", who, l)
		}
	}
	if *interactive {
		fmt.Fprintf(out, "calling agi://%s/%s from %q — type 0-9 * # on the keypad, h hangs up\n", *addr, s, *ani)
	} else {
		fmt.Fprintf(out, "calling agi://%s/%s from %q, typing %q\n", *addr, s, *ani, *keys)
	}
	res, err := c.Call(context.Background(), *addr)
	if res != nil {
		printCall(out, res)
	}
	if err != nil {
		return err
	}
	return expect.check(res)
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

func (e expectations) check(r *agitest.Result) error {
	var failed []string
	for _, x := range e {
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
