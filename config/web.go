package config

import (
	"fmt"
	"net"
	"strings"
)

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

func (c *Config) checkWeb() error {
	w := c.Web
	if w.Listen == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(w.Listen)
	if err != nil {
		return c.fail("web.listen", "%q is not host:port", w.Listen)
	}
	if w.Open && !loopback(host) {
		return c.fail("web.open", "true lets anyone in without signing in; it is allowed only when web.listen is a loopback address, not %q", w.Listen)
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
		case "supervisor":
		case "agent":
			if u.Agent == "" {
				return c.fail(key("agent"), "an agent needs their endpoint, e.g. \"PJSIP/agent1\"")
			}
		default:
			return c.fail(key("role"), "%q is not supervisor or agent", u.Role)
		}
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
