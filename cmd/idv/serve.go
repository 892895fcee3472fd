package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/rs/zerolog"

	"github.com/idv-project/idv/agi"
	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/crm"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/store"
)

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	path := fs.String("config", envOr("IDV_CONFIG", "config.toml"), "configuration file")
	fs.Parse(args)
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if err := cfg.CheckSounds(); err != nil {
		return err
	}
	log := newLogger(cfg.Log, os.Stdout)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	svc, err := start(ctx, cfg, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info().Dur("deadline", cfg.AGI.ShutdownTimeout).Msg("shutting down: no new calls, waiting for calls in progress")
	return svc.shutdown(cfg.AGI.ShutdownTimeout)
}

// service is a running idv: FastAGI server, store and, if configured, the demo CRM.
type service struct {
	agi     *agi.Server
	agiAddr net.Addr
	crm     *http.Server
	crmAddr net.Addr
	store   *store.Store
	client  *crm.Client
	log     zerolog.Logger
}

// start opens the store, starts the demo CRM if configured and serves FastAGI.
func start(ctx context.Context, cfg *config.Config, log zerolog.Logger) (*service, error) {
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return nil, err
	}
	st.MaskANI = cfg.MaskANI
	client := cfg.Client()
	svc := &service{store: st, log: log, client: client}
	if cfg.DemoCRM.Enabled {
		ln, err := net.Listen("tcp", cfg.DemoCRM.Listen)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("demo crm: %w (set democrm.enabled = false to use your own CRM)", err)
		}
		svc.crmAddr = ln.Addr()
		svc.crm = &http.Server{Handler: demo.New(demo.Seed).Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := svc.crm.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				log.Error().Err(err).Msg("demo crm stopped")
			}
		}()
		log.Info().Str("listen", ln.Addr().String()).Int("customers", len(demo.Seed)).Msg("demo crm serving")
	}
	ln, err := net.Listen("tcp", cfg.AGI.Listen)
	if err != nil {
		svc.closeAll()
		return nil, fmt.Errorf("agi listen: %w", err)
	}
	svc.agiAddr = ln.Addr()
	svc.agi = &agi.Server{
		Runner: &flow.Runner{Directory: client, Recorder: st},
		Lines:  cfg,
		Timeouts: agi.Timeouts{Env: cfg.AGI.EnvTimeout, Reply: cfg.AGI.ReplyTimeout, Playback: cfg.AGI.PlaybackTimeout,
			Queue: cfg.AGI.QueueTimeout, Write: cfg.AGI.WriteTimeout},
		Log:     log,
		NewID:   newID,
		MaskANI: cfg.MaskANI,
	}
	go func() {
		if err := svc.agi.Serve(ln); !errors.Is(err, agi.ErrServerClosed) {
			log.Error().Err(err).Msg("FastAGI server stopped accepting calls")
		}
	}()
	log.Info().Str("listen", ln.Addr().String()).Str("config", cfg.File).Str("store", cfg.Store.Path).
		Str("crm", cfg.CRM.BaseURL).Int("lines", len(cfg.Lines)).Str("version", version()).Msg("idv serving FastAGI")
	return svc, nil
}

// shutdown drains calls for up to timeout, then closes everything.
func (s *service) shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.agi.Shutdown(ctx)
	if err != nil {
		s.log.Warn().Err(err).Msg("calls still in progress at the deadline were cut")
	}
	s.closeAll()
	s.log.Info().Msg("idv stopped")
	return nil
}

func (s *service) closeAll() {
	s.client.HTTP.CloseIdleConnections()
	if s.crm != nil {
		s.crm.Close()
	}
	if err := s.store.Close(); err != nil {
		s.log.Error().Err(err).Msg("closing store")
	}
}

func newID() string {
	return ulid.MustNew(ulid.Now(), rand.Reader).String()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// newLogger logs JSON lines, or a human console when format is "console" or "auto" on a
// terminal.
func newLogger(c config.Log, w io.Writer) zerolog.Logger {
	level, _ := zerolog.ParseLevel(c.Level)
	out := w
	if c.Format == "console" || c.Format == "auto" && isTerminal(w) {
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
