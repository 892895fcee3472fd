// Package app wires idv together: it builds every component from a config.Config and
// runs them — the FastAGI server and its handlers, the store, the CRM client, the demo
// CRM, the web server, the live views (shared between instances on PostgreSQL), the ARI
// observer and the report scheduler — and implements Start, Reload and Shutdown. It is
// the one place where configuration becomes running code.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
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

// App is a running idv.
type App struct {
	// Store holds the interaction records.
	Store *store.Store
	// Live is the real-time state of calls and agents.
	Live *live.Hub
	// Scheduler runs the report schedules; nil without any.
	Scheduler *report.Scheduler

	cfg      *config.Config // what is running; Reload replaces its reloadable keys
	log      zerolog.Logger
	instance string
	metrics  *metrics.Metrics
	client   *crm.Client
	calls    *Calls

	agi      *agi.Server
	agiAddr  net.Addr
	crm      *http.Server
	crmAddr  net.Addr
	web      *http.Server
	webAddr  net.Addr
	serving  atomic.Bool
	cancel   context.CancelFunc // stops the background goroutines
	routines sync.WaitGroup     // the background goroutines
	// keep is what the daily prune keeps, set with the rules: a reload's security
	// windows apply to it.
	keep atomic.Pointer[store.Retention]
	// known is what report filters may name, from the configuration in force.
	known atomic.Pointer[report.Known]
	// auditRetention is web.audit_retention, pruned with the records.
	auditRetention time.Duration
	// roster follows the agents' states for the agents view.
	roster *live.Roster
}

// fdReserve is the open files the FastAGI cap leaves to all but the calls: the CRM
// client's connections (a cap per host: the CRM's and, say, an SMS gateway's), the
// database's (16 at most), the web server's (web.max_connections), and 64 for ARI, the
// listeners, the log and the demo CRM.
func fdReserve(cfg *config.Config) int {
	return 2*crm.MaxConnsPerHost + 16 + cfg.Web.MaxConnections + 64
}

// flowScripts are the FastAGI scripts that run the ID&V flow.
var flowScripts = []flow.Script{flow.ScriptIDV, flow.ScriptIdentify, flow.ScriptVerify}

// AgentScript is the FastAGI script of the queue member gosub (agi://host/agent).
const AgentScript = "agent"

// Scripts are the FastAGI scripts idv serves: agi://host/SCRIPT.
func Scripts() []string {
	out := []string{}
	for _, s := range flowScripts {
		out = append(out, string(s))
	}
	return append(out, AgentScript)
}

