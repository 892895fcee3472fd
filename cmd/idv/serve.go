package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/idv-project/idv/app"
	"github.com/idv-project/idv/config"
)

func serve(args []string) error {
	fs := newFlagSet("serve", "[-config FILE]", `Runs the FastAGI ID&V service that Asterisk calls with
  AGI(agi://HOST:4573/idv?line=LINE)
and, when democrm.enabled, the demo CRM. SIGHUP reloads the configuration (lines,
prompts, routes, CRM, security limits) without dropping calls; a bad file is rejected
and the running configuration stays. SIGTERM or SIGINT stops taking calls and waits for
those in progress (agi.shutdown_timeout).`)
	path := fs.String("config", envOr("IDV_CONFIG", "config.toml"), "configuration file (env IDV_CONFIG)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file until idv stops (for go tool pprof)")
	memprofile := fs.String("memprofile", "", "write an allocation profile to this file when idv stops (for go tool pprof -sample_index=alloc_space)")
	fs.Parse(args)
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			return err
		}
		defer func() {
			runtime.GC() // the heap figures as of the last collection
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	cfg, err := loadChecked(*path)
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg.Log, os.Stdout)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log.Info().Str("version", version()).Str("config", *path).Msg("idv starting")
	a, err := app.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	for {
		select {
		case <-hup:
			next, err := loadChecked(*path)
			if err == nil {
				_, err = a.Reload(next)
			}
			if err != nil {
				log.Error().Err(err).Msg("configuration rejected; the running configuration stays")
			}
		case <-ctx.Done():
			log.Info().Dur("deadline_ms", cfg.AGI.ShutdownTimeout).Msg("shutting down: no new calls, waiting for calls in progress")
			a.Shutdown()
			return nil
		}
	}
}

// loadChecked reads a configuration and checks the prompt files it names.
func loadChecked(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.CheckSounds(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
