// Package config reads config.toml: the schema, the built-in defaults and the checks
// that make idv refuse to start on a bad file, naming the file, the key and the reason.
package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nyaruka/phonenumbers"

	"github.com/idv-project/idv/crm"
	"github.com/idv-project/idv/flow"
)

// Config is the whole of config.toml.
type Config struct {
	AGI      AGI      `toml:"agi"`
	Log      Log      `toml:"log"`
	Privacy  Privacy  `toml:"privacy"`
	Store    Store    `toml:"store"`
	DemoCRM  DemoCRM  `toml:"democrm"`
	CRM      CRM      `toml:"crm"`
	Sounds   Sounds   `toml:"sounds"`
	Report   Report   `toml:"report"`
	Web      Web      `toml:"web"`
	ARI      ARI      `toml:"ari"`
	Security Security `toml:"security"`

	// Lines are the service lines by name, after defaults and [lines.default] applied.
	Lines map[string]*flow.Line `toml:"-"`
	// dnis maps a dialled number to its line.
	dnis   map[string]string
	crmTLS *tls.Config
	// File is where the configuration was read from.
	File string `toml:"-"`
}

// AGI is the FastAGI listener.
type AGI struct {
	Listen          string        `toml:"listen"`
	Allow           []string      `toml:"allow"`
	EnvTimeout      time.Duration `toml:"env_timeout"`
	ReplyTimeout    time.Duration `toml:"reply_timeout"`
	PlaybackTimeout time.Duration `toml:"playback_timeout"`
	QueueTimeout    time.Duration `toml:"queue_timeout"`
	WriteTimeout    time.Duration `toml:"write_timeout"`
	ShutdownTimeout time.Duration `toml:"shutdown_timeout"`
}

// Log is how idv logs.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// Privacy says what of the caller's data idv may keep.
type Privacy struct {
	ANIVisibleDigits int  `toml:"ani_visible_digits"`
	RecordIdentifier bool `toml:"record_identifier"`
}

// Store is the database of interaction records.
type Store struct {
	Driver        string        `toml:"driver"`
	Path          string        `toml:"path"`
	DSN           string        `toml:"dsn"`
	RecordTimeout time.Duration `toml:"record_timeout"`
}

// Open names what store.Open needs: the driver and, for it, the path or the DSN.
func (s Store) Open() (driver, dsn string) {
	if s.Driver == "postgres" {
		return s.Driver, s.DSN
	}
	return s.Driver, s.Path
}

// DemoCRM runs the reference CRM inside idv serve.
type DemoCRM struct {
	Enabled bool   `toml:"enabled"`
	Listen  string `toml:"listen"`
}

// Sounds says where idv finds the prompts to check them at start-up, and in which
// languages they must exist. Asterisk plays them from its own sounds directory.
type Sounds struct {
	Dir       string   `toml:"dir"`
	Languages []string `toml:"languages"`
}

// Security is lockout and throttling, kept in the database across calls and instances.
type Security struct {
	LockoutFailures int           `toml:"verify_lockout_failures"`
	LockoutWindow   time.Duration `toml:"verify_lockout_window"`
	PerANI          int           `toml:"identify_per_ani"`
	Global          int           `toml:"identify_global"`
	IdentifyWindow  time.Duration `toml:"identify_window"`
}

// ARI is Asterisk's REST interface, which idv observes for queue waits, agents and talk
// times. An empty url leaves it off.
type ARI struct {
	URL          string `toml:"url"`
	WebsocketURL string `toml:"websocket_url"`
	User         string `toml:"user"`
	Password     string `toml:"password"`
	Application  string `toml:"application"`
}

// Web is idv's HTTP server (reports and interactions API, metrics, health).
type Web struct {
	Listen      string    `toml:"listen"`
	WrapUpCodes []string  `toml:"wrapup_codes"`
	CRMLink     string    `toml:"crm_link"`
	Open        bool      `toml:"open"`
	ProxyHeader string    `toml:"proxy_user_header"`
	Users       []WebUser `toml:"user"`
}

