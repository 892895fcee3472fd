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
