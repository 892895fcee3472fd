package app

import (
	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/crm"
)

// restart classifies every key of config.toml: true when only a restart applies it,
// false when Reload makes new calls use it. A test checks that every key of the schema
// is here, so that a new key must be classified.
//
// What reloads is what a call runs by — its line, prompts, routes, back end and security
// limits; what needs a restart is what listens, stores or runs beside the calls. The
// lines are built with privacy.record_identifier and sounds.languages, so those two
// reload with them.
var restart = map[string]bool{
	"agi.listen": true, "agi.allow": true, "agi.env_timeout": true, "agi.reply_timeout": true,
	"agi.playback_timeout": true, "agi.queue_timeout": true, "agi.write_timeout": true, "agi.shutdown_timeout": true,
	"agi.max_connections": true, "log.level": true, "log.format": true, "log.steps": true,
	"privacy.ani_visible_digits": true, "privacy.record_identifier": false,
	"store.driver": true, "store.path": true, "store.dsn": true, "store.record_timeout": false, "store.retention": true,
	"democrm.enabled": true, "democrm.listen": true,
	"crm.base_url": false, "crm.request_timeout": false, "crm.breaker_failures": false, "crm.breaker_open": false,
	"crm.auth.bearer": false, "crm.auth.user": false, "crm.auth.password": false,
	"crm.tls.ca_file": false, "crm.tls.cert_file": false, "crm.tls.key_file": false, "crm.tls.server_name": false,
	"sounds.dir": false, "sounds.languages": false,
	"report.timezone": true, "report.language": true, "report.font": true, "report.smtp.host": true, "report.smtp.port": true,
	"report.smtp.user": true, "report.smtp.password": true, "report.smtp.from": true, "report.smtp.starttls": true,
	"report.schedule": true,
	"web.listen":      true, "web.wrapup_codes": true, "web.crm_link": true, "web.open": true,
	"web.proxy_user_header": true, "web.user": true,
	"web.trusted_proxies": true, "web.max_connections": true, "web.max_connections_per_client": true, "web.idle_timeout": true, "web.audit_retention": true,
	"web.service_level_seconds": true, "web.wrapup_labels": true, "web.share_key": true, "web.share_link_ttl": true,
	"web.thresholds.service_level_warn": true, "web.thresholds.service_level_alert": true,
	"web.thresholds.abandon_warn": true, "web.thresholds.abandon_alert": true,
	"web.thresholds.longest_wait_warn_seconds": true, "web.thresholds.longest_wait_alert_seconds": true,
	"web.thresholds.asa_warn_seconds": true, "web.thresholds.asa_alert_seconds": true,
	"ari.url": true, "ari.websocket_url": true, "ari.user": true, "ari.password": true, "ari.application": true,
	"security.verify_lockout_failures": false, "security.verify_lockout_window": false,
	"security.identify_per_ani": false, "security.identify_global": false, "security.identify_window": false,
	"security.verify_lockout_customer_failures": false, "security.identify_withheld": false,
	"lines": false, "identifiers": false, "factors": false, "crm.identifiers": false, "crm.factors": false,
}

func init() {
	for _, ep := range []string{"by_phone", "by_id", "verify", "otp"} {
		for _, k := range []string{"method", "url", "headers", "body", "list_path", "id_path", "name_path",
			"verify_required_path", "language_path", "mobile_path", "verified_path"} {
			restart["crm."+ep+"."+k] = false
		}
	}
}

// Reload makes new calls use next's lines, prompts, routes, back end and security
// limits; calls in progress finish with what they started with. Call it from the
// goroutine that calls Shutdown (idv serve's signal loop). The keys that need a
// restart keep their running values, and the log names each one that changed. It
// returns the configuration now in force.
func (a *App) Reload(next *config.Config) (*config.Config, error) {
	changed := config.Changed(a.cfg, next)
	for _, key := range changed {
		if restart[key] {
			a.log.Warn().Str("key", key).Msg("changed in the configuration file; it takes effect at the next restart")
			config.Keep(next, a.cfg, key)
		}
	}
	// The client is built anew even when no crm key changed: a certificate, key or CA
	// rotated at the same path is read again.
	client, err := crm.New(next.CRM.Settings())
	if err != nil {
		return a.cfg, err
	}
	a.calls.Use(a.rules(next, client))
	known := ReportKnown(next) // a line added by the reload may be reported on at once
	a.known.Store(&known)
	old := a.client
	a.client, a.cfg = client, next
	old.HTTP.CloseIdleConnections() // calls in progress keep theirs until they end
	a.log.Info().Str("config", next.File).Int("lines", len(next.Lines.ByName)).Str("crm", crm.Redact(next.CRM.BaseURL)).
		Strs("changed", changed).Msg("configuration reloaded")
	return next, nil
}
