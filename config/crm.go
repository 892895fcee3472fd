package config

import (
	"cmp"
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
	// Identifiers look customers up by the identifier kinds other than customer_id (by_id)
	// and phone (by_phone); Factors check the factors other than pin (verify). Those the
	// lines use and this leaves out take the reference API's ([crm.identifiers.account]:
	// GET {base}/customers?account={value}; [crm.factors.dob]: POST
	// {base}/customers/{id}/verify {"dob":"{value}"}).
	Identifiers map[string]Endpoint `toml:"identifiers"`
	Factors     map[string]Endpoint `toml:"factors"`
	// OTP sends a one-time code ({id}, {mobile}, {code}): the CRM's own endpoint or an SMS
	// gateway's. Default: POST {base}/customers/{id}/otp.
	OTP Endpoint `toml:"otp"`
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
	MobilePath         string            `toml:"mobile_path"`
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
		Identifiers: endpoints(c.Identifiers), Factors: endpoints(c.Factors), SendOTP: crm.Endpoint(c.OTP),
		RequestTimeout: c.RequestTimeout, BreakerFailures: c.BreakerFailures, BreakerOpen: c.BreakerOpen,
	}
}

// endpoints converts a map of endpoints for the crm package.
func endpoints(m map[string]Endpoint) map[string]crm.Endpoint {
	out := make(map[string]crm.Endpoint, len(m))
	for k, v := range m {
		out[k] = crm.Endpoint(v)
	}
	return out
}

// placeholder is a template's {name}.
var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

func (c *Config) checkCRM() error {
	if err := c.checkURL("crm.base_url", c.CRM.BaseURL, "https://crm.example.com/api", "http", "https"); err != nil {
		return err
	}
	eps := map[string]*Endpoint{"crm.by_phone": &c.CRM.ByPhone, "crm.by_id": &c.CRM.ByID, "crm.verify": &c.CRM.Verify}
	if c.CRM.OTP.URL != "" {
		c.CRM.OTP.Method = cmp.Or(c.CRM.OTP.Method, "POST")
		eps["crm.otp"] = &c.CRM.OTP
	}
	// The endpoints of identifier kinds and factors: GET and by_id's answer mapping, or
	// POST and verify's, unless they say otherwise.
	named := map[string]*Endpoint{}
	for name, ep := range c.CRM.Identifiers {
		ep.Method = cmp.Or(ep.Method, "GET")
		if ep.IDPath == "" {
			ep.ListPath, ep.IDPath, ep.NamePath = c.CRM.ByID.ListPath, c.CRM.ByID.IDPath, c.CRM.ByID.NamePath
			ep.VerifyRequiredPath, ep.LanguagePath, ep.MobilePath = c.CRM.ByID.VerifyRequiredPath, c.CRM.ByID.LanguagePath, c.CRM.ByID.MobilePath
		}
		named["crm.identifiers."+name] = &ep
	}
	for name, ep := range c.CRM.Factors {
		ep.Method, ep.VerifiedPath = cmp.Or(ep.Method, "POST"), cmp.Or(ep.VerifiedPath, c.CRM.Verify.VerifiedPath)
		if !strings.Contains(ep.Body, "{value}") && !strings.Contains(ep.Body, "{pin}") {
			return c.fail("crm.factors."+name+".body", "must carry the factor's digits as {value}")
		}
		named["crm.factors."+name] = &ep
	}
	maps.Copy(eps, named)
	defer func() { // the endpoints checked and expanded go back into their maps
		for key, ep := range named {
			if name, ok := strings.CutPrefix(key, "crm.identifiers."); ok {
				c.CRM.Identifiers[name] = *ep
			} else {
				c.CRM.Factors[strings.TrimPrefix(key, "crm.factors.")] = *ep
			}
		}
	}()
	for key, ep := range eps {
		ep.URL = strings.ReplaceAll(ep.URL, "{base}", strings.TrimRight(c.CRM.BaseURL, "/"))
		// The template's placeholders ({id}, {phone}, …) stand for path or query text.
		if err := c.checkURL(key+".url", placeholder.ReplaceAllString(ep.URL, "x"), "https://crm.example.com/customers/{id}", "http", "https"); err != nil {
			return c.fail(key+".url", "%q must be an http(s) URL template with a host", crm.Redact(ep.URL))
		}
		if !slices.Contains([]string{"GET", "POST", "PUT"}, ep.Method) {
			return c.fail(key+".method", "%q is not GET, POST or PUT", ep.Method)
		}
		for _, secret := range []string{"{pin}", "{code}", "{value}"} {
			if strings.Contains(ep.URL, secret) && (secret != "{value}" || strings.HasPrefix(key, "crm.factors.")) {
				return c.fail(key+".url", "%s may only appear in the body: URLs end up in access logs", secret)
			}
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
