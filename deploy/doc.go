// Package deploy holds the deployment kit — Asterisk configuration, SIPp scenarios,
// systemd unit, reverse proxy — and the tests that keep it consistent with idv and with itself.
package deploy
