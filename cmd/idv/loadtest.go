package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/idv-project/idv/loadtest"
)

func loadtestCmd(args []string) error { return loadtestTo(os.Stdout, os.Stderr, args) }

// loadtestTo runs a load and prints its summary to out and its progress to progress.
func loadtestTo(out, progress io.Writer, args []string) error {
	fs := newFlagSet("loadtest", "[flags]", `Acts as many Asterisk instances at once against idv's FastAGI port and prints calls/s,
errors by kind, percentiles of the server's time per AGI command and per flow, and the
server's memory per call in progress. Without -target it starts its own idv serve (demo
CRM, SQLite in a temporary directory); with -baseline it also runs the same calls
against a bare zaf/agi server sending the same commands and against the fair floor (the
same commands, CRM requests and record writes, with nothing else), and prints the ratios.
-server-cpus and -load-cpus pin idv and the load generator to separate cores.
Traffic goes only to loopback. Examples:
  idv loadtest                               # 5,000 calls, 50 at once, at most 60 s
  idv loadtest -baseline -c 200 -n 50000
  idv loadtest -baseline -server-cpus 1 -load-cpus 0   # idv on a core of its own
  idv loadtest -realistic -c 2000 -d 2m      # hold 2,000 calls with real prompt and typing times
  idv loadtest -target 127.0.0.1:4573 -metrics http://127.0.0.1:8080/metrics`)
	target := fs.String("target", "", "FastAGI address of a running idv serve (default: start one)")
	metricsURL := fs.String("metrics", "", "with -target: idv's /metrics URL, to read its memory")
	conc := fs.Int("c", 50, "calls in progress at once")
	calls := fs.Int("n", 5000, "stop after this many calls (0: only the time cap)")
	dur := fs.Duration("d", 60*time.Second, "time cap: calls still in progress then are cut (0: only the call cap)")
	ramp := fs.Duration("ramp", 0, "spread the start of the -c callers over this time")
	mix := fs.String("mix", "", "scenario weights, e.g. ani-verified=50,opt-out=50; names: "+strings.Join(loadtest.Names(), ", "))
	line := fs.String("line", "", "service line (?line=)")
	prompt := fs.Duration("prompt", 0, "simulated playback time of a prompt")
	key := fs.Duration("key", 0, "simulated time the caller takes per key")
	queue := fs.Duration("queue", 0, "simulated time in the agent queue")
	realistic := fs.Bool("realistic", false, "shorthand for -prompt 3s -key 400ms -queue 20s (a concurrency run)")
	baseline := fs.Bool("baseline", false, "also run the same calls against a bare zaf/agi server and print idv/baseline")
	cpuprofile := fs.String("cpuprofile", "", "write the started idv serve's CPU profile to this file")
	memprofile := fs.String("memprofile", "", "write the started idv serve's allocation profile to this file when it stops")
	serverCPUs := fs.String("server-cpus", "", "pin the measured servers (idv serve, baseline, fair floor) to these CPUs, e.g. 1 (taskset)")
	serverNoFile := fs.Int("server-nofile", 0, "run the started idv serve under this open-file limit (prlimit), e.g. 4096: its call cap is the limit less its reserve")
	loadCPUs := fs.String("load-cpus", "", "pin this load generator and the demo CRM to these CPUs, e.g. 0")
	serveBaseline := fs.String("serve-baseline", "", "internal: serve the baseline on this address")
	sequences := fs.String("sequences", "", "internal: with -serve-baseline, the command sequences file")
	serveFloor := fs.String("serve-floor", "", "internal: serve the fair floor on this address")
	floorPlan := fs.String("floor-plan", "", "internal: with -serve-floor, the plan file")
	floorCRM := fs.String("floor-crm", "", "internal: with -serve-floor, the CRM's base URL")
	floorDB := fs.String("floor-db", "", "internal: with -serve-floor, the SQLite file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *serveBaseline != "" {
		return loadtest.ListenAndServeBaseline(ctx, *serveBaseline, *sequences)
	}
	if *serveFloor != "" {
		return loadtest.ListenAndServeFloor(ctx, *serveFloor, *floorPlan, *floorCRM, *floorDB)
	}
	scenarios, err := loadtest.ParseMix(*mix)
	if err != nil {
		return err
	}
	if *realistic {
		*prompt, *key, *queue = 3*time.Second, 400*time.Millisecond, 20*time.Second
	}
	script := "idv"
	if *line != "" {
		script += "?line=" + *line
	}
	plan := loadtest.Plan{
		Load: loadtest.Options{Target: *target, Script: script, Mix: scenarios, Concurrency: *conc, Calls: *calls, Duration: *dur,
			RampUp: *ramp, PromptTime: *prompt, KeyTime: *key, QueueTime: *queue},
		MetricsURL:   *metricsURL,
		Baseline:     *baseline,
		ServerCPUs:   *serverCPUs,
		ServerNoFile: *serverNoFile,
		LoadCPUs:     *loadCPUs,
		// The servers are this binary's own commands.
		Processes: loadtest.Processes{
			CRM: func(addr string) []string { return []string{"democrm", "-listen", addr} },
			Serve: func(config string) []string {
				args := []string{"serve", "-config", config}
				if *cpuprofile != "" {
					args = append(args, "-cpuprofile", *cpuprofile)
				}
				if *memprofile != "" {
					args = append(args, "-memprofile", *memprofile)
				}
				return args
			},
			Baseline: func(addr, sequences string) []string {
				return []string{"loadtest", "-serve-baseline", addr, "-sequences", sequences}
			},
			Floor: func(addr, plan, crm, db string) []string {
				return []string{"loadtest", "-serve-floor", addr, "-floor-plan", plan, "-floor-crm", crm, "-floor-db", db}
			},
		},
	}
	return loadtest.Drive(ctx, plan, out, progress)
}
