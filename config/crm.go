package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/idv-project/idv/crm"
)

// CRM is the company back end.
type CRM struct {
	BaseURL         string        `toml:"base_url"`
	RequestTimeout  time.Duration `toml:"request_timeout"`
	BreakerFailures int           `toml:"breaker_failures"`
	BreakerOpen     time.Duration `toml:"breaker_open"`
	Auth            CRMAuth       `toml:"auth"`
	TLS             CRMTLS        `toml:"tls"`
	ByPhone         Endpoint      `toml:"by_phone"`
	ByID            Endpoint      `toml:"by_id"`
	Verify          Endpoint      `toml:"verify"`
}

// Endpoint is one operation of the back end ([crm.by_phone], [crm.by_id],
// [crm.verify]); crm.Endpoint documents each field.
type Endpoint struct {
	Method             string            `toml:"method"`
	URL                string            `toml:"url"`
	Headers            map[string]string `toml:"headers"`
	Body               string            `toml:"body"`
	ListPath           string            `toml:"list_path"`
	IDPath             string            `toml:"id_path"`
	NamePath           string            `toml:"name_path"`
	VerifyRequiredPath string            `toml:"verify_required_path"`
	LanguagePath       string            `toml:"language_path"`
	VerifiedPath       string            `toml:"verified_path"`
}

// CRMTLS is how idv trusts the back end and proves itself to it.
type CRMTLS struct {
	// CAFile is a PEM bundle of the authorities that sign the CRM's certificate (added to
	// the system's).
	CAFile string `toml:"ca_file"`
	// CertFile and KeyFile are idv's client certificate and key (PEM), for mutual TLS.
	CertFile   string `toml:"cert_file"`
	KeyFile    string `toml:"key_file"`
	ServerName string `toml:"server_name"`
}

// CRMAuth is the back end's authentication.
type CRMAuth struct {
	Bearer   string `toml:"bearer"`
	User     string `toml:"user"`
	Password string `toml:"password"`
}

// Settings is [crm] as the crm package takes it.
func (c CRM) Settings() crm.Settings {
	return crm.Settings{
		Auth:    crm.Auth{Bearer: c.Auth.Bearer, User: c.Auth.User, Password: c.Auth.Password},
		TLS:     crm.TLS(c.TLS),
		ByPhone: crm.Endpoint(c.ByPhone), ByID: crm.Endpoint(c.ByID), Check: crm.Endpoint(c.Verify),
		RequestTimeout: c.RequestTimeout, BreakerFailures: c.BreakerFailures, BreakerOpen: c.BreakerOpen,
	}
}

// placeholder is a template's {name}.
var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

func (c *Config) checkCRM() error {
	if err := c.checkURL("crm.base_url", c.CRM.BaseURL, "https://crm.example.com/api", "http", "https"); err != nil {
		return err
	}
	for key, ep := range map[string]*Endpoint{"crm.by_phone": &c.CRM.ByPhone, "crm.by_id": &c.CRM.ByID, "crm.verify": &c.CRM.Verify} {
		ep.URL = strings.ReplaceAll(ep.URL, "{base}", strings.TrimRight(c.CRM.BaseURL, "/"))
		// The template's placeholders ({id}, {phone}, …) stand for path or query text.
		if err := c.checkURL(key+".url", placeholder.ReplaceAllString(ep.URL, "x"), "https://crm.example.com/customers/{id}", "http", "https"); err != nil {
			return c.fail(key+".url", "%q must be an http(s) URL template with a host", crm.Redact(ep.URL))
		}
		if !slices.Contains([]string{"GET", "POST", "PUT"}, ep.Method) {
			return c.fail(key+".method", "%q is not GET, POST or PUT", ep.Method)
		}
		if strings.Contains(ep.URL, "{pin}") {
			return c.fail(key+".url", "{pin} may only appear in the body: URLs end up in access logs")
		}
		for _, name := range slices.Sorted(maps.Keys(ep.Headers)) {
			if reason := unsendable(name, ep.Headers[name]); reason != "" {
				return c.fail(key+".headers."+name, "%s", reason)
			}
		}
	}
	if reason := unsendable("Authorization", c.CRM.Auth.Bearer); reason != "" {
		return c.fail("crm.auth.bearer", "%s", reason)
	}
	if c.CRM.ByPhone.IDPath == "" || c.CRM.ByID.IDPath == "" {
		return c.fail("crm.by_phone.id_path", "both by_phone and by_id need id_path")
	}
	if _, err := crm.TLS(c.CRM.TLS).Config(); err != nil {
		return c.fail("crm.tls", "%v", err)
	}
	if c.CRM.Verify.VerifiedPath == "" {
		return c.fail("crm.verify.verified_path", "must say where the answer's true/false is")
	}
	if !strings.Contains(c.CRM.Verify.Body, "{pin}") {
		return c.fail("crm.verify.body", "must carry the secret as {pin}")
	}
	return nil
}

// unsendable says why Go's HTTP client would refuse to send a header, failing every
// request to the CRM; "" when it would send it. The value is not quoted: it may be a key.
func unsendable(name, value string) string {
	if name == "" {
		return "a header needs a name"
	}
	for _, r := range name {
		if !isTokenChar(r) {
			return fmt.Sprintf("%q is not a header name: only letters, digits and !#$%%&'*+-.^_`|~", name)
		}
	}
	for i, r := range value {
		// CR and LF would end the header (and start another); Go refuses them all.
		if r < ' ' && r != '\t' || r == 0x7f {
			return fmt.Sprintf("the value holds the control character %U at byte %d; only tab is allowed", r, i)
		}
	}
	return ""
}

// isTokenChar is a character of an HTTP token (RFC 9110 section 5.6.2).
func isTokenChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}