// WebUser is someone who may sign in to the web server.
type WebUser struct {
	Name           string `toml:"name"`
	PasswordBcrypt string `toml:"password_bcrypt"`
	Role           string `toml:"role"`
	Agent          string `toml:"agent"`
}

// Report is historical reporting: rendering and schedules.
type Report struct {
	Timezone  string     `toml:"timezone"`
	Font      string     `toml:"font"`
	SMTP      SMTP       `toml:"smtp"`
	Schedules []Schedule `toml:"schedule"`

	location *time.Location
}

// Location is report.timezone loaded.
func (r Report) Location() *time.Location {
	if r.location == nil {
		return time.Local
	}
	return r.location
}

// SMTP is the mail server scheduled reports are sent through.
type SMTP struct {
	Host     string `toml:"host"`
	Port     int    `toml:"port"`
	User     string `toml:"user"`
	Password string `toml:"password"`
	From     string `toml:"from"`
	// StartTLS: "required" (default), "opportunistic" or "none".
	StartTLS string `toml:"starttls"`
}

// Schedule runs a report at cron times and delivers it.
type Schedule struct {
	Name      string   `toml:"name"`
	Cron      string   `toml:"cron"`
	Report    string   `toml:"report"`
	Range     string   `toml:"range"`
	Formats   []string `toml:"formats"`
	Lines     []string `toml:"lines"`
	Queues    []string `toml:"queues"`
	Statuses  []string `toml:"statuses"`
	Directory string   `toml:"directory"`
	Email     []string `toml:"email"`
	Webhook   string   `toml:"webhook"`
}

// CRM is the company back end.
type CRM struct {
	BaseURL         string        `toml:"base_url"`
	RequestTimeout  time.Duration `toml:"request_timeout"`
	BreakerFailures int           `toml:"breaker_failures"`
	BreakerOpen     time.Duration `toml:"breaker_open"`
	Auth            CRMAuth       `toml:"auth"`
	TLS             CRMTLS        `toml:"tls"`
	ByPhone         crm.Endpoint  `toml:"by_phone"`
	ByID            crm.Endpoint  `toml:"by_id"`
	Verify          crm.Endpoint  `toml:"verify"`
}

// CRMTLS is how idv trusts the back end and proves itself to it.
type CRMTLS struct {
	// CAFile is a PEM bundle of the authorities that sign the CRM's certificate (added to
	// the system's).
	CAFile string `toml:"ca_file"`
	// CertFile and KeyFile are idv's client certificate and key (PEM), for mutual TLS.
	CertFile   string `toml:"cert_file"`
	KeyFile    string `toml:"key_file"`
	ServerName string `toml:"server_name"`
}

