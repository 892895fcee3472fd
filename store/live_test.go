package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idv-project/idv/store"
	"github.com/idv-project/idv/store/storetest"
)

// TestLivePartsNeedPostgres: on SQLite, the live-state methods say they need PostgreSQL
// rather than fail somewhere in SQL.
func TestLivePartsNeedPostgres(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	_, err := s.LiveParts(ctx, "a", time.Time{})
	for name, err := range map[string]error{
		"publish":  s.PublishLivePart(ctx, "idv_live", "a", []byte(`{}`)),
		"withdraw": s.WithdrawLivePart(ctx, "idv_live", "a"),
		"read":     err,
		"notify":   s.Notify(ctx, "idv_live", "a"),
	} {
		if !errors.Is(err, store.ErrNotPostgres) {
			t.Errorf("%s on SQLite: %v, want ErrNotPostgres", name, err)
		}
	}
}

// TestLivePartsOnPostgres: a part published is read by the other instances (not by its
// own, not once older than asked), a listener is told of it, and a part withdrawn is gone.
func TestLivePartsOnPostgres(t *testing.T) {
	if !hasPostgres(t) {
		t.Skip("IDV_TEST_POSTGRES not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	driver, dsn := storetest.DSN(t, store.Postgres)
	s, err := store.Open(ctx, driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Channels are per database, not per schema: one of this test's own.
	channel := fmt.Sprintf("idv_test_%d", time.Now().UnixNano())
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		t.Fatal(err)
	}
	told := func(want string) {
		t.Helper()
		n, err := conn.WaitForNotification(ctx)
		if err != nil || n.Channel != channel || n.Payload != want {
			t.Fatalf("notification %+v, %v; want %q on %s", n, err, want, channel)
		}
	}
	before := time.Now().Add(-time.Second)
	if err := s.PublishLivePart(ctx, channel, "a", []byte(`{"calls":1}`)); err != nil {
		t.Fatal(err)
	}
	told("a")
	if err := s.PublishLivePart(ctx, channel, "a", []byte(`{"calls":2}`)); err != nil {
		t.Fatal(err)
	}
	told("a")
	parts, err := s.LiveParts(ctx, "b", before)
	if err != nil || len(parts) != 1 || parts[0].Instance != "a" || string(parts[0].JSON) != `{"calls":2}` || parts[0].Updated.Before(before) {
		t.Errorf("b reads %+v, %v; want a's latest part", parts, err)
	}
	if parts, err := s.LiveParts(ctx, "a", before); err != nil || len(parts) != 0 {
		t.Errorf("a reads %+v, %v; want none (its own is left out)", parts, err)
	}
	if parts, err := s.LiveParts(ctx, "b", time.Now().Add(time.Minute)); err != nil || len(parts) != 0 {
		t.Errorf("b reads %+v, %v; want none newer than a minute ahead", parts, err)
	}
	if err := s.Notify(ctx, channel, "hello"); err != nil {
		t.Fatal(err)
	}
	told("hello")
	if err := s.WithdrawLivePart(ctx, channel, "a"); err != nil {
		t.Fatal(err)
	}
	told("a")
	if parts, err := s.LiveParts(ctx, "b", before); err != nil || len(parts) != 0 {
		t.Errorf("after withdrawal b reads %+v, %v; want none", parts, err)
	}
}

// hasPostgres says whether PostgreSQL is there to test against (storetest decides; under
// CI its absence fails).
func hasPostgres(t *testing.T) bool {
	for _, d := range storetest.Drivers(t) {
		if d == store.Postgres {
			return true
		}
	}
	return false
}
