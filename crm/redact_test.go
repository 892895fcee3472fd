package crm_test

import (
	"testing"

	"github.com/idv-project/idv/crm"
)

// TestRedactMasksTheUserAndPassword: a URL or URL template keeps its scheme, host, path
// and query in logs and error messages, and loses what is before its host.
func TestRedactMasksTheUserAndPassword(t *testing.T) {
	for in, want := range map[string]string{
		"https://idv:s3cret@crm.example.com/api":            "https://xxxxx@crm.example.com/api",
		"https://idv:s3cret@crm.example.com":                "https://xxxxx@crm.example.com",
		"http://s3cret@127.0.0.1:8089/":                     "http://xxxxx@127.0.0.1:8089/",
		"https://idv:s3c@ret@crm.example.com/":              "https://xxxxx@crm.example.com/",
		"https://idv:s3cret@crm.example.com/customers/{id}": "https://xxxxx@crm.example.com/customers/{id}",
		"https://idv:s3cret@[::1]:8443?x=1":                 "https://xxxxx@[::1]:8443?x=1",
		"idv:s3cret@crm.example.com/api":                    "xxxxx@crm.example.com/api",
		"ftp://idv:s3cret@crm.example.com":                  "ftp://xxxxx@crm.example.com",
		// A password with a '/', '?' or '#' not escaped: no URL, nothing of it kept.
		"https://idv:s3/cret@crm.example.com/api": "https://xxxxx@crm.example.com/api",
		"https://idv:s3#cret@crm.example.com":     "https://xxxxx@crm.example.com",
		// Nothing to mask.
		"https://crm.example.com/customers?email={id}@example.com": "https://crm.example.com/customers?email={id}@example.com",
		"https://crm.example.com:8443/a@b":                         "https://crm.example.com:8443/a@b",
		"http://127.0.0.1:8089":                                    "http://127.0.0.1:8089",
		"crm.example.com/?next=http://idv:s3cret@x":                "crm.example.com/?next=http://idv:s3cret@x",
		"": "",
	} {
		if got := crm.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
