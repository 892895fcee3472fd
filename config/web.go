package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Web is idv's HTTP server (reports and interactions API, metrics, health).
type Web struct {
	Listen      string   `toml:"listen"`
	WrapUpCodes []string `toml:"wrapup_codes"`
	CRMLink     string   `toml:"crm_link"`
	Open        bool     `toml:"open"`
	ProxyHeader string   `toml:"proxy_user_header"`
	// TrustedProxies are the addresses or networks (10.0.0.0/8) whose requests may carry
	// ProxyHeader; required with it.
	TrustedProxies []string `toml:"trusted_proxies"`
	// MaxConnections caps the connections the web server holds open at once; more wait
	// to be accepted, so that the web cannot use up the descriptors FastAGI needs.
	MaxConnections int `toml:"max_connections"`
	// MaxConnectionsPerClient caps those of one client address (the trusted proxies
	// excepted); its next ones are answered 503.
	MaxConnectionsPerClient int `toml:"max_connections_per_client"`
	// IdleTimeout closes a keep-alive connection idle that long.
	IdleTimeout time.Duration `toml:"idle_timeout"`
	// AuditRetention is how long the record of who saw or changed personal data is kept.
	AuditRetention time.Duration `toml:"audit_retention"`
	// ServiceLevelSeconds is the service level's threshold: the share of calls answered
	// by an agent within it (80/20 by convention).
	ServiceLevelSeconds int `toml:"service_level_seconds"`
	// Thresholds colour the wallboard's tiles.
	Thresholds Thresholds `toml:"thresholds"`
	// WrapUpLabels names the wrap-up codes per language: language → code → label. A
	// code without a label shows as itself.
	WrapUpLabels map[string]map[string]string `toml:"wrapup_labels"`
	// ShareKey signs the links that let a CRM or chat channel open one interaction's
	// context without signing in; instances sharing PostgreSQL need the same key. ""
	// makes a key at start: links then hold only on that instance until it restarts.
	ShareKey string `toml:"share_key"`
	// ShareLinkTTL is how long such a link holds.
	ShareLinkTTL time.Duration `toml:"share_link_ttl"`
	Users        []WebUser     `toml:"user"`
}

// Thresholds are where a wallboard tile turns amber (warn) and red (alert).
type Thresholds struct {
	// ServiceLevel: below these shares (0..1) of calls answered in time.
	ServiceLevelWarn  float64 `toml:"service_level_warn"`
	ServiceLevelAlert float64 `toml:"service_level_alert"`
	// Abandon: above these shares of calls offered to a queue.
	AbandonWarn  float64 `toml:"abandon_warn"`
	AbandonAlert float64 `toml:"abandon_alert"`
	// LongestWait and ASA (average speed of answer): above these seconds.
	LongestWaitWarn  int `toml:"longest_wait_warn_seconds"`
	LongestWaitAlert int `toml:"longest_wait_alert_seconds"`
	ASAWarn          int `toml:"asa_warn_seconds"`
	ASAAlert         int `toml:"asa_alert_seconds"`
}

// WebUser is someone who may sign in to the web server.
type WebUser struct {
	Name           string `toml:"name"`
	PasswordBcrypt string `toml:"password_bcrypt"`
	Role           string `toml:"role"`
	Agent          string `toml:"agent"`
}

func (c *Config) checkWeb() error {
	w := c.Web
	if w.Listen == "" {
		return nil
	}
	if err := c.checkListen("web.listen", w.Listen, "127.0.0.1:8080"); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(w.Listen)
	if w.Open && !loopback(host) {
		return c.fail("web.open", "true lets anyone in without signing in; it is allowed only when web.listen is a loopback address, not %q", w.Listen)
	}
	if w.MaxConnections < 1 {
		return c.fail("web.max_connections", "%d: must be 1 or more (every open page holds a connection)", w.MaxConnections)
	}
	if w.MaxConnectionsPerClient < 1 {
		return c.fail("web.max_connections_per_client", "%d: must be 1 or more (a browser opens several connections to one site)", w.MaxConnectionsPerClient)
	}
	if w.IdleTimeout <= 0 {
		return c.fail("web.idle_timeout", "must be a positive duration such as \"60s\"")
	}
	if w.ServiceLevelSeconds < 1 || w.ServiceLevelSeconds > 3600 {
		return c.fail("web.service_level_seconds", "%d is outside 1..3600", w.ServiceLevelSeconds)
	}
	th := w.Thresholds
	for _, r := range []struct {
		key         string
		warn, alert float64
		up          bool // alert above warn (else below)
	}{{"service_level", th.ServiceLevelWarn, th.ServiceLevelAlert, false}, {"abandon", th.AbandonWarn, th.AbandonAlert, true}} {
		if r.warn < 0 || r.warn > 1 || r.alert < 0 || r.alert > 1 || r.up && r.alert < r.warn || !r.up && r.alert > r.warn {
			return c.fail("web.thresholds."+r.key+"_alert", "%v (warn %v): shares are 0..1, and the alert beyond the warning", r.alert, r.warn)
		}
	}
	if th.LongestWaitWarn < 0 || th.LongestWaitAlert < th.LongestWaitWarn || th.ASAWarn < 0 || th.ASAAlert < th.ASAWarn {
		return c.fail("web.thresholds", "seconds must be 0 or more, and each alert at least its warning")
	}
	for lang := range w.WrapUpLabels {
		if !validLanguage(lang) {
			return c.fail("web.wrapup_labels."+lang, "is not a language such as \"ja\"")
		}
	}
	if w.ShareLinkTTL < time.Minute || w.ShareLinkTTL > 24*time.Hour {
		return c.fail("web.share_link_ttl", "%s is outside 1m..24h", w.ShareLinkTTL)
	}
	if w.ShareKey != "" && len(w.ShareKey) < 32 {
		return c.fail("web.share_key", "use at least 32 characters (e.g. openssl rand -hex 32), or \"\" for a key made at start")
	}
	if w.AuditRetention <= 0 {
		return c.fail("web.audit_retention", "must be a positive duration such as \"17520h\" (two years)")
	}
	if _, err := w.Proxies(); err != nil {
		return c.fail("web.trusted_proxies", "%v", err)
	}
	if w.ProxyHeader != "" && len(w.TrustedProxies) == 0 {
		return c.fail("web.trusted_proxies", "web.proxy_user_header needs the addresses of the proxies that set it: anyone else could send the header and sign in as anybody")
	}
	if !w.Open && len(w.Users) == 0 {
		return c.fail("web.user", "nobody could sign in: add [[web.user]] tables, or web.open = true on loopback")
	}
	names := map[string]bool{}
	for i, u := range w.Users {
		key := func(k string) string { return fmt.Sprintf("web.user[%d].%s", i, k) }
		if u.Name == "" || names[u.Name] {
			return c.fail(key("name"), "%q must be a unique user name", u.Name)
		}
		names[u.Name] = true
		if !strings.HasPrefix(u.PasswordBcrypt, "$2") && w.ProxyHeader == "" {
			return c.fail(key("password_bcrypt"), "must be a bcrypt hash ($2a$…): make one with idv hash-password")
		}
		switch u.Role {
		case "supervisor", "integration":
		case "agent":
			if u.Agent == "" {
				return c.fail(key("agent"), "an agent needs their endpoint, e.g. \"PJSIP/agent1\"")
			}
		default:
			return c.fail(key("role"), "%q is not supervisor, agent or integration", u.Role)
		}
	}
	return nil
}

// Proxies are TrustedProxies as networks (an address is a network of one).
func (w Web) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range w.TrustedProxies {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a network such as 10.0.0.0/8", p)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
