package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/idv-project/idv/agi"
	idvari "github.com/idv-project/idv/ari"
	"github.com/idv-project/idv/cluster"
	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/crm"
	"github.com/idv-project/idv/crm/demo"
	"github.com/idv-project/idv/flow"
	"github.com/idv-project/idv/live"
	"github.com/idv-project/idv/metrics"
	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/web"
)

func serve(args []string) error {
	fs := newFlagSet("serve", "[-config FILE]", `Runs the FastAGI ID&V service that Asterisk calls with
  AGI(agi://HOST:4573/idv?line=LINE)
and, when democrm.enabled, the demo CRM. SIGHUP reloads the configuration (lines,
prompts, routes, CRM) without dropping calls; a bad file is rejected and the running
configuration stays. SIGTERM or SIGINT stops taking calls and waits for those in
progress (agi.shutdown_timeout).`)
	path := fs.String("config", envOr("IDV_CONFIG", "config.toml"), "configuration file (env IDV_CONFIG)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file until idv stops (for go tool pprof)")
	fs.Parse(args)
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
	log := newLogger(cfg.Log, os.Stdout)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	svc, err := start(ctx, cfg, log)
	if err != nil {
		return err
	}
	for {
		select {
		case <-hup:
			if next, err := svc.reload(cfg, *path); err != nil {
				log.Error().Err(err).Msg("configuration rejected; the running configuration stays")
			} else {
				cfg = next
			}
		case <-ctx.Done():
			log.Info().Dur("deadline", cfg.AGI.ShutdownTimeout).Msg("shutting down: no new calls, waiting for calls in progress")
			return svc.shutdown(cfg.AGI.ShutdownTimeout)
		}
	}
}

