package config

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// checkListen checks an address as net.Listen("tcp", …) will take it, so that idv check
// refuses what idv serve would: host:port, the port a number from 0 to 65535 (0 picks a
// free one), the host empty (every address), an IP address or a name.
func (c *Config) checkListen(key, addr, example string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return c.fail(key, "%q is not host:port, e.g. %q", addr, example)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return c.fail(key, "%q: the port must be a number from 0 to 65535, e.g. %q", addr, example)
	}
	if strings.ContainsAny(host, " /\\") {
		return c.fail(key, "%q: %q is not a host name or address", addr, host)
	}
	return nil
}

// checkURL checks an absolute URL of one of schemes with a host, as the clients will
// need it; what is shown of it is redacted of credentials.
func (c *Config) checkURL(key, raw string, example string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains(schemes, u.Scheme) || u.Host == "" {
		shown := raw
		if err == nil && u.User != nil {
			shown = u.Redacted()
		}
		return c.fail(key, "%q is not an %s:// URL with a host, e.g. %q", shown, strings.Join(schemes, ":// or "), example)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return c.fail(key, "%q: the port must be a number from 1 to 65535", u.Redacted())
		}
	}
	return nil
}
