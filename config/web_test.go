package config

import (
	"net/netip"
	"slices"
	"testing"
)

// TestTrustedProxies: a proxy's header is accepted with the proxies' addresses, which
// may be single addresses (IPv4, IPv6, IPv4-mapped) or networks.
func TestTrustedProxies(t *testing.T) {
	cfg, err := Parse("site.toml", `[web]
open = false
proxy_user_header = "X-Remote-User"
trusted_proxies = ["127.0.0.1", "10.1.2.0/24", "::1", "::ffff:192.0.2.7"]
[[web.user]]
name = "a"
role = "supervisor"`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Web.Proxies()
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.1.2.0/24"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("192.0.2.7/32")}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("proxies = %v (%v), want %v", got, err, want)
	}
}