// tlsConfig builds the client TLS configuration, nil when nothing is set.
func (t CRMTLS) tlsConfig() (*tls.Config, error) {
	if t == (CRMTLS{}) {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// CRMAuth is the back end's authentication.
type CRMAuth struct {
	Bearer   string `toml:"bearer"`
	User     string `toml:"user"`
	Password string `toml:"password"`
}

// line is a [lines.NAME] table.
type line struct {
	DNIS              []string      `toml:"dnis"`
	ANILookup         bool          `toml:"ani_lookup"`
	MinAttestation    string        `toml:"ani_min_attestation"`
	Region            string        `toml:"region"`
	Verify            bool          `toml:"verify"`
	IdentifyAttempts  int           `toml:"identify_attempts"`
	VerifyAttempts    int           `toml:"verify_attempts"`
	IDMinDigits       int           `toml:"id_min_digits"`
	IDMaxDigits       int           `toml:"id_max_digits"`
	SecretMinDigits   int           `toml:"secret_min_digits"`
	SecretMaxDigits   int           `toml:"secret_max_digits"`
	FirstDigitTimeout time.Duration `toml:"first_digit_timeout"`
	InterDigitTimeout time.Duration `toml:"inter_digit_timeout"`
	Terminator        string        `toml:"terminator"`
	OptOutKey         string        `toml:"opt_out_key"`
	CRMBudget         time.Duration `toml:"crm_budget"`
	Language          string        `toml:"language"`
	Prompts           prompts       `toml:"prompts"`
	Routes            routes        `toml:"routes"`
}

type prompts struct {
	Welcome     string `toml:"welcome"`
	EnterID     string `toml:"enter_id"`
	OptOutHint  string `toml:"opt_out_hint"`
	NoInput     string `toml:"no_input"`
	NotFound    string `toml:"not_found"`
	EnterSecret string `toml:"enter_secret"`
	SecretWrong string `toml:"secret_wrong"`
	Verified    string `toml:"verified"`
	Transfer    string `toml:"transfer"`
	TooMany     string `toml:"too_many_attempts"`
	Unavailable string `toml:"unavailable"`
	Locked      string `toml:"locked"`
}

type routes struct {
	Verified     string `toml:"verified"`
	Identified   string `toml:"identified"`
	Unidentified string `toml:"unidentified"`
	VerifyFailed string `toml:"verify_failed"`
	OptedOut     string `toml:"opted_out"`
	Error        string `toml:"error"`
}

// builtinLine is every line's starting point, before [lines.default] and its own table.
var builtinLine = line{
	ANILookup: true, Region: "JP", IdentifyAttempts: 3, VerifyAttempts: 3,
	IDMinDigits: 2, IDMaxDigits: 12, SecretMinDigits: 4, SecretMaxDigits: 8,
	FirstDigitTimeout: 6 * time.Second, InterDigitTimeout: 3 * time.Second,
	Terminator: "#", OptOutKey: "*", CRMBudget: 8 * time.Second,
	Prompts: prompts{
		Welcome: "idv/welcome", EnterID: "idv/enter-id", OptOutHint: "idv/opt-out-hint",
		NoInput: "idv/no-input", NotFound: "idv/not-found", EnterSecret: "idv/enter-secret",
		SecretWrong: "idv/secret-wrong", Verified: "idv/verified", Transfer: "idv/transfer",
		TooMany: "idv/too-many-attempts", Unavailable: "idv/service-unavailable", Locked: "idv/locked",
	},
	Routes: routes{
		Verified: "queue:support,,,,300", Identified: "queue:support,,,,300", Unidentified: "queue:support,,,,300",
		OptedOut: "queue:support,,,,300", Error: "queue:support,,,,300",
	},
}

// Defaults is the configuration with no file at all.
func Defaults() Config {
	byPhone, byID, verify := crm.ReferenceEndpoints("{base}")
	return Config{
		AGI: AGI{Listen: "127.0.0.1:4573", Allow: []string{}, EnvTimeout: 10 * time.Second, ReplyTimeout: 10 * time.Second,
			PlaybackTimeout: 2 * time.Minute, QueueTimeout: 8 * time.Hour, WriteTimeout: 10 * time.Second,
			ShutdownTimeout: 30 * time.Second},
		Log:     Log{Level: "info", Format: "auto"},
		Privacy: Privacy{ANIVisibleDigits: 4},
		Store:   Store{Driver: "sqlite", Path: "idv.db", RecordTimeout: 2 * time.Second},
		DemoCRM: DemoCRM{Enabled: true, Listen: "127.0.0.1:8089"},
		Sounds:  Sounds{Dir: "sounds", Languages: []string{"en", "ja"}},
		Report:  Report{Timezone: "Local", SMTP: SMTP{Port: 587, StartTLS: "required"}},
		Web: Web{Listen: "127.0.0.1:8080", Open: true,
			WrapUpCodes: []string{"resolved", "follow-up", "complaint", "sales", "other"}},
		ARI:      ARI{Application: "idv"},
		Security: Security{LockoutFailures: 5, LockoutWindow: 30 * time.Minute, PerANI: 30, IdentifyWindow: 10 * time.Minute},
		CRM: CRM{BaseURL: "http://127.0.0.1:8089", RequestTimeout: 3 * time.Second, BreakerFailures: 5, BreakerOpen: 10 * time.Second,
			ByPhone: byPhone, ByID: byID, Verify: verify},
	}
}

// file is config.toml as decoded, lines kept raw for layering.
type file struct {
	AGI      *AGI                      `toml:"agi"`
	Log      *Log                      `toml:"log"`
	Privacy  *Privacy                  `toml:"privacy"`
	Store    *Store                    `toml:"store"`
	DemoCRM  *DemoCRM                  `toml:"democrm"`
	CRM      *CRM                      `toml:"crm"`
	Sounds   *Sounds                   `toml:"sounds"`
	Report   *Report                   `toml:"report"`
	Web      *Web                      `toml:"web"`
	ARI      *ARI                      `toml:"ari"`
	Security *Security                 `toml:"security"`
	Lines    map[string]toml.Primitive `toml:"lines"`
}

// Load reads and checks a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, string(data))
}

// Error is a configuration mistake: the file, the key and the reason.
type Error struct {
	File, Key, Reason string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Reason)
}

