package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
)

// Schedule is a report run at cron times over a relative range, and delivered.
type Schedule struct {
	Name     string
	When     cron.Schedule
	Report   Definition
	Range    string // see Ranges
	Formats  []Format
	Filter   Filter // lists only; the period comes from Range
	Delivery []Delivery
}

// File is one rendered report to deliver.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Delivery sends a schedule's files somewhere.
type Delivery interface {
	Deliver(ctx context.Context, s *Schedule, rep *Report, files []File) error
	String() string
}

// Runs records scheduled runs so that each is delivered once, even with several idv
// instances on one database (store.Store implements it).
type Runs interface {
	ClaimRun(ctx context.Context, schedule string, due time.Time, owner string, lease time.Duration, now time.Time) (bool, error)
	FinishRun(ctx context.Context, schedule string, due time.Time, owner, status, detail string, now time.Time) error
	LastRun(ctx context.Context, schedule string) (time.Time, bool, error)
}

// Scheduler runs schedules. Tick does the work; Run calls Tick at each due time.
type Scheduler struct {
	Schedules []*Schedule
	Source    Source
	Runs      Runs
	Owner     string // this instance, in the run log
	Location  *time.Location
	Render    Options
	// Lang is the language of the reports (report.language).
	Lang Lang
	// Known is what the configuration names; a schedule's filter naming anything else
	// fails its runs (Filter.Check).
	Known Known
	Log   zerolog.Logger
	// Lease is how long a run may take before another instance may take it over.
	Lease time.Duration
	// MaxCatchUp bounds the missed runs of one schedule caught up at once (oldest first
	// are skipped beyond it).
	MaxCatchUp int
	// Started is when this scheduler began; runs due before it are not caught up unless
	// the run log has an earlier run of the schedule.
	Started time.Time
}

// Run calls Tick at every due time until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	for {
		now := time.Now()
		if err := s.Tick(ctx, now); err != nil {
			s.Log.Error().Err(err).Msg("scheduled reports")
		}
		next := now.Add(time.Hour)
		for _, sc := range s.Schedules {
			if n := sc.When.Next(now.In(s.loc())); n.Before(next) {
				next = n
			}
		}
		t := time.NewTimer(time.Until(next) + 50*time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Tick runs every schedule's runs due up to now that have not run yet: the ones since
// the schedule's last recorded run (caught up after a restart), or since Started.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	// Cron times are read in the scheduler's zone (unless the spec says CRON_TZ=): the
	// robfig/cron schedule uses the zone of the time it is given.
	loc := s.loc()
	var errs []error
	for _, sc := range s.Schedules {
		last, ok, err := s.Runs.LastRun(ctx, sc.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			last = s.Started
		}
		var due []time.Time
		for t := sc.When.Next(last.In(loc)); !t.After(now); t = sc.When.Next(t) {
			due = append(due, t)
		}
		if max := max(s.MaxCatchUp, 1); len(due) > max {
			s.Log.Warn().Str("schedule", sc.Name).Int("skipped", len(due)-max).Msg("too many missed runs; catching up the latest only")
			due = due[len(due)-max:]
		}
		for _, t := range due {
			if err := s.runOnce(ctx, sc, t, now); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) runOnce(ctx context.Context, sc *Schedule, due, now time.Time) error {
	log := s.Log.With().Str("schedule", sc.Name).Time("due", due).Logger()
	lease := s.Lease
	if lease <= 0 {
		lease = 10 * time.Minute
	}
	claimed, err := s.Runs.ClaimRun(ctx, sc.Name, due, s.Owner, lease, now)
	if err != nil || !claimed {
		if err == nil {
			log.Debug().Msg("run taken by another instance")
		}
		return err
	}
	status, detail := "delivered", ""
	if err := s.produce(ctx, sc, due); err != nil {
		status, detail = "failed", err.Error()
		log.Error().Err(err).Msg("scheduled report failed")
	} else {
		log.Info().Str("report", sc.Report.Name).Msg("scheduled report delivered")
	}
	return s.Runs.FinishRun(context.WithoutCancel(ctx), sc.Name, due, s.Owner, status, detail, time.Now())
}

func (s *Scheduler) loc() *time.Location {
	if s.Location == nil {
		return time.Local
	}
	return s.Location
}

// produce builds the report for the run due at due, renders it and delivers it.
func (s *Scheduler) produce(ctx context.Context, sc *Schedule, due time.Time) error {
	loc := s.loc()
	f := sc.Filter
	f.Location = loc
	var err error
	// The range is relative to the run's cron time, not to when it ran (a caught-up
	// "yesterday" is the day before the missed run).
	if f.From, f.To, err = Range(sc.Range, due, loc); err != nil {
		return err
	}
	if err := f.Check(ctx, s.Source, s.Known); err != nil {
		return err
	}
	rep, err := sc.Report.Run(ctx, s.Source, f, time.Now(), s.Lang)
	if err != nil {
		return err
	}
	var files []File
	for _, format := range sc.Formats {
		parts := []*Report{rep}
		if format == CSV { // a CSV file per section
			parts = parts[:0]
			for _, t := range rep.Tables {
				part, err := rep.Only(t.Name)
				if err != nil {
					return err
				}
				parts = append(parts, part)
			}
		}
		for _, part := range parts {
			var buf bytes.Buffer
			if err := Render(&buf, part, format, s.Render); err != nil {
				return fmt.Errorf("%s: %w", format, err)
			}
			files = append(files, File{Name: part.FileName(format), ContentType: format.ContentType(), Data: buf.Bytes()})
		}
	}
	var errs []string
	for _, d := range sc.Delivery {
		if err := d.Deliver(ctx, sc, rep, files); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", d, err))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}
