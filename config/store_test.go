package config

import (
	"strings"
	"testing"
	"time"
)

// TestRetentionAndLockoutKeys: retention is 0 or a day or more; the counts are 0 (off) or
// more; the defaults are those docs/reliability.md explains.
func TestRetentionAndLockoutKeys(t *testing.T) {
	for _, tc := range []struct{ name, text, err string }{
		{"retention below a day", "[store]\nretention = \"1h\"", "site.toml: store.retention: must be 0"},
		{"negative withheld budget", "[security]\nidentify_withheld = -1", "site.toml: security: counts must be 0"},
		{"records kept for ever", "[store]\nretention = \"0s\"", ""},
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
	if d.Store.Retention != 400*24*time.Hour || d.Security.CustomerFailures != 20 || d.Security.Withheld != 60 || d.Security.Longest() != 30*time.Minute {
		t.Errorf("defaults: retention %v, ceiling %d, withheld %d, longest window %v", d.Store.Retention, d.Security.CustomerFailures, d.Security.Withheld, d.Security.Longest())
	}
}