// Parse reads a configuration from text; name is used in errors.
func Parse(name, text string) (*Config, error) {
	cfg := Defaults()
	cfg.File = name
	f := file{AGI: &cfg.AGI, Log: &cfg.Log, Privacy: &cfg.Privacy, Store: &cfg.Store, DemoCRM: &cfg.DemoCRM, CRM: &cfg.CRM,
		Sounds: &cfg.Sounds, Report: &cfg.Report, Web: &cfg.Web, ARI: &cfg.ARI, Security: &cfg.Security}
	md, err := toml.Decode(text, &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: name, Reason: fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)}
		}
		return nil, &Error{File: name, Reason: err.Error()}
	}
	base := builtinLine
	if p, ok := f.Lines["default"]; ok {
		if err := md.PrimitiveDecode(p, &base); err != nil {
			return nil, &Error{File: name, Key: "lines.default", Reason: err.Error()}
		}
	}
	raw := map[string]line{"default": base}
	for n, p := range f.Lines {
		if n == "default" {
			continue
		}
		l := base
		l.DNIS = nil
		if err := md.PrimitiveDecode(p, &l); err != nil {
			return nil, &Error{File: name, Key: "lines." + n, Reason: err.Error()}
		}
		raw[n] = l
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, &Error{File: name, Key: und[0].String(), Reason: "unknown key (check its spelling and table)"}
	}
	if err := cfg.check(raw); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (c *Config) fail(key, format string, args ...any) error {
	return &Error{File: c.File, Key: key, Reason: fmt.Sprintf(format, args...)}
}

