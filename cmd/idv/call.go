package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/idv-project/idv/agi/agitest"
)

func call(args []string) error { return callTo(os.Stdout, args) }

// callTo places the call and prints it to out.
func callTo(out io.Writer, args []string) error {
	fs := newFlagSet("call", "[flags]", `Acts as Asterisk and places one call against a running idv serve: prints each
prompt played, the keys delivered, the channel variables set and the route.
Example: idv call -ani +81312345678 -keys "1234#"`)
	addr := fs.String("addr", "127.0.0.1:4573", "idv's FastAGI address")
	script := fs.String("script", "idv", "FastAGI script: idv, identify or verify")
	line := fs.String("line", "", "service line (?line=)")
	ani := fs.String("ani", "", `calling number as Asterisk gives it ("" or "anonymous" for a withheld number)`)
	name := fs.String("name", "", "calling name")
	pres := fs.Int("pres", 0, "calling presentation (agi_callingpres; 32 = restricted)")
	dnid := fs.String("dnid", "", "dialled number")
	keys := fs.String("keys", "", `what the caller types: digits, * and #; '.' is a timeout, '!' hangs up`)
	lang := fs.String("lang", "en", "channel language")
	customer := fs.String("customer", "", "for -script verify: IDV_CUSTOMER_ID already on the channel")
	trace := fs.Bool("trace", false, "print every AGI line exchanged")
	fs.Parse(args)

	s := *script
	if *line != "" {
		s += "?line=" + *line
	}
	c := agitest.Caller{Script: s, ANI: *ani, CallerName: *name, Presentation: *pres, DNID: *dnid,
		Keys: *keys, Language: *lang, Timeout: 5 * time.Minute}
	if *customer != "" {
		c.Vars = map[string]string{"IDV_CUSTOMER_ID": *customer}
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
	fmt.Fprintf(out, "calling agi://%s/%s from %q, typing %q\n", *addr, s, *ani, *keys)
	res, err := c.Call(context.Background(), *addr)
	if res != nil {
		printCall(out, res)
	}
	return err
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
