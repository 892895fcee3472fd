package ari

import (
	"context"
	"net/url"

	"github.com/CyCoreSystems/ari/v5/client/native"
	"github.com/rs/zerolog"
)

// Options locate Asterisk's ARI (ari.conf, http.conf).
type Options struct {
	URL          string // e.g. http://127.0.0.1:8088/ari
	WebsocketURL string // e.g. ws://127.0.0.1:8088/ari/events
	User         string
	Password     string
	Application  string
}

// Watch connects to ARI and runs the observer until ctx ends. While Asterisk is away the
// native client retries every second on its own and idv serves calls meanwhile (the queue
// views then lack waits, talk times and agents). The client is not closed: in ari v5.3.1
// Close races with the client's own reader; it ends with the process.
func Watch(ctx context.Context, opts Options, o *Observer, log zerolog.Logger) {
	c := native.New(&native.Options{Application: opts.Application, URL: opts.URL, WebsocketURL: opts.WebsocketURL,
		WebsocketOrigin: Origin(opts.URL), Username: opts.User, Password: opts.Password})
	done := make(chan error, 1)
	go func() { done <- c.Connect() }()
	log.Info().Str("url", opts.URL).Msg("connecting to ARI")
	select {
	case err := <-done:
		if err != nil {
			log.Error().Err(err).Msg("ARI: not connecting (ari.user and ari.password must be set)")
			return
		}
	case <-ctx.Done():
		return
	}
	log.Info().Str("url", opts.URL).Str("application", opts.Application).Msg("ARI connected: observing queues")
	o.Run(ctx, c)
}

// Origin is the Origin header of idv's ARI websocket: the scheme and host of ARI's URL
// (http://127.0.0.1:8088), which is what ari.conf's allowed_origins lists. The client's
// own default, http://localhost/, made Asterisk log a NOTICE at every connect.
func Origin(ariURL string) string {
	u, err := url.Parse(ariURL)
	if err != nil || u.Host == "" {
		return "http://localhost/"
	}
	return u.Scheme + "://" + u.Host
}