func (c *Config) check(raw map[string]line) error {
	if c.AGI.Listen == "" {
		return c.fail("agi.listen", "must be host:port, e.g. \"0.0.0.0:4573\"")
	}
	for _, a := range c.AGI.Allow {
		if _, err := netip.ParsePrefix(a); err != nil {
			if _, err := netip.ParseAddr(a); err != nil {
				return c.fail("agi.allow", "%q is neither an address nor a network such as \"10.0.0.0/8\"", a)
			}
		}
	}
	if err := c.resolveSecrets(); err != nil {
		return err
	}
	for key, d := range map[string]time.Duration{"agi.env_timeout": c.AGI.EnvTimeout, "agi.reply_timeout": c.AGI.ReplyTimeout,
		"agi.playback_timeout": c.AGI.PlaybackTimeout, "agi.queue_timeout": c.AGI.QueueTimeout,
		"agi.write_timeout": c.AGI.WriteTimeout, "agi.shutdown_timeout": c.AGI.ShutdownTimeout,
		"crm.request_timeout": c.CRM.RequestTimeout, "store.record_timeout": c.Store.RecordTimeout} {
		if d <= 0 {
			return c.fail(key, "must be a positive duration such as \"10s\"")
		}
	}
	if !slices.Contains([]string{"trace", "debug", "info", "warn", "error"}, c.Log.Level) {
		return c.fail("log.level", "%q is not one of trace, debug, info, warn, error", c.Log.Level)
	}
	if !slices.Contains([]string{"auto", "json", "console"}, c.Log.Format) {
		return c.fail("log.format", "%q is not one of auto, json, console", c.Log.Format)
	}
	if c.Privacy.ANIVisibleDigits < -1 {
		return c.fail("privacy.ani_visible_digits", "must be -1 (show all) or a number of trailing digits to show")
	}
	switch c.Store.Driver {
	case "sqlite":
		if c.Store.Path == "" {
			return c.fail("store.path", "must name the SQLite database file")
		}
	case "postgres":
		if !strings.HasPrefix(c.Store.DSN, "postgres://") && !strings.HasPrefix(c.Store.DSN, "postgresql://") && !strings.Contains(c.Store.DSN, "=") {
			return c.fail("store.dsn", "must be a PostgreSQL connection string, e.g. \"postgres://idv:secret@db:5432/idv\"")
		}
	default:
		return c.fail("store.driver", "%q is not supported (sqlite, postgres)", c.Store.Driver)
	}
	if c.DemoCRM.Enabled && c.DemoCRM.Listen == "" {
		return c.fail("democrm.listen", "must be host:port when democrm.enabled is true")
	}
	if !strings.HasPrefix(c.CRM.BaseURL, "http://") && !strings.HasPrefix(c.CRM.BaseURL, "https://") {
		return c.fail("crm.base_url", "%q must start with http:// or https://", c.CRM.BaseURL)
	}
	for key, ep := range map[string]*crm.Endpoint{"crm.by_phone": &c.CRM.ByPhone, "crm.by_id": &c.CRM.ByID, "crm.verify": &c.CRM.Verify} {
		ep.URL = strings.ReplaceAll(ep.URL, "{base}", strings.TrimRight(c.CRM.BaseURL, "/"))
		if !strings.HasPrefix(ep.URL, "http://") && !strings.HasPrefix(ep.URL, "https://") {
			return c.fail(key+".url", "%q must be an http(s) URL template", ep.URL)
		}
		if !slices.Contains([]string{"GET", "POST", "PUT"}, ep.Method) {
			return c.fail(key+".method", "%q is not GET, POST or PUT", ep.Method)
		}
		if strings.Contains(ep.URL, "{pin}") {
			return c.fail(key+".url", "{pin} may only appear in the body: URLs end up in access logs")
		}
	}
	if c.CRM.ByPhone.IDPath == "" || c.CRM.ByID.IDPath == "" {
		return c.fail("crm.by_phone.id_path", "both by_phone and by_id need id_path")
	}
	if len(c.Sounds.Languages) == 0 {
		return c.fail("sounds.languages", "must list at least one language, e.g. [\"en\"]")
	}
	for _, l := range c.Sounds.Languages {
		if !validLanguage(l) {
			return c.fail("sounds.languages", "%q is not a language code such as \"en\" or \"pt_BR\"", l)
		}
	}
	if err := c.checkReport(); err != nil {
		return err
	}
	if err := c.checkWeb(); err != nil {
		return err
	}
	if s := c.Security; s.LockoutFailures < 0 || s.PerANI < 0 || s.Global < 0 || s.LockoutWindow <= 0 || s.IdentifyWindow <= 0 {
		return c.fail("security", "counts must be 0 (off) or more and windows positive durations")
	}
	if a := &c.ARI; a.URL != "" {
		if !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://") {
			return c.fail("ari.url", "%q must be http(s)://host:8088/ari", a.URL)
		}
		if a.User == "" || a.Password == "" {
			return c.fail("ari.user", "ARI needs the user and password of ari.conf")
		}
		if a.WebsocketURL == "" {
			a.WebsocketURL = "ws" + strings.TrimPrefix(strings.TrimSuffix(a.URL, "/"), "http") + "/events"
		}
	}
	if tc, err := c.CRM.TLS.tlsConfig(); err != nil {
		return c.fail("crm.tls", "%v", err)
	} else {
		c.crmTLS = tc
	}
	if c.CRM.Verify.VerifiedPath == "" {
		return c.fail("crm.verify.verified_path", "must say where the answer's true/false is")
	}
	if !strings.Contains(c.CRM.Verify.Body, "{pin}") {
		return c.fail("crm.verify.body", "must carry the secret as {pin}")
	}
	c.Lines = map[string]*flow.Line{}
	c.dnis = map[string]string{}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l, err := c.buildLine(n, raw[n])
		if err != nil {
			return err
		}
		c.Lines[n] = l
		for _, d := range raw[n].DNIS {
			if prev, dup := c.dnis[d]; dup {
				return c.fail("lines."+n+".dnis", "%q is already the DNIS of line %q", d, prev)
			}
			c.dnis[d] = n
		}
	}
	return nil
}