// Start opens the store, starts every component the configuration enables and serves
// FastAGI. ctx bounds only the start; Shutdown stops what Start started.
func Start(ctx context.Context, cfg *config.Config, log zerolog.Logger) (*App, error) {
	driver, dsn := cfg.Store.Open()
	st, err := store.Open(ctx, driver, dsn)
	if err != nil {
		key := "store.path"
		if driver == store.Postgres {
			key = "store.dsn"
		}
		return nil, &config.Error{File: cfg.File, Key: key, Reason: err.Error()}
	}
	visible := cfg.Privacy.ANIVisibleDigits
	st.MaskANI = func(ani string) string { return flow.Mask(ani, visible) }
	client, err := crm.New(cfg.CRM.Settings())
	if err != nil {
		st.Close()
		return nil, &config.Error{File: cfg.File, Key: "crm", Reason: err.Error()}
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &App{Store: st, Live: live.New(st, cfg.Report.Location()), cfg: cfg, log: log, instance: cluster.InstanceName(),
		metrics: metrics.New(), client: client, cancel: cancel, auditRetention: cfg.Web.AuditRetention}
	a.Live.MaskANI = st.MaskANI // the pop shows the calling number as the records keep it
	if driver == store.Postgres {
		// Instances sharing PostgreSQL share their live state too (cluster package).
		sh := &cluster.Sharer{Store: st, DSN: dsn, Instance: a.instance, Hub: a.Live, Log: log}
		a.Live.Forward = sh.Forward
		a.goRun(func() { sh.Run(bg) })
	}
	a.roster = &live.Roster{Hub: a.Live}
	if c := cfg.ARI; c.URL != "" {
		a.roster.Endpoints = live.ARIEndpoints(c.URL, c.User, c.Password, nil)
	}
	a.goRun(func() { a.roster.Run(bg) })
	if err := a.startDemoCRM(cfg); err != nil {
		a.close()
		return nil, err
	}
	if err := a.startWeb(cfg); err != nil {
		a.close()
		return nil, err
	}
	observers := []Observer{a.metrics}
	if cfg.ARI.URL == "" {
		// No ARI to follow the queued calls: their outcome from idv's own times, read from
		// the hub before it forgets the call.
		observers = append(observers, &QueueTimes{Sink: st, Hub: a.Live, Log: log, Timeout: cfg.Store.RecordTimeout})
	}
	observers = append(observers, a.Live)
	if c := cfg.ARI; c.URL != "" {
		obs := &idvari.Observer{Sink: st, Log: log, Answered: a.Live.AgentConnected, AgentState: a.Live.SetAgentState}
		observers = append(observers, obs) // it follows the calls idv queues
		opts := idvari.Options{URL: c.URL, WebsocketURL: c.WebsocketURL, User: c.User, Password: c.Password,
			Application: ariApplication(c.Application, driver, a.instance)}
		a.goRun(func() { idvari.Watch(bg, opts, obs, log) })
	}
	sched, err := scheduler(cfg, st, a.instance, log)
	if err != nil {
		a.close()
		return nil, err
	}
	if sched != nil {
		a.Scheduler = sched
		a.goRun(func() { sched.Run(bg) })
		log.Info().Int("schedules", len(sched.Schedules)).Str("owner", sched.Owner).Msg("report schedules running")
	}
	ln, err := net.Listen("tcp", cfg.AGI.Listen)
	if err != nil {
		a.close()
		return nil, &config.Error{File: cfg.File, Key: "agi.listen", Reason: err.Error()}
	}
	a.agiAddr = ln.Addr()
	stepLevel, _ := zerolog.ParseLevel(cfg.Log.StepLevel())
	a.calls = &Calls{Log: log, StepLevel: stepLevel, NewID: newID, Observers: observers, OnUnknownLine: a.metrics.UnknownLine}
	a.calls.Use(a.rules(cfg, client))
	a.goRun(func() { st.PruneDaily(bg, func() store.Retention { return *a.keep.Load() }, a.pruned) })
	mux := &agi.Mux{Log: log}
	for _, script := range flowScripts {
		mux.Handle(string(script), a.calls)
	}
	mux.Handle(AgentScript, &Agents{Log: log, Connect: a.Live})
	maxConns := cfg.AGI.MaxConnections
	if maxConns == 0 {
		maxConns = agi.DefaultMaxConns(fdReserve(cfg))
	}
	a.agi = &agi.Server{
		Handler: mux,
		Timeouts: agi.Timeouts{Env: cfg.AGI.EnvTimeout, Reply: cfg.AGI.ReplyTimeout, Playback: cfg.AGI.PlaybackTimeout,
			Queue: cfg.AGI.QueueTimeout, Write: cfg.AGI.WriteTimeout},
		Log:       log,
		Allow:     cfg.AllowedPeers(),
		MaxConns:  maxConns,
		OnRefused: a.metrics.AGIRefused,
	}
	for _, w := range cfg.Warnings() {
		log.Warn().Str("key", w.Key).Msg(w.Reason)
	}
	a.serving.Store(true)
	a.goRun(func() {
		defer a.serving.Store(false)
		if err := a.agi.Serve(ln); !errors.Is(err, agi.ErrServerClosed) {
			log.Error().Err(err).Msg("FastAGI server stopped accepting calls")
		}
	})
	log.Info().Str("listen", ln.Addr().String()).Int("max_connections", maxConns).Str("config", cfg.File).Str("store", driver).
		Str("crm", crm.Redact(cfg.CRM.BaseURL)).Int("lines", len(cfg.Lines.ByName)).Msg("idv serving FastAGI")
	return a, nil
}

// rules are what calls run by under cfg, with client as the directory.
func (a *App) rules(cfg *config.Config, client *crm.Client) *Rules {
	s := cfg.Security
	guard := &store.Guard{Store: a.Store, LockoutFailures: s.LockoutFailures, CustomerFailures: s.CustomerFailures,
		LockoutWindow: s.LockoutWindow, PerANI: s.PerANI, Withheld: s.Withheld, Global: s.Global, IdentifyWindow: s.IdentifyWindow}
	a.keep.Store(&store.Retention{Records: cfg.Store.Retention, Guard: s.Longest()})
	return &Rules{
		Runner:           &flow.Runner{Directory: client, Recorder: a.Store, Guard: guard, RecordTimeout: cfg.Store.RecordTimeout},
		Lines:            cfg.Lines,
		ANIVisibleDigits: cfg.Privacy.ANIVisibleDigits,
	}
}

// goRun runs f in the background; Shutdown waits for it.
func (a *App) goRun(f func()) {
	a.routines.Add(1)
	go func() { defer a.routines.Done(); f() }()
}

// pruned logs what a daily prune deleted (store.retention).
func (a *App) pruned(p store.Pruned, err error) {
	a.pruneAudit()
	if err != nil {
		a.log.Error().Err(err).Msg("pruning old records failed; the next try is in 24 h")
		return
	}
	a.log.Info().Int64("interactions", p.Interactions).Int64("events", p.Events).
		Int64("guard_counters", p.GuardEvents+p.VerifyAttempts).Msg("records older than store.retention pruned")
}

// pruneAudit deletes the audit entries older than web.audit_retention.
func (a *App) pruneAudit() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := a.Store.PruneAudit(ctx, time.Now().Add(-a.auditRetention))
	if err != nil {
		a.log.Error().Err(err).Msg("pruning the audit failed; the next try is in 24 h")
		return
	}
	a.log.Info().Int64("audit_entries", n).Msg("audit entries older than web.audit_retention pruned")
}

