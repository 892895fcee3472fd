package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRefusesASpoofableProxyHeader: idv check (and idv serve, through the same
// loadChecked) refuses web.proxy_user_header without web.trusted_proxies, which would let
// any client sign in as anybody by sending the header; with the proxy's address it passes.
func TestCheckRefusesASpoofableProxyHeader(t *testing.T) {
	base := "[sounds]\ndir = \"\"\n[web]\nlisten = \"0.0.0.0:8080\"\nopen = false\nproxy_user_header = \"X-Remote-User\"\n"
	user := "[[web.user]]\nname = \"boss\"\nrole = \"supervisor\"\n"
	for _, tc := range []struct {
		name, extra, err string
	}{
		{"without the proxies", "", "web.trusted_proxies: web.proxy_user_header needs the addresses of the proxies"},
		{"with the proxy's address", "trusted_proxies = [\"10.0.0.5\"]\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "idv.toml")
			os.WriteFile(path, []byte(base+tc.extra+user), 0o600)
			_, err := loadChecked(path)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), path+": "+tc.err)) {
				t.Errorf("idv check = %v, want %q", err, tc.err)
			}
		})
	}
}
