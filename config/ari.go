package config

import "strings"

// ARI is Asterisk's REST interface, which idv observes for queue waits, agents and talk
// times. An empty url leaves it off.
type ARI struct {
	URL          string `toml:"url"`
	WebsocketURL string `toml:"websocket_url"`
	User         string `toml:"user"`
	Password     string `toml:"password"`
	Application  string `toml:"application"`
}

func (c *Config) checkARI() error {
	a := &c.ARI
	if a.URL == "" {
		return nil
	}
	if err := c.checkURL("ari.url", a.URL, "http://127.0.0.1:8088/ari", "http", "https"); err != nil {
		return err
	}
	if a.User == "" || a.Password == "" {
		return c.fail("ari.user", "ARI needs the user and password of ari.conf")
	}
	if a.WebsocketURL == "" {
		a.WebsocketURL = "ws" + strings.TrimPrefix(strings.TrimSuffix(a.URL, "/"), "http") + "/events"
	}
	if err := c.checkURL("ari.websocket_url", a.WebsocketURL, "ws://127.0.0.1:8088/ari/events", "ws", "wss"); err != nil {
		return err
	}
	return nil
}