func (c *Config) buildLine(name string, l line) (*flow.Line, error) {
	key := func(k string) string { return "lines." + name + "." + k }
	if !validName(name) {
		return nil, c.fail("lines."+name, "line names are letters, digits, '-' and '_'")
	}
	for k, v := range map[string][3]int{"identify_attempts": {l.IdentifyAttempts, 1, 10}, "verify_attempts": {l.VerifyAttempts, 1, 10},
		"id_min_digits": {l.IDMinDigits, 1, 32}, "id_max_digits": {l.IDMaxDigits, 1, 32},
		"secret_min_digits": {l.SecretMinDigits, 1, 32}, "secret_max_digits": {l.SecretMaxDigits, 1, 32}} {
		if v[0] < v[1] || v[0] > v[2] {
			return nil, c.fail(key(k), "%d is outside %d..%d", v[0], v[1], v[2])
		}
	}
	if l.IDMinDigits > l.IDMaxDigits {
		return nil, c.fail(key("id_min_digits"), "%d is more than id_max_digits %d", l.IDMinDigits, l.IDMaxDigits)
	}
	if l.SecretMinDigits > l.SecretMaxDigits {
		return nil, c.fail(key("secret_min_digits"), "%d is more than secret_max_digits %d", l.SecretMinDigits, l.SecretMaxDigits)
	}
	for k, d := range map[string]time.Duration{"first_digit_timeout": l.FirstDigitTimeout, "inter_digit_timeout": l.InterDigitTimeout} {
		if d < 100*time.Millisecond || d > time.Minute {
			return nil, c.fail(key(k), "%s is outside 100ms..1m", d)
		}
	}
	if l.CRMBudget <= 0 || l.CRMBudget > 5*time.Minute {
		return nil, c.fail(key("crm_budget"), "%s is outside 0..5m", l.CRMBudget)
	}
	if l.Terminator != "#" && l.Terminator != "*" {
		return nil, c.fail(key("terminator"), "%q must be \"#\" or \"*\"", l.Terminator)
	}
	if l.OptOutKey != "" && l.OptOutKey != "#" && l.OptOutKey != "*" {
		return nil, c.fail(key("opt_out_key"), "%q must be \"*\", \"#\" or \"\" (no opting out)", l.OptOutKey)
	}
	if l.OptOutKey == l.Terminator {
		return nil, c.fail(key("opt_out_key"), "is the same key as the terminator")
	}
	if !slices.Contains([]string{"", "A", "B", "C"}, l.MinAttestation) {
		return nil, c.fail(key("ani_min_attestation"), "%q is not \"\", \"A\", \"B\" or \"C\"", l.MinAttestation)
	}
	region := strings.ToUpper(l.Region)
	if !phonenumbers.GetSupportedRegions()[region] {
		return nil, c.fail(key("region"), "%q is not a region code such as \"JP\" or \"GB\"", l.Region)
	}
	p := l.Prompts
	out := &flow.Line{
		Name: name, ANILookup: l.ANILookup, MinAttestation: l.MinAttestation, Region: region, Verify: l.Verify,
		IdentifyAttempts: l.IdentifyAttempts, VerifyAttempts: l.VerifyAttempts,
		IDMinDigits: l.IDMinDigits, IDMaxDigits: l.IDMaxDigits,
		SecretMinDigits: l.SecretMinDigits, SecretMaxDigits: l.SecretMaxDigits,
		FirstDigitTimeout: l.FirstDigitTimeout, InterDigitTimeout: l.InterDigitTimeout,
		Terminator: rune(l.Terminator[0]), CRMBudget: l.CRMBudget, RecordIdentifier: c.Privacy.RecordIdentifier,
		Prompts: flow.Prompts{Welcome: p.Welcome, EnterID: p.EnterID, OptOutHint: p.OptOutHint, NoInput: p.NoInput,
			NotFound: p.NotFound, EnterSecret: p.EnterSecret, SecretWrong: p.SecretWrong, Verified: p.Verified,
			Transfer: p.Transfer, TooMany: p.TooMany, Unavailable: p.Unavailable, Locked: p.Locked},
	}
	if l.OptOutKey != "" {
		out.OptOutKey = rune(l.OptOutKey[0])
	}
	if l.Language != "" && !slices.Contains(c.Sounds.Languages, l.Language) {
		return nil, c.fail(key("language"), "%q is not in sounds.languages %q", l.Language, c.Sounds.Languages)
	}
	out.Language, out.Languages = l.Language, c.Sounds.Languages
	for k, v := range out.Prompts.Names() {
		if v != "" && !validPrompt(v) {
			return nil, c.fail(key("prompts."+k), "%q is not a sound file name (letters, digits, / - _ .)", v)
		}
	}
	if out.Prompts.EnterID == "" || out.Prompts.EnterSecret == "" {
		return nil, c.fail(key("prompts.enter_id"), "enter_id and enter_secret must name a prompt: the caller must be asked")
	}
	r := l.Routes
	if r.VerifyFailed == "" {
		r.VerifyFailed = r.Unidentified
	}
	for _, rt := range []struct {
		key string
		src string
		dst *flow.Route
	}{{"verified", r.Verified, &out.Routes.Verified}, {"identified", r.Identified, &out.Routes.Identified},
		{"unidentified", r.Unidentified, &out.Routes.Unidentified}, {"verify_failed", r.VerifyFailed, &out.Routes.VerifyFailed},
		{"opted_out", r.OptedOut, &out.Routes.OptedOut}, {"error", r.Error, &out.Routes.Error}} {
		route, err := flow.ParseRoute(rt.src)
		if err != nil {
			return nil, c.fail(key("routes."+rt.key), "%v", err)
		}
		*rt.dst = route
	}
	return out, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validLanguage(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validPrompt(s string) bool {
	if len(s) > 200 || strings.Contains(s, "..") || strings.HasPrefix(s, "/") && len(s) == 1 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/-_.", c)) {
			return false
		}
	}
	return true
}

