package config

import (
	"github.com/idv-project/idv/flow"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestShippedConfigLoads(t *testing.T) {
	cfg, err := Load("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Lines.ByName["default"]
	if !d.ANILookup || d.IdentifyAttempts != 3 || d.VerifyAttempts != 3 || d.OptOutKey != '*' || d.Terminator != '#' {
		t.Errorf("default line = %+v, want the documented defaults", d)
	}
	r := cfg.Lines.ByName["retail"]
	if !r.Verify || r.Routes.Verified.String() != "goto:idv-selfservice,s,1" || r.Prompts.Welcome != d.Prompts.Welcome {
		t.Errorf("retail line = %+v, want it layered on default", r)
	}
	if r.Routes.VerifyFailed.String() != "queue:retail,,,,300" {
		t.Errorf("verify_failed = %s, want the unidentified route when unset", r.Routes.VerifyFailed)
	}
	if cfg.CRM.ByID.URL != "http://127.0.0.1:8089/customers/{id}" {
		t.Errorf("{base} not expanded: %s", cfg.CRM.ByID.URL)
	}
}

// TestShippedConfigIsTheDefaults: config.toml documents the built-in defaults, so a file
// with only the example line gives the same configuration.
func TestShippedConfigIsTheDefaults(t *testing.T) {
	shipped, err := Load("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile("../config.toml")
	example := string(text[strings.Index(string(text), "[lines.retail]"):])
	bare, err := Parse("../bare.toml", example) // beside config.toml, so relative paths agree
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range shipped.Lines.ByName {
		if b := bare.Lines.ByName[name]; b == nil || !reflect.DeepEqual(b, l) {
			t.Errorf("line %s differs between config.toml and the built-in defaults:\n%+v\n%+v", name, l, b)
		}
	}
	if !reflect.DeepEqual(shipped.AGI, bare.AGI) || shipped.Privacy != bare.Privacy || shipped.Store != bare.Store || shipped.DemoCRM != bare.DemoCRM ||
		!reflect.DeepEqual(shipped.Sounds, bare.Sounds) || !reflect.DeepEqual(shipped.CRM, bare.CRM) ||
		!reflect.DeepEqual(shipped.Report, bare.Report) || !reflect.DeepEqual(shipped.Web, bare.Web) || shipped.ARI != bare.ARI || shipped.Security != bare.Security {
		t.Error("config.toml and the built-in defaults differ")
	}
}

func TestConfigErrorsNameFileKeyAndReason(t *testing.T) {
	cases := []struct{ name, text, key, reason string }{
		{"unknown top-level key", "[agi]\nlisen = \"x\"", "agi.lisen", "unknown key"},
		{"unknown line key", "[lines.gold]\nverfy = true", "lines.gold.verfy", "unknown key"},
		{"unknown prompt", "[lines.default.prompts]\nhello = \"x\"", "lines.default.prompts.hello", "unknown key"},
		{"bad TOML", "[agi\n", "", "line 2"},
		{"wrong type", "[lines.default]\nverify = \"yes\"", "lines.default.verify", "line 2: want true or false (no quotes), not a string"},
		{"wrong type at the top", "[agi]\nenv_timeout = true", "agi.env_timeout", `want a duration in quotes, such as "10s", not a bool`},
		{"attempts out of range", "[lines.default]\nidentify_attempts = 0", "lines.default.identify_attempts", "outside 1..10"},
		{"min above max", "[lines.gold]\nid_min_digits = 9\nid_max_digits = 4", "lines.gold.id_min_digits", "more than id_max_digits"},
		{"bad duration", "[lines.default]\nfirst_digit_timeout = \"fast\"", "lines.default", "fast"},
		{"timeout too short", "[lines.default]\ninter_digit_timeout = \"1ms\"", "lines.default.inter_digit_timeout", "outside"},
		{"bad route", "[lines.default.routes]\nverified = \"queue:\"", "lines.default.routes.verified", "queue name"},
		{"goto with two parts", "[lines.default.routes]\nverified = \"goto:a,b\"", "lines.default.routes.verified", "context,extension,priority"},
		{"route kind", "[lines.default.routes]\nerror = \"dial:x\"", "lines.default.routes.error", "want queue:NAME"},
		{"bad region", "[lines.default]\nregion = \"XX\"", "lines.default.region", "region code"},
		{"opt-out equals terminator", "[lines.default]\nopt_out_key = \"#\"", "lines.default.opt_out_key", "same key"},
		{"digit opt-out", "[lines.default]\nopt_out_key = \"0\"", "lines.default.opt_out_key", "must be"},
		{"prompt with spaces", "[lines.default.prompts]\nwelcome = \"a b\"", "lines.default.prompts.welcome", "sound file"},
		{"prompt escaping the sounds dir", "[lines.default.prompts]\nwelcome = \"../../etc/passwd\"", "lines.default.prompts.welcome", "sound file"},
		{"no identifier prompt", "[lines.default.prompts]\nenter_id = \"\"", "lines.default.prompts.enter_id", "must name a prompt"},
		{"duplicate DNIS", "[lines.a]\ndnis=[\"1\"]\n[lines.b]\ndnis=[\"1\"]", "lines.b.dnis", "already the DNIS of line \"a\""},
		{"bad line name", "[lines.\"a b\"]\nverify = true", "lines.a b", "line names"},
		{"PIN in a URL", "[crm.verify]\nurl = \"{base}/v?pin={pin}\"", "crm.verify.url", "only appear in the body"},
		{"no PIN in the body", "[crm.verify]\nbody = \"{}\"", "crm.verify.body", "{pin}"},
		{"crm base not http", "[crm]\nbase_url = \"ftp://x\"", "crm.base_url", "http://"},
		{"log level", "[log]\nlevel = \"loud\"", "log.level", "not one of"},
		{"store driver", "[store]\ndriver = \"mysql\"", "store.driver", "not supported"},
		{"postgres without a DSN", "[store]\ndriver = \"postgres\"", "store.dsn", "connection string"},
		{"bad time zone", "[report]\ntimezone = \"Mars/Base\"", "report.timezone", "time zone"},
		{"bad cron", "[[report.schedule]]\nname = \"a\"\ncron = \"61 * * * *\"\nreport = \"outcomes\"\nrange = \"yesterday\"\nformats = [\"pdf\"]\ndirectory = \"/tmp\"", "report.schedule[0].cron", "61"},
		{"unknown report", "[[report.schedule]]\nname = \"a\"\ncron = \"@daily\"\nreport = \"sales\"\nrange = \"yesterday\"\nformats = [\"pdf\"]\ndirectory = \"/tmp\"", "report.schedule[0].report", "no report \"sales\""},
		{"nowhere to deliver", "[[report.schedule]]\nname = \"a\"\ncron = \"@daily\"\nreport = \"outcomes\"\nrange = \"yesterday\"\nformats = [\"pdf\"]", "report.schedule[0].directory", "delivers nowhere"},
		{"e-mail without smtp", "[[report.schedule]]\nname = \"a\"\ncron = \"@daily\"\nreport = \"outcomes\"\nrange = \"yesterday\"\nformats = [\"pdf\"]\nemail = [\"x@y\"]", "report.smtp.host", "sends e-mail"},
		{"open web on all addresses", "[web]\nlisten = \"0.0.0.0:8080\"", "web.open", "loopback"},
		{"closed web without users", "[web]\nopen = false", "web.user", "nobody could sign in"},
		{"plain-text password", "[web]\nopen = false\n[[web.user]]\nname = \"a\"\npassword_bcrypt = \"secret\"\nrole = \"supervisor\"", "web.user[0].password_bcrypt", "bcrypt"},
		{"agent without endpoint", "[web]\nopen = false\n[[web.user]]\nname = \"a\"\npassword_bcrypt = \"$2a$10$x\"\nrole = \"agent\"", "web.user[0].agent", "endpoint"},
		{"proxy header from anyone", "[web]\nopen = false\nproxy_user_header = \"X-Remote-User\"\n[[web.user]]\nname = \"a\"\nrole = \"supervisor\"", "web.trusted_proxies", "anyone else could send the header"},
		{"trusted proxy by host name", "[web]\ntrusted_proxies = [\"proxy.local\"]", "web.trusted_proxies", "neither an address nor a network"},
		{"no web connections", "[web]\nmax_connections = 0", "web.max_connections", "1 or more"},
		{"no web connections per client", "[web]\nmax_connections_per_client = 0", "web.max_connections_per_client", "1 or more"},
		{"no audit retention", "[web]\naudit_retention = \"0s\"", "web.audit_retention", "positive"},
		{"ARI without a password", "[ari]\nurl = \"http://127.0.0.1:8088/ari\"\nuser = \"idv\"", "ari.user", "user and password"},
		{"bad allow entry", "[agi]\nallow = [\"asterisk.local\"]", "agi.allow", "network"},
		{"secret from a missing variable", "[crm.auth]\nbearer = \"env:IDV_TEST_NO_SUCH_VAR\"", "crm.auth.bearer", "IDV_TEST_NO_SUCH_VAR is not set"},
		{"secret from a missing file", "[ari]\nurl = \"http://a:8088/ari\"\nuser = \"idv\"\npassword = \"file:/nonexistent/secret\"", "ari.password", "no such file"},
		{"FastAGI port out of range", "[agi]\nlisten = \"127.0.0.1:99999\"", "agi.listen", "from 0 to 65535"},
		{"FastAGI address without a port", "[agi]\nlisten = \"127.0.0.1\"", "agi.listen", "not host:port"},
		{"web port by name", "[web]\nlisten = \"127.0.0.1:http\"", "web.listen", "must be a number"},
		{"demo CRM address", "[democrm]\nlisten = \"8089\"", "democrm.listen", "not host:port"},
		{"CRM URL without a host", "[crm]\nbase_url = \"https://\"", "crm.base_url", "with a host"},
		{"CRM URL with a bad port", "[crm]\nbase_url = \"http://crm:80800/api\"", "crm.base_url", "1 to 65535"},
		{"endpoint without a host", "[crm.by_id]\nurl = \"https:///customers/{id}\"", "crm.by_id.url", "with a host"},
		{"ARI URL without a host", "[ari]\nurl = \"http:///ari\"\nuser = \"idv\"\npassword = \"x\"", "ari.url", "with a host"},
		{"ARI websocket over http", "[ari]\nurl = \"http://a:8088/ari\"\nwebsocket_url = \"http://a:8088/ari/events\"\nuser = \"idv\"\npassword = \"x\"", "ari.websocket_url", "ws://"},
		{"negative reply timeout", "[agi]\nreply_timeout = \"-1s\"", "agi.reply_timeout", "positive"},
		// A bare number is nanoseconds to TOML: env_timeout = 10 passed every check and
		// then failed every call.
		{"duration without a unit", "[agi]\nenv_timeout = 10", "agi.env_timeout", "without a unit"},
		{"line duration without a unit", "[lines.gold]\ncrm_budget = 8", "lines.gold.crm_budget", "without a unit"},
		{"scheduled report's duration", "[store]\nrecord_timeout = 3", "store.record_timeout", "without a unit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("site.toml", tc.text)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "site.toml: ") || !strings.Contains(msg, tc.key) || !strings.Contains(msg, tc.reason) {
				t.Errorf("error %q, want file site.toml, key %q and reason %q", msg, tc.key, tc.reason)
			}
		})
	}
}

func TestLinesResolveByNameThenDNIS(t *testing.T) {
	cfg, err := Parse("t.toml", "[lines.gold]\ndnis = [\"2000\"]\n[lines.silver]\ndnis = [\"s\"]")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, dnid, exten, want string }{
		{"gold", "", "", "gold"},
		{"", "2000", "", "gold"},
		{"", "unknown", "s", "silver"},
		{"", "9999", "9999", "default"},
		{"silver", "2000", "", "silver"},
	}
	for _, tc := range cases {
		l, err := cfg.Lines.Resolve(tc.name, tc.dnid, tc.exten)
		if err != nil || l.Name != tc.want {
			t.Errorf("Lines.Resolve(%q, %q, %q) = %s, %v; want %s", tc.name, tc.dnid, tc.exten, l.Name, err, tc.want)
		}
	}
	l, err := cfg.Lines.Resolve("bronze", "2000", "")
	if l != nil || err == nil || !strings.Contains(err.Error(), "bronze") {
		t.Errorf("unknown line: %v, %v; want no line and an error naming it", l, err)
	}
}

