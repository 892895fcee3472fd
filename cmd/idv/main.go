// Command idv is customer identification and verification for Asterisk contact centres.
//
//	idv serve   [-config config.toml]      run the FastAGI service (and the demo CRM if configured)
//	idv call    [-addr host:port] [flags]  act as Asterisk and place one call, from a terminal
//	idv democrm [-listen host:port]        run the reference CRM with its demo customers
//	idv check   [-config config.toml]      validate a configuration, its prompts and a dialplan
//	idv report  -name NAME -from -to …     build a report (PDF, XLSX, CSV) from the records
//	idv loadtest [flags]                   act as many Asterisk instances and measure idv
//	idv hash-password < password           print the bcrypt hash for [[web.user]]
//	idv backup  [-config config.toml] -o F copy the SQLite database while idv runs
//	idv version                            print the version
//
// Each file parses one subcommand's flags and calls a package: app runs the service,
// phone places a call, loadtest drives a load, report builds a report.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/idv-project/idv/app"
	"github.com/idv-project/idv/dialplan"
	"github.com/idv-project/idv/web"
)

// newFlagSet makes a subcommand's flags with a --help that says what it does.
func newFlagSet(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: idv %s %s\n\n%s\n\nflags:\n", name, synopsis, about)
		// Flags whose usage starts with "internal:" are for idv's own processes.
		shown := flag.NewFlagSet(name, flag.ContinueOnError)
		shown.SetOutput(fs.Output())
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.HasPrefix(f.Usage, internal) {
				shown.Var(f.Value, f.Name, f.Usage)
				shown.Lookup(f.Name).DefValue = f.DefValue
			}
		})
		shown.PrintDefaults()
	}
	return fs
}

// internal starts the usage of a flag that -h does not list.
const internal = "internal:"

// hashPassword is "idv hash-password": the bcrypt hash of the first line of in.
func hashPassword(args []string, in io.Reader, out io.Writer) error {
	fs := newFlagSet("hash-password", "< password", `Reads a password from standard input (its first line) and prints the bcrypt hash
to put in config.toml's [[web.user]] password_bcrypt.`)
	fs.Parse(args)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("hash-password: no password on standard input")
	}
	hash, err := web.HashPassword(strings.TrimRight(line, "\r\n"))
	if err != nil {
		return fmt.Errorf("hash-password: %w", err)
	}
	fmt.Fprintln(out, hash)
	return nil
}

// check is "idv check": exit status 0 when the configuration and its prompts are good,
// and the dialplans named agree with it; an unsafe setting is printed as a warning to
// out.
func check(args []string, out io.Writer) error {
	fs := newFlagSet("check", "[-config FILE] [-dialplan extensions.conf]", `Validates a configuration file and the prompt files it names, as idv serve
would at start-up, and exits non-zero with the file, the key and the reason.
With -dialplan it also reads the dialplan (and what it #includes): every
AGI(agi://…/SCRIPT?line=NAME) or AGI(agi://…/SCRIPT,NAME) must name a script idv
serves and a configured line, and every goto: route a context the dialplan defines.
Each problem is printed with its file and line number.`)
	path := fs.String("config", envOr("IDV_CONFIG", "config.toml"), "configuration file (env IDV_CONFIG)")
	var dialplans []string
	fs.Func("dialplan", "a dialplan file to check against the configuration (repeatable)", func(v string) error {
		dialplans = append(dialplans, v)
		return nil
	})
	fs.Parse(args)
	cfg, err := loadChecked(*path)
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(out, "%s: warning: %s\n", *path, w)
	}
	var problems int
	for _, file := range dialplans {
		plan, err := dialplan.Read(file)
		if err != nil {
			return err
		}
		found := plan.Check(cfg.Lines, app.Scripts(), *path)
		for _, p := range found {
			fmt.Fprintln(out, p)
			if !p.Warning {
				problems++
			}
		}
		fmt.Fprintf(out, "%s: %d AGI calls into idv, %d contexts read\n", file, len(plan.Calls), len(plan.Contexts))
	}
	if problems > 0 {
		return fmt.Errorf("check: %d problems between %s and the dialplan", problems, *path)
	}
	lines := fmt.Sprintf("%d lines", len(cfg.Lines.ByName))
	if len(cfg.Lines.ByName) == 1 {
		lines = "1 line"
	}
	if cfg.Sounds.Dir == "" {
		fmt.Fprintf(out, "%s: OK — %s, prompts not checked (sounds.dir is \"\")\n", *path, lines)
		return nil
	}
	fmt.Fprintf(out, "%s: OK — %s, prompts checked in %v under %s\n", *path, lines, cfg.Sounds.Languages, cfg.Sounds.Dir)
	return nil
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(args)
	case "call":
		err = call(args)
	case "democrm":
		err = democrm(args)
	case "check":
		err = check(args, os.Stdout)
	case "report":
		err = reportCmd(args)
	case "loadtest":
		err = loadtestCmd(args)
	case "backup":
		err = backup(args, os.Stdout)
	case "hash-password":
		err = hashPassword(args, os.Stdin, os.Stdout)
	case "version", "-version", "--version":
		fmt.Print(versionReport())
	case "help", "-h", "-help", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "idv: unknown command %q\n\n", cmd)
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idv:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: idv <command> [flags]

commands:
  serve     run the FastAGI ID&V service (see config.toml)
  call      act as Asterisk and place one call against a running idv serve
  democrm   run the reference CRM with its demo customers
  check     validate a configuration and the prompt files it names
  report    build a report (PDF, XLSX, CSV) from the interaction records
  loadtest  act as many Asterisk instances at once and measure idv (and a bare baseline)
  hash-password
            read a password on standard input, print its bcrypt hash for [[web.user]]
  backup    copy the SQLite database into a new file while idv runs (PostgreSQL: pg_dump)
  version   print the version, the source revision and the Go release

Run "idv <command> -h" for a command's flags.
`)
}
