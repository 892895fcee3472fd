package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"
)

// Plan is a whole load test as `idv loadtest` runs it: the load, where its memory is
// read, whether the baseline runs too, and how to start the servers when there is no
// target.
type Plan struct {
	// Load is the load for both runs. Without a Target, Drive starts idv serve and the
	// demo CRM; with no Mix, it plays DefaultMix. Drive sets Progress and TTY itself.
	Load Options
	// MetricsURL, with a Target, is the Prometheus endpoint that reports its memory.
	MetricsURL string
	// Baseline also plays the same calls against the baseline server and prints the
	// ratios.
	Baseline bool
	// Processes start the servers of a run without a Target and the baseline.
	Processes Processes
	// ServerCPUs, when set, pins the measured servers (idv serve, the bare baseline, the
	// fair floor) to these CPUs (taskset's list, e.g. "1"); LoadCPUs pins this process
	// (the load generator) and the demo CRM, e.g. "0". Pinned apart, the load generator
	// no longer takes the measured server's CPU.
	ServerCPUs, LoadCPUs string
	// ServerNoFile, when positive, is the open-file limit (soft and hard) of the idv
	// serve started here (prlimit), so that the calls it holds up to its cap
	// (agi.DefaultMaxConns: the limit less a reserve) can be measured under a limit lower
	// than this machine's.
	ServerNoFile int
}

// Processes say how to start the servers a load test measures: one executable, run
// with the arguments each function returns. Each server runs as a process of its own so
// that the CPU and memory measured are its alone.
type Processes struct {
	// Executable is the idv binary; "" is this process's own (os.Executable).
	Executable string
	// CRM is the argument list that serves the demo CRM on addr.
	CRM func(addr string) []string
	// Serve is the argument list that runs idv serve with the configuration file config.
	Serve func(config string) []string
	// Baseline is the argument list that serves ListenAndServeBaseline on addr with the
	// sequences file.
	Baseline func(addr, sequences string) []string
	// Floor, when set, is the argument list that serves ListenAndServeFloor on addr with
	// the plan file, the CRM at crm and its database at db: the baseline run then also
	// plays the calls against the fair floor (only when Drive started idv, whose
	// database says what each call did).
	Floor func(addr, plan, crm, db string) []string
}