func TestDurationsAndLayering(t *testing.T) {
	cfg, err := Parse("t.toml", "[lines.default]\nfirst_digit_timeout = \"2500ms\"\nverify = true\n[lines.gold]\nverify = false")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lines.ByName["gold"].FirstDigitTimeout != 2500*time.Millisecond || cfg.Lines.ByName["gold"].Verify {
		t.Errorf("gold = %+v: want the default's timeout and its own verify", cfg.Lines.ByName["gold"])
	}
}

// TestOneLinesListsAreItsOwn: a line that sets identifiers or factors changes only its
// own; the default line and the others keep theirs (a list of the default's length was
// decoded into the default's own, and every line asked for the card's last four digits).
func TestOneLinesListsAreItsOwn(t *testing.T) {
	asks := func(l *flow.Line) string {
		var got []string
		for _, k := range l.IDKinds {
			got = append(got, k.Name)
		}
		got = append(got, "/")
		for _, f := range l.Factors {
			got = append(got, f.Name)
		}
		return strings.Join(got, " ")
	}
	const others = "[lines.retail]\nverify = true\n[lines.bank]\nfactors = [\"dob\", \"pin\"]\n"
	before, err := Parse("t.toml", others)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the built-in line is not changed for the next configuration either
		cfg, err := Parse("t.toml", others+"[lines.sales]\nfactors = [\"last4\"]\nidentifiers = [\"account\"]\n")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"default", "retail", "bank"} {
			if got, want := asks(cfg.Lines.ByName[name]), asks(before.Lines.ByName[name]); got != want {
				t.Errorf("line %s asks %s with line sales beside it, %s without", name, got, want)
			}
		}
		if got := asks(cfg.Lines.ByName["sales"]); got != "account / last4" {
			t.Errorf("line sales asks %s, want account / last4", got)
		}
	}
}

func TestSecretsFromEnvAndFiles(t *testing.T) {
	t.Setenv("IDV_TEST_TOKEN", "tok-123")
	path := t.TempDir() + "/pw"
	os.WriteFile(path, []byte("s3cret\n"), 0o600)
	cfg, err := Parse("t.toml", "[crm.auth]\nbearer = \"env:IDV_TEST_TOKEN\"\n[report.smtp]\npassword = \"file:"+path+"\"\n[agi]\nallow = [\"10.1.2.3\", \"192.168.0.0/16\"]")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CRM.Auth.Bearer != "tok-123" || cfg.Report.SMTP.Password != "s3cret" {
		t.Errorf("bearer %q password %q", cfg.CRM.Auth.Bearer, cfg.Report.SMTP.Password)
	}
	if p := cfg.AllowedPeers(); len(p) != 2 || p[0].String() != "10.1.2.3/32" || p[1].String() != "192.168.0.0/16" {
		t.Errorf("allowed %v", p)
	}
}
