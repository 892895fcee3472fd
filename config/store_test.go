package config

import (
	"strings"
	"testing"
)

// TestLockoutKeys: the counts are 0 (off) or more; the defaults are those
// docs/reliability.md explains.
func TestLockoutKeys(t *testing.T) {
	for _, tc := range []struct{ name, text, err string }{
		{"negative withheld budget", "[security]\nidentify_withheld = -1", "site.toml: security: counts must be 0"},
		{"ceiling off", "[security]\nverify_lockout_customer_failures = 0", ""},
		{"ceiling below one caller's lockout (raised to it)", "[security]\nverify_lockout_failures = 25", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("site.toml", tc.text)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
	d := Defaults()
	if d.Security.CustomerFailures != 20 || d.Security.Withheld != 60 {
		t.Errorf("defaults: ceiling %d, withheld %d", d.Security.CustomerFailures, d.Security.Withheld)
	}
}
