// Package cluster shares the live state of several idv instances through the
// PostgreSQL they already share for records, lockouts and schedules.
//
// Each instance writes its part of the live state (its calls in the IVR, in queues and
// with agents, its agents, its outcome tiles) to the live_parts table and sends
// NOTIFY idv_live; every instance LISTENs on idv_live and reads the other instances'
// parts when told, so a change on one instance reaches every dashboard in well under a
// second. LISTEN/NOTIFY was chosen because the database is already there, delivery is
// pushed (no polling interval to tune), and a notification is sent only when its
// transaction commits. Notifications carry only the sender's name: the state itself is
// in the table, so a listener that reconnects or misses a notification catches up by
// reading it, and NOTIFY's 8,000-byte payload limit never bites.
//
// Each instance also rewrites its part every Heartbeat; a part older than Expiry is an
// instance that died, and its calls leave the views. An agent's wrap-up entered on an
// instance that does not hold the agent is forwarded with NOTIFY idv_live_cmd.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/idv-project/idv/live"
	"github.com/idv-project/idv/store"
)

// Channels of NOTIFY.
const (
	channelState   = "idv_live"
	channelCommand = "idv_live_cmd"
)

// InstanceName names this process among the instances: host, process id and a random
// suffix (two instances in one process, as in tests, differ too).
func InstanceName() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Sharer publishes this instance's live state and follows the others'.
type Sharer struct {
	// Store is the shared PostgreSQL, where the parts are written and read; DSN, the
	// same database, opens the connection that LISTENs (a pgx connection of its own, held
	// for as long as the sharer runs).
	Store    *store.Store
	DSN      string
	Instance string
	Hub      *live.Hub
	Log      zerolog.Logger
	// Heartbeat is how often the part is rewritten even without a change (default 2 s);
	// Expiry is how old a part may be before its instance counts as gone (default 10 s);
	// MinInterval spaces publications under load (default 100 ms).
	Heartbeat, Expiry, MinInterval time.Duration
}

func (s *Sharer) defaults() {
	if s.Heartbeat <= 0 {
		s.Heartbeat = 2 * time.Second
	}
	if s.Expiry <= 0 {
		s.Expiry = 5 * s.Heartbeat
	}
	if s.MinInterval <= 0 {
		s.MinInterval = 100 * time.Millisecond
	}
}

// Run shares until ctx ends, then withdraws this instance's part. Set the hub's Forward
// to s.Forward before.
func (s *Sharer) Run(ctx context.Context) {
	s.defaults()
	done := make(chan struct{})
	go func() { defer close(done); s.listen(ctx) }()
	s.publish(ctx)
	<-done
}

// command is a wrap-up forwarded to the instance holding the agent.
type command struct {
	Instance string `json:"instance"`
	Agent    string `json:"agent"`
	ID       string `json:"id"`
}

// Forward hands an agent's wrap-up to the instance holding the agent; set it as the
// hub's Forward before the hub serves.
func (s *Sharer) Forward(instance, agent, id string) {
	b, _ := json.Marshal(command{Instance: instance, Agent: agent, ID: id})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Store.Notify(ctx, channelCommand, string(b)); err != nil {
		s.Log.Error().Err(err).Str("agent", agent).Str("instance", instance).Msg("cluster: could not forward a wrap-up")
	}
}

// publish writes this instance's part on every local change (at most every
// MinInterval) and every Heartbeat.
func (s *Sharer) publish(ctx context.Context) {
	changes, cancel := s.Hub.Subscribe()
	defer cancel()
	beat := time.NewTicker(s.Heartbeat)
	defer beat.Stop()
	published, heartbeat := uint64(0), true // at start: tell the others at once
	for {
		part, version := s.Hub.Part(s.Instance)
		// A change from another instance alone leaves ours as it was: nothing to tell.
		if version != published || heartbeat {
			if err := s.write(ctx, part); err == nil {
				published = version
			} else if ctx.Err() == nil {
				s.Log.Error().Err(err).Msg("cluster: could not publish the live state; other instances show it stale")
			}
		}
		t := time.NewTimer(s.MinInterval)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		select {
		case <-ctx.Done():
			s.withdraw()
			return
		case <-changes:
			heartbeat = false
		case <-beat.C:
			heartbeat = true
		}
	}
}

func (s *Sharer) write(ctx context.Context, p live.Part) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.Store.PublishLivePart(ctx, channelState, s.Instance, b)
}

// withdraw removes this instance's part at shutdown, so that its calls leave the other
// dashboards at once rather than at expiry.
func (s *Sharer) withdraw() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Store.WithdrawLivePart(ctx, channelState, s.Instance); err != nil {
		s.Log.Warn().Err(err).Msg("cluster: could not withdraw the live state; other instances drop it at expiry")
	}
}

// listen follows the other instances: on each notification, and every Heartbeat to
// drop instances gone silent. It reconnects with back-off.
func (s *Sharer) listen(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		s.Log.Warn().Err(err).Dur("retry_in_ms", backoff).Msg("cluster: lost the LISTEN connection; other instances' calls may be stale")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (s *Sharer) follow(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{channelState, channelCommand} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	s.Log.Info().Str("instance", s.Instance).Msg("cluster: sharing the live state over PostgreSQL LISTEN/NOTIFY")
	if err := s.load(ctx); err != nil {
		return err
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, s.Heartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			if err := s.load(ctx); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		switch n.Channel {
		case channelState:
			if n.Payload != s.Instance {
				if err := s.load(ctx); err != nil {
					return err
				}
			}
		case channelCommand:
			var c command
			if json.Unmarshal([]byte(n.Payload), &c) == nil && c.Instance == s.Instance {
				s.Hub.Release(c.Agent, c.ID)
			}
		}
	}
}

// load reads the other instances' fresh parts into the hub.
func (s *Sharer) load(ctx context.Context) error {
	stored, err := s.Store.LiveParts(ctx, s.Instance, time.Now().Add(-s.Expiry))
	if err != nil {
		return err
	}
	var parts []live.Part
	for _, sp := range stored {
		var p live.Part
		if err := json.Unmarshal(sp.JSON, &p); err != nil {
			s.Log.Warn().Err(err).Str("peer", sp.Instance).Msg("cluster: an instance's live state is unreadable; skipped")
			continue
		}
		parts = append(parts, p)
	}
	s.Hub.SetPeers(parts)
	return nil
}
