// Package config is config.toml: its schema, its built-in defaults and the checks that
// make idv refuse to start on a bad file, naming the file, the key and the reason. It
// describes; the app package builds the running components from it.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/idv-project/idv/agi"
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
	// Identifiers and Factors are the [identifiers.*] and [factors.*] tables over the
	// built-in kinds (customer_id, account, phone) and factors (pin, dob, postcode, last4,
	// otp).
	Identifiers map[string]IDKind `toml:"identifiers"`
	Factors     map[string]Factor `toml:"factors"`

	// Lines are the [lines.*] tables, checked and layered over [lines.default] and the
	// built-in line.
	Lines flow.Lines `toml:"lines"`
	// File is where the configuration was read from.
	File string `toml:"-"`
}

// Defaults is the configuration with no file at all.
func Defaults() Config {
	byPhone, byID, verify := crm.ReferenceEndpoints("{base}")
	t := agi.DefaultTimeouts
	return Config{
		AGI: AGI{Listen: "127.0.0.1:4573", Allow: []string{}, EnvTimeout: t.Env, ReplyTimeout: t.Reply,
			PlaybackTimeout: t.Playback, QueueTimeout: t.Queue, WriteTimeout: t.Write, ShutdownTimeout: 30 * time.Second},
		Log:     Log{Level: "info", Format: "auto"},
		Privacy: Privacy{ANIVisibleDigits: 4},
		Store:   Store{Driver: "sqlite", Path: "idv.db", RecordTimeout: flow.DefaultRecordTimeout, Retention: 400 * 24 * time.Hour},
		DemoCRM: DemoCRM{Enabled: true, Listen: "127.0.0.1:8089"},
		Sounds:  Sounds{Dir: "sounds", Languages: []string{"en", "ja"}},
		Report:  Report{Timezone: "Local", Language: "en", SMTP: SMTP{Port: 587, StartTLS: "required"}},
		Web: Web{Listen: "127.0.0.1:8080", Open: true,
			WrapUpCodes:    []string{"resolved", "follow-up", "complaint", "sales", "other"},
			TrustedProxies: []string{}, MaxConnections: 1024, MaxConnectionsPerClient: 64, IdleTimeout: 60 * time.Second, AuditRetention: 2 * 365 * 24 * time.Hour,
			ServiceLevelSeconds: 20, ShareLinkTTL: 15 * time.Minute,
			WrapUpLabels: map[string]map[string]string{
				"en": {"resolved": "Resolved", "follow-up": "Follow-up needed", "complaint": "Complaint", "sales": "Sales", "other": "Other"},
				"ja": {"resolved": "解決", "follow-up": "要フォロー", "complaint": "苦情", "sales": "販売", "other": "その他"}},
			Thresholds: Thresholds{ServiceLevelWarn: 0.8, ServiceLevelAlert: 0.6, AbandonWarn: 0.05, AbandonAlert: 0.1,
				LongestWaitWarn: 60, LongestWaitAlert: 180, ASAWarn: 20, ASAAlert: 60}},
		ARI:         ARI{Application: "idv"},
		Identifiers: builtinKinds(), Factors: builtinFactors(),
		Security: Security{LockoutFailures: 5, CustomerFailures: 20, LockoutWindow: 30 * time.Minute, PerANI: 30, Withheld: 60, IdentifyWindow: 10 * time.Minute},
		CRM: CRM{BaseURL: "http://127.0.0.1:8089", RequestTimeout: 3 * time.Second, BreakerFailures: 5, BreakerOpen: 10 * time.Second,
			ByPhone: Endpoint(byPhone), ByID: Endpoint(byID), Verify: Endpoint(verify)},
	}
}

// file is config.toml as decoded, lines kept raw for layering.
type file struct {
	AGI         *AGI                      `toml:"agi"`
	Log         *Log                      `toml:"log"`
	Privacy     *Privacy                  `toml:"privacy"`
	Store       *Store                    `toml:"store"`
	DemoCRM     *DemoCRM                  `toml:"democrm"`
	CRM         *CRM                      `toml:"crm"`
	Sounds      *Sounds                   `toml:"sounds"`
	Report      *Report                   `toml:"report"`
	Web         *Web                      `toml:"web"`
	ARI         *ARI                      `toml:"ari"`
	Security    *Security                 `toml:"security"`
	Identifiers map[string]IDKind         `toml:"identifiers"`
	Factors     map[string]Factor         `toml:"factors"`
	Lines       map[string]toml.Primitive `toml:"lines"`
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
		if e := typeError(name, err); e != nil {
			return nil, e
		}
		return nil, &Error{File: name, Reason: err.Error()}
	}
	cfg.Identifiers, cfg.Factors = layer(builtinKinds(), f.Identifiers), layer(builtinFactors(), f.Factors)
	raw, err := decodeLines(name, md, f.Lines)
	if err != nil {
		return nil, err
	}
	if k := unitless(md); k != "" {
		return nil, &Error{File: name, Key: k, Reason: "a number without a unit: write a duration such as \"10s\", \"500ms\" or \"5m\""}
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, &Error{File: name, Key: und[0].String(), Reason: "unknown key (check its spelling and table)"}
	}
	if err := cfg.check(raw); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// tomlTypeError is the TOML decoder's text for a value of the wrong type.
var tomlTypeError = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]+)"\): incompatible types: TOML value has type (\w+); destination has type (\w+)$`)

// typeError is err, a value of the wrong type (verify = "yes"), as an Error naming the
// key and what to write instead; nil for any other error.
func typeError(name string, err error) *Error {
	m := tomlTypeError.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	want := map[string]string{"boolean": "true or false (no quotes)", "string": "text in quotes",
		"integer": "a whole number (no quotes)", "float": "a number (no quotes)"}[m[4]]
	if want == "" {
		want = "a TOML " + m[4]
	}
	if durationAt(reflect.TypeFor[file](), strings.Split(m[2], ".")) {
		want = `a duration in quotes, such as "10s"`
	}
	return &Error{File: name, Key: m[2], Reason: fmt.Sprintf("line %s: want %s, not a %s", m[1], want, m[3])}
}

func (c *Config) fail(key, format string, args ...any) error {
	return &Error{File: c.File, Key: key, Reason: fmt.Sprintf(format, args...)}
}

// check checks every table, in the order of the file's documentation.
func (c *Config) check(raw map[string]line) error {
	if err := c.checkAGI(); err != nil {
		return err
	}
	c.resolvePaths()
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
	for _, check := range []func() error{c.checkLog, c.checkStore, c.checkCRM, c.checkSoundLanguages,
		c.checkReport, c.checkWeb, c.checkARI, c.checkKinds} {
		if err := check(); err != nil {
			return err
		}
	}
	if err := c.buildLines(raw); err != nil {
		return err
	}
	c.crmKinds()
	return nil
}

// layer is the built-in tables with the file's over them: a table the file sets
// replaces the built-in one, except for the fields it leaves unset.
func layer[T any](builtin, file map[string]T) map[string]T {
	for name, t := range file {
		if b, ok := builtin[name]; ok {
			t = fillZero(t, b)
		}
		builtin[name] = t
	}
	return builtin
}