// ResolveLine implements agi.LineResolver: the named line, else the line whose DNIS is
// dnid or extension, else "default". A name that is not configured falls back to
// "default" with an error to log.
func (c *Config) ResolveLine(name, dnid, extension string) (*flow.Line, error) {
	if name != "" {
		if l, ok := c.Lines[name]; ok {
			return l, nil
		}
		return c.Lines["default"], fmt.Errorf("line %q is not in %s; using line \"default\"", name, c.File)
	}
	if n, ok := c.dnis[dnid]; ok {
		return c.Lines[n], nil
	}
	if n, ok := c.dnis[extension]; ok {
		return c.Lines[n], nil
	}
	return c.Lines["default"], nil
}

// MaskANI hides all but the last privacy.ani_visible_digits characters of a number.
func (c *Config) MaskANI(ani string) string {
	return Mask(ani, c.Privacy.ANIVisibleDigits)
}

// Mask stars the digits of s except the last visible ones; other characters (such as
// "anonymous") stay. -1 keeps all.
func Mask(s string, visible int) string {
	if visible < 0 {
		return s
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	b := []byte(s)
	for i := 0; i < len(b) && digits > visible; i++ {
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = '*'
			digits--
		}
	}
	return string(b)
}

// Client builds the CRM client the configuration describes.
func (c *Config) Client() *crm.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	if c.crmTLS != nil {
		tr.TLSClientConfig = c.crmTLS.Clone()
	}
	return (&crm.Client{
		HTTP:           &http.Client{Transport: tr},
		Auth:           crm.Auth{Bearer: c.CRM.Auth.Bearer, User: c.CRM.Auth.User, Password: c.CRM.Auth.Password},
		ByPhone:        c.CRM.ByPhone,
		ByID:           c.CRM.ByID,
		Check:          c.CRM.Verify,
		RequestTimeout: c.CRM.RequestTimeout,
	}).WithBreaker(c.CRM.BreakerFailures, c.CRM.BreakerOpen)
}