// guard is the lockout and throttling of the configuration, kept in the store.
func guard(cfg *config.Config, st *store.Store) *store.Guard {
	s := cfg.Security
	return &store.Guard{Store: st, LockoutFailures: s.LockoutFailures, LockoutWindow: s.LockoutWindow,
		PerANI: s.PerANI, Global: s.Global, IdentifyWindow: s.IdentifyWindow}
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

// reload reads the configuration again and, when it is good, makes new calls use its
// lines, prompts, routes and CRM settings. Settings that only a restart can change are
// named in the log and keep their running values.
func (s *service) reload(running *config.Config, path string) (*config.Config, error) {
	next, err := loadChecked(path)
	if err != nil {
		return nil, err
	}
	for key, changed := range map[string]bool{
		"agi": !reflect.DeepEqual(next.AGI, running.AGI), "store": next.Store != running.Store,
		"democrm": next.DemoCRM != running.DemoCRM, "log": next.Log != running.Log,
		"privacy": next.Privacy != running.Privacy, "report": !reflect.DeepEqual(next.Report, running.Report),
		"web": !reflect.DeepEqual(next.Web, running.Web),
	} {
		if changed {
			s.log.Warn().Str("table", key).Msg("changed in the configuration file; it takes effect at the next restart")
		}
	}
	next.AGI, next.Store, next.DemoCRM, next.Log, next.Privacy = running.AGI, running.Store, running.DemoCRM, running.Log, running.Privacy
	next.Report, next.Web = running.Report, running.Web
	client := next.Client()
	s.agi.Reload(&flow.Runner{Directory: client, Recorder: s.store, Guard: guard(next, s.store), RecordTimeout: running.Store.RecordTimeout}, next)
	s.log.Info().Str("config", path).Int("lines", len(next.Lines)).Str("crm", next.CRM.BaseURL).Msg("configuration reloaded")
	return next, nil
}

// service is a running idv: FastAGI server, store and, if configured, the demo CRM.
type service struct {
	agi     *agi.Server
	agiAddr net.Addr
	crm     *http.Server
	crmAddr net.Addr
	web     *http.Server
	webAddr net.Addr

	scheduler     *report.Scheduler
	stopScheduler context.CancelFunc
	stopSharing   func()
	instance      string
	metrics       *metrics.Metrics
	live          *live.Hub
	stopARI       context.CancelFunc
	ari           *idvari.Observer // nil without [ari]
	serving       atomic.Bool
	store         *store.Store
	client        *crm.Client
	log           zerolog.Logger
}

// start opens the store, starts the demo CRM if configured and serves FastAGI.
func start(ctx context.Context, cfg *config.Config, log zerolog.Logger) (*service, error) {
	driver, dsn := cfg.Store.Open()
	st, err := store.Open(ctx, driver, dsn)
	if err != nil {
		return nil, err
	}
	st.MaskANI = cfg.MaskANI
	client := cfg.Client()
	svc := &service{store: st, log: log, client: client, metrics: metrics.New(), live: live.New(st, cfg.Report.Location()),
		instance: cluster.InstanceName()}
	if driver == store.Postgres {
		// Instances sharing PostgreSQL share their live state too (cluster package).
		sh := &cluster.Sharer{DB: st.DB(), DSN: dsn, Instance: svc.instance, Hub: svc.live, Log: log}
		svc.live.Forward = sh.Forward
		sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		svc.stopSharing = func() { stop(); <-done }
		go func() { sh.Run(sctx); close(done) }()
	}
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
	if cfg.Web.Listen != "" {
		wl, err := net.Listen("tcp", cfg.Web.Listen)
		if err != nil {
			svc.closeAll()
			return nil, fmt.Errorf("web listen (web.listen): %w", err)
		}
		svc.webAddr = wl.Addr()
		users := make([]web.User, len(cfg.Web.Users))
		for i, u := range cfg.Web.Users {
			users[i] = web.User{Name: u.Name, PasswordHash: u.PasswordBcrypt, Role: u.Role, Agent: u.Agent}
		}
		api := &web.Server{Reports: report.NewSource(st), Interactions: st, Location: cfg.Report.Location(),
			Render: report.Options{Font: cfg.Report.Font}, Log: log,
			Access:  web.Access{Users: users, ProxyHeader: cfg.Web.ProxyHeader, Open: cfg.Web.Open},
			Metrics: promhttp.HandlerFor(svc.metrics.Registry, promhttp.HandlerOpts{}),
			Ready:   svc.ready,
			Live:    svc.live, Lister: st, UI: web.UI{WrapUpCodes: cfg.Web.WrapUpCodes, CRMLink: cfg.Web.CRMLink}}
		svc.web = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := svc.web.Serve(wl); !errors.Is(err, http.ErrServerClosed) {
				log.Error().Err(err).Msg("web server stopped")
			}
		}()
		log.Info().Str("listen", wl.Addr().String()).Msg("web serving /api/reports")
	}
	if a := cfg.ARI; a.URL != "" {
		actx, stop := context.WithCancel(context.WithoutCancel(ctx))
		svc.stopARI = stop
		svc.ari = &idvari.Observer{Sink: st, Log: log, Answered: svc.live.AgentConnected, AgentState: svc.live.SetAgentState}
		go idvari.Watch(actx, idvari.Options{URL: a.URL, WebsocketURL: a.WebsocketURL, User: a.User, Password: a.Password,
			Application: ariApplication(a.Application, driver, svc.instance)}, svc.ari, log)
	}
	sched, err := scheduler(cfg, st, svc.instance, log)
	if err != nil {
		svc.closeAll()
		return nil, err
	}
	if sched != nil {
		sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		svc.stopScheduler = func() { stop(); <-done }
		svc.scheduler = sched
		go func() { sched.Run(sctx); close(done) }()
		log.Info().Int("schedules", len(sched.Schedules)).Str("owner", sched.Owner).Msg("report schedules running")
	}
	ln, err := net.Listen("tcp", cfg.AGI.Listen)
	if err != nil {
		svc.closeAll()
		return nil, fmt.Errorf("agi listen: %w", err)
	}
	svc.agiAddr = ln.Addr()
	observers := []agi.Observer{svc.metrics, svc.live}
	if svc.ari != nil {
		observers = append(observers, svc.ari) // it follows the calls idv queues
	}
	svc.agi = &agi.Server{
		Runner: &flow.Runner{Directory: client, Recorder: st, Guard: guard(cfg, st), RecordTimeout: cfg.Store.RecordTimeout},
		Lines:  cfg,
		Timeouts: agi.Timeouts{Env: cfg.AGI.EnvTimeout, Reply: cfg.AGI.ReplyTimeout, Playback: cfg.AGI.PlaybackTimeout,
			Queue: cfg.AGI.QueueTimeout, Write: cfg.AGI.WriteTimeout},
		Log:       log,
		NewID:     newID,
		MaskANI:   cfg.MaskANI,
		Observers: observers,
		Allow:     cfg.AllowedPeers(),
		Agents:    svc.live,
	}
	svc.serving.Store(true)
	go func() {
		defer svc.serving.Store(false)
		if err := svc.agi.Serve(ln); !errors.Is(err, agi.ErrServerClosed) {
			log.Error().Err(err).Msg("FastAGI server stopped accepting calls")
		}
	}()
	log.Info().Str("listen", ln.Addr().String()).Str("config", cfg.File).Str("store", driver).
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

// ready is /readyz: the database answers and the FastAGI server takes calls.
func (s *service) ready(ctx context.Context) error {
	if !s.serving.Load() {
		return errors.New("FastAGI server not serving")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.store.DB().PingContext(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

func (s *service) closeAll() {
	if s.stopARI != nil {
		s.stopARI()
	}
	if s.stopScheduler != nil {
		s.stopScheduler()
	}
	if s.stopSharing != nil {
		s.stopSharing()
	}
	s.client.HTTP.CloseIdleConnections()
	if s.crm != nil {
		s.crm.Close()
	}
	if s.web != nil {
		s.web.Close()
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

// ariApplication is the ARI application name of this instance. Instances sharing
// PostgreSQL each need their own: Asterisk delivers an application's events to the last
// websocket that registered the name, and each instance follows only the calls it
// queued. A single instance keeps the configured name.
func ariApplication(name, driver, instance string) string {
	if driver != store.Postgres {
		return name
	}
	return name + "-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, instance)
}