func (a *App) startDemoCRM(cfg *config.Config) error {
	if !cfg.DemoCRM.Enabled {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.DemoCRM.Listen)
	if err != nil {
		return &config.Error{File: cfg.File, Key: "democrm.listen", Reason: err.Error() + " (set democrm.enabled = false to use your own CRM)"}
	}
	a.crmAddr = ln.Addr()
	a.crm = demo.Server()
	a.goRun(func() {
		if err := a.crm.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.log.Error().Err(err).Msg("demo crm stopped")
		}
	})
	a.log.Info().Str("listen", ln.Addr().String()).Int("customers", len(demo.Seed)).Msg("demo crm serving")
	return nil
}

func (a *App) startWeb(cfg *config.Config) error {
	known := ReportKnown(cfg)
	a.known.Store(&known)
	if cfg.Web.Listen == "" {
		return nil
	}
	wl, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		return &config.Error{File: cfg.File, Key: "web.listen", Reason: err.Error()}
	}
	a.webAddr = wl.Addr()
	proxies, _ := cfg.Web.Proxies() // checked with the configuration
	users := make([]web.User, len(cfg.Web.Users))
	for i, u := range cfg.Web.Users {
		users[i] = web.User{Name: u.Name, PasswordHash: u.PasswordBcrypt, Role: u.Role, Agent: u.Agent}
	}
	api := &web.Server{Reports: a.Store, Interactions: a.Store, Location: cfg.Report.Location(),
		Render: report.Options{Font: cfg.Report.Font}, Known: func() report.Known { return *a.known.Load() }, Log: a.log,
		Access:  web.Access{Users: users, ProxyHeader: cfg.Web.ProxyHeader, TrustedProxies: proxies, Open: cfg.Web.Open},
		Metrics: promhttp.HandlerFor(a.metrics.Registry, promhttp.HandlerOpts{}),
		Ready:   a.Ready,
		Live:    a.Live, Lister: a.Store, UI: web.UI{WrapUpCodes: cfg.Web.WrapUpCodes, WrapUpLabels: cfg.Web.WrapUpLabels, CRMLink: cfg.Web.CRMLink},
		ShareKey: []byte(cfg.Web.ShareKey), ShareTTL: cfg.Web.ShareLinkTTL, ShareRegion: cfg.Lines.ByName[flow.DefaultLine].Region,
		Audit: a.Store, MaxConnections: cfg.Web.MaxConnections,
		MaxConnectionsPerClient: cfg.Web.MaxConnectionsPerClient, IdleTimeout: cfg.Web.IdleTimeout}
	a.web = api.HTTP()
	wb := &web.Wallboard{Server: api, Store: a.Store, ServiceLevel: time.Duration(cfg.Web.ServiceLevelSeconds) * time.Second,
		Thresholds: web.Thresholds(cfg.Web.Thresholds), Lines: known.Lines, Roster: a.roster}
	a.web.Handler = wb.Wrap(a.web.Handler)
	a.goRun(func() {
		if err := a.web.Serve(api.Listener(wl)); !errors.Is(err, http.ErrServerClosed) {
			a.log.Error().Err(err).Msg("web server stopped")
		}
	})
	a.log.Info().Str("listen", wl.Addr().String()).Msg("web serving")
	return nil
}

// AGIAddr is the FastAGI listener's address.
func (a *App) AGIAddr() net.Addr { return a.agiAddr }

// WebAddr is the web server's address; nil without web.listen.
func (a *App) WebAddr() net.Addr { return a.webAddr }

// CRMAddr is the demo CRM's address; nil when it is off.
func (a *App) CRMAddr() net.Addr { return a.crmAddr }

// Ready is /readyz: the database answers and the FastAGI server takes calls.
func (a *App) Ready(ctx context.Context) error {
	if !a.serving.Load() {
		return errors.New("FastAGI server not serving")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.Store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// Shutdown stops taking calls, waits up to agi.shutdown_timeout for the calls in
// progress (then cuts them: the dialplan's fallback takes them), and stops everything
// else, waiting for every background goroutine.
func (a *App) Shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.AGI.ShutdownTimeout)
	defer cancel()
	if err := a.agi.Shutdown(ctx); err != nil {
		a.log.Warn().Err(err).Msg("calls still in progress at the deadline were cut")
	}
	a.close()
	a.log.Info().Msg("idv stopped")
}

// close stops every component that started and waits for the background goroutines.
func (a *App) close() {
	if a.agi != nil {
		a.agi.Shutdown(context.Background())
	}
	a.cancel()
	a.client.HTTP.CloseIdleConnections()
	if a.crm != nil {
		a.crm.Close()
	}
	if a.web != nil {
		a.web.Close()
	}
	a.routines.Wait()
	if err := a.Store.Close(); err != nil {
		a.log.Error().Err(err).Msg("closing store")
	}
}

func newID() string {
	return ulid.MustNew(ulid.Now(), rand.Reader).String()
}

// NewLogger logs JSON lines, or a human console when log.format is "console", or
// "auto" on a terminal.
func NewLogger(c config.Log, w io.Writer) zerolog.Logger {
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
