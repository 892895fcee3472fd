package config

import (
	"strings"
	"testing"
)

// TestCRMErrorsMaskTheURLsPassword: a crm.base_url or endpoint URL refused by the check
// is quoted in the error without the user and password it carries.
func TestCRMErrorsMaskTheURLsPassword(t *testing.T) {
	for key, text := range map[string]string{
		"crm.base_url":     "[crm]\nbase_url = \"htps://idv:s3cr3t-pw@crm.example.com\"",
		"crm.by_id.url":    "[crm.by_id]\nurl = \"ftp://idv:s3cr3t-pw@crm.example.com/customers/{id}\"",
		"crm.by_phone.url": "[crm.by_phone]\nurl = \"idv:s3cr3t-pw@crm.example.com/customers\"",
	} {
		_, err := Parse("site.toml", text)
		if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "xxxxx@crm.example.com") ||
			strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("%s: error %v, want the key and the URL without its password", key, err)
		}
	}
}

// TestCRMHeadersMustBeSendable: a header that Go's client refuses to send would make
// every call BACKEND_UNAVAILABLE; idv check refuses it instead, naming the header.
func TestCRMHeadersMustBeSendable(t *testing.T) {
	cases := []struct{ name, text, key string }{
		{"line feed in a value", "[crm.by_phone.headers]\nX-Api-Key = \"k3y\\nX-Evil: 1\"", "crm.by_phone.headers.X-Api-Key"},
		{"carriage return in a value", "[crm.by_id.headers]\nX-Api-Key = \"k3y\\r\"", "crm.by_id.headers.X-Api-Key"},
		{"NUL in a value", "[crm.verify.headers]\nX-Api-Key = \"k3y\\u0000\"", "crm.verify.headers.X-Api-Key"},
		{"escape in a value", "[crm.verify.headers]\nX-Api-Key = \"\\u001bk3y\"", "crm.verify.headers.X-Api-Key"},
		{"DEL in a value", "[crm.verify.headers]\nX-Api-Key = \"k3y\\u007f\"", "crm.verify.headers.X-Api-Key"},
		{"space in a name", "[crm.by_id.headers]\n\"X Api Key\" = \"k3y\"", "crm.by_id.headers.X Api Key"},
		{"colon in a name", "[crm.by_id.headers]\n\"X-Api-Key:\" = \"k3y\"", "crm.by_id.headers.X-Api-Key:"},
		{"empty name", "[crm.by_id.headers]\n\"\" = \"k3y\"", "crm.by_id.headers."},
		{"line feed in the bearer token", "[crm.auth]\nbearer = \"t0ken\\n\"", "crm.auth.bearer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("site.toml", tc.text)
			if err == nil || !strings.Contains(err.Error(), "site.toml: "+tc.key+": ") {
				t.Fatalf("error %v, want one naming %s", err, tc.key)
			}
			if strings.Contains(err.Error(), "k3y") || strings.Contains(err.Error(), "t0ken") {
				t.Errorf("error %q quotes the value, which may be a secret", err)
			}
		})
	}
	// A tab, spaces and non-ASCII text are sendable.
	cfg, err := Parse("site.toml", "[crm.by_id.headers]\nX-Api-Key = \"a\\tb c\"\nX-Site = \"東京\"")
	if err != nil || cfg.CRM.ByID.Headers["X-Api-Key"] != "a\tb c" {
		t.Errorf("sendable headers refused: %v", err)
	}
}
