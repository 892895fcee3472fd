package config

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"
)

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
	// MaxConnections caps the FastAGI connections served at once; 0 derives the cap from
	// the open-file limit (agi.DefaultMaxConns).
	MaxConnections int `toml:"max_connections"`
}

// Log is how idv logs.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
	// Steps is the level of the line logged for each step of a call (prompt, digits, CRM
	// request, route…): "debug" (the default) leaves one summary line per call at info,
	// "info" logs every step there too. Failed steps are logged at warn or error
	// whatever it says.
	Steps string `toml:"steps"`
}

// StepLevel is log.steps as a zerolog level name, "debug" when unset.
func (l Log) StepLevel() string {
	if l.Steps == "" {
		return "debug"
	}
	return l.Steps
}

func (c *Config) checkAGI() error {
	if err := c.checkListen("agi.listen", c.AGI.Listen, "0.0.0.0:4573"); err != nil {
		return err
	}
	for _, a := range c.AGI.Allow {
		if _, err := netip.ParsePrefix(a); err != nil {
			if _, err := netip.ParseAddr(a); err != nil {
				return c.fail("agi.allow", "%q is neither an address nor a network such as \"10.0.0.0/8\"", a)
			}
		}
	}
	if c.AGI.MaxConnections < 0 {
		return c.fail("agi.max_connections", "%d is negative; 0 derives the cap from the open-file limit", c.AGI.MaxConnections)
	}
	return nil
}

// Warning is a setting that works but is unsafe: idv starts with it, and says so (idv
// check prints it, idv serve logs it at start-up).
type Warning struct {
	Key, Reason string
}

// String is the key and the reason.
func (w Warning) String() string { return w.Key + ": " + w.Reason }

// Warnings lists the configuration's unsafe settings.
func (c *Config) Warnings() []Warning {
	var ws []Warning
	host, _, err := net.SplitHostPort(c.AGI.Listen)
	if len(c.AGI.Allow) == 0 && (err != nil || !loopback(host)) {
		ws = append(ws, Warning{Key: "agi.allow", Reason: fmt.Sprintf("empty while agi.listen %q takes connections from other hosts: "+
			"any host that reaches the port can run the agent script and attach any interaction to any agent's screen, "+
			"or run calls through the flow; list Asterisk's addresses in agi.allow", c.AGI.Listen)})
	}
	return ws
}

func (c *Config) checkLog() error {
	if !slices.Contains([]string{"trace", "debug", "info", "warn", "error"}, c.Log.Level) {
		return c.fail("log.level", "%q is not one of trace, debug, info, warn, error", c.Log.Level)
	}
	if !slices.Contains([]string{"auto", "json", "console"}, c.Log.Format) {
		return c.fail("log.format", "%q is not one of auto, json, console", c.Log.Format)
	}
	if c.Log.Steps != "" && !slices.Contains([]string{"trace", "debug", "info"}, c.Log.Steps) {
		return c.fail("log.steps", "%q is not one of trace, debug, info", c.Log.Steps)
	}
	return nil
}

// AllowedPeers is agi.allow as networks.
func (c *Config) AllowedPeers() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range c.AGI.Allow {
		if p, err := netip.ParsePrefix(a); err == nil {
			out = append(out, p.Masked())
		} else if ip, err := netip.ParseAddr(a); err == nil {
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return out
}