// Drive runs the plan: it starts the servers it needs, warms the target up with one call
// of each scenario, plays the load against the baseline (if asked) and then the target,
// and prints the summaries and ratios to out and the progress to progress. Calls that
// fail are reported, not returned as an error, unless none completed. When idv was
// started here and calls failed, its log and database are kept, and out says where.
func Drive(ctx context.Context, p Plan, out, progress io.Writer) error {
	o := p.Load
	if o.Target == "" && (p.Processes.CRM == nil || p.Processes.Serve == nil) {
		return errors.New("loadtest: no target, and no Processes.CRM and Processes.Serve to start one")
	}
	if p.Baseline && p.Processes.Baseline == nil {
		return errors.New("loadtest: a baseline run needs Processes.Baseline to start it")
	}
	if len(o.Mix) == 0 {
		o.Mix = DefaultMix
	}
	if progress == nil {
		progress = io.Discard
	}
	o.Progress, o.TTY = progress, false
	if f, ok := progress.(*os.File); ok {
		o.TTY = term.IsTerminal(int(f.Fd()))
	}
	if p.LoadCPUs != "" {
		if err := pinSelf(p.LoadCPUs); err != nil {
			return fmt.Errorf("loadtest: pinning the load generator to CPUs %s: %w", p.LoadCPUs, err)
		}
	}
	if limit := raiseFileLimit(o.Concurrency); limit < uint64(o.Concurrency)+200 {
		fmt.Fprintf(out, "warning: the open-file limit is %d (not raised: needs root or CAP_SYS_RESOURCE); each call in progress is a socket in idv and here, so expect connect errors above about %d calls at once\n", limit, limit-200)
	}
	exe := p.Processes.Executable
	if exe == "" && (o.Target == "" || p.Baseline) {
		var err error
		if exe, err = os.Executable(); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "idv-loadtest")
	if err != nil {
		return err
	}
	keep := false // the server's log and database stay for a look when calls failed
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	started := o.Target == ""
	crmAddr := ""
	if started {
		// The demo CRM runs as a process of its own, so that the server's CPU and memory
		// are idv's alone, as they are with a company CRM elsewhere.
		crm, err := startChild(ctx, dir, "democrm", runOn{CPUs: p.LoadCPUs}, exe, func(addr string) ([]string, error) {
			return p.Processes.CRM(addr), nil
		})
		if err != nil {
			return err
		}
		defer crm.stop()
		srv, err := startChild(ctx, dir, "idv serve", runOn{CPUs: p.ServerCPUs, NoFile: p.ServerNoFile}, exe, func(addr string) ([]string, error) {
			config, err := serveConfig(dir, addr, crm.addr)
			return p.Processes.Serve(config), err
		})
		if err != nil {
			return err
		}
		defer srv.stop()
		o.Target, o.Memory, o.CPU = srv.addr, srv.rss, srv.cpu
		crmAddr = crm.addr
		fmt.Fprintf(out, "started idv serve on %s (SQLite and log in %s) and the demo CRM on %s\n", srv.addr, dir, crm.addr)
	} else if p.MetricsURL != "" {
		o.Memory = metricsRSS(p.MetricsURL)
	}
	if err := Loopback(o.Target); err != nil {
		return err
	}
	// One call of each scenario warms the server up and records the commands it sends.
	seqs, ids, err := capture(ctx, o.Target, o.Script, o.Mix)
	if err != nil {
		return fmt.Errorf("warm-up call against %s: %w", o.Target, err)
	}
	fmt.Fprintf(out, "mix %s; %d at once; cap %d calls / %s; prompt %s, key %s, queue %s\n",
		mixString(o.Mix), o.Concurrency, o.Calls, o.Duration, o.PromptTime, o.KeyTime, o.QueueTime)

	var base, floor *Summary
	if p.Baseline {
		file := filepath.Join(dir, "sequences.json")
		if err := seqs.Save(file); err != nil {
			return err
		}
		bsrv, err := startChild(ctx, dir, "baseline", runOn{CPUs: p.ServerCPUs}, exe, func(addr string) ([]string, error) {
			return p.Processes.Baseline(addr, file), nil
		})
		if err != nil {
			return err
		}
		bo := o
		bo.Target, bo.Memory, bo.CPU, bo.ScriptFor = bsrv.addr, bsrv.rss, bsrv.cpu, BaselineScript
		fmt.Fprintln(progress, "baseline (zaf/agi, same commands, no flow, CRM or store):")
		base, err = Run(ctx, bo)
		bsrv.stop()
		if err != nil {
			return err
		}
		base.Print(out, "baseline: bare zaf/agi server, same command sequences")
		if started && p.Processes.Floor != nil {
			if floor, err = runFloor(ctx, p, o, dir, crmAddr, seqs, ids, exe, progress); err != nil {
				return err
			}
			floor.Print(out, "fair floor: bare zaf/agi server + the same CRM requests (net/http) + the same record (database/sql, one transaction per call)")
		}
	}
	fmt.Fprintln(progress, "idv:")
	sum, err := Run(ctx, o)
	if err != nil {
		return err
	}
	sum.Print(out, "idv")
	if sum.ErrorCount() > 0 && started {
		keep = true
		fmt.Fprintf(out, "  the server's log and database are kept in %s\n", dir)
	}
	if base != nil {
		sum.PrintRatios(out, base)
	}
	if floor != nil {
		sum.PrintAgainst(out, "fair floor", floor)
	}
	if sum.Completed == 0 {
		return errors.New("no call completed")
	}
	return nil
}

// runFloor plays the load against the fair floor: it reads from idv's database what
// each captured call did, starts the floor server with that plan and runs the calls.
func runFloor(ctx context.Context, p Plan, o Options, dir, crmAddr string, seqs Sequences, ids map[string]string, exe string, progress io.Writer) (*Summary, error) {
	plan, err := PlanFloor(ctx, filepath.Join(dir, "idv.db"), o.Mix, seqs, ids)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "floor.json")
	if err := plan.Save(file); err != nil {
		return nil, err
	}
	fsrv, err := startChild(ctx, dir, "floor", runOn{CPUs: p.ServerCPUs}, exe, func(addr string) ([]string, error) {
		return p.Processes.Floor(addr, file, "http://"+crmAddr, filepath.Join(dir, "floor.db")), nil
	})
	if err != nil {
		return nil, err
	}
	defer fsrv.stop()
	fo := o
	fo.Target, fo.Memory, fo.CPU, fo.ScriptFor = fsrv.addr, fsrv.rss, fsrv.cpu, FloorScript
	fmt.Fprintln(progress, "fair floor (zaf/agi, same commands, same CRM requests and records):")
	return Run(ctx, fo)
}
