package report

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ParseFilter reads a filter from query parameters (the CLI's flags use the same names):
// from and to are dates (2026-11-01, "to" inclusive) or RFC 3339 times, or range names
// a relative period ("yesterday", "last-week", …; see Range) in the filter's zone;
// line, queue, agent, status, language and wrapup take comma-separated values; tz a time
// zone (default loc). Parameters that conflict — range with from or to, one of them
// given twice — are an error that names them.
func ParseFilter(q url.Values, now time.Time, loc *time.Location) (Filter, error) {
	for _, k := range []string{"from", "to", "range", "tz"} {
		if vs := q[k]; len(vs) > 1 {
			return Filter{}, fmt.Errorf("%s is given %d times (%s): give it once", k, len(vs), strings.Join(vs, ", "))
		}
	}
	if r := q.Get("range"); r != "" {
		for _, k := range []string{"from", "to"} {
			if v := q.Get(k); v != "" {
				return Filter{}, fmt.Errorf("range %q and %s %q conflict: give either range, or from and to", r, k, v)
			}
		}
	}
	if tz := q.Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return Filter{}, fmt.Errorf("tz %q: %w", tz, err)
		}
		loc = l
	}
	f := Filter{Location: loc}
	if r := q.Get("range"); r != "" {
		from, to, err := Range(r, now, loc)
		if err != nil {
			return Filter{}, err
		}
		f.From, f.To = from, to
	} else {
		var err error
		if f.From, err = parseBound(q.Get("from"), loc, false); err != nil {
			return Filter{}, fmt.Errorf("from: %w", err)
		}
		if f.To, err = parseBound(q.Get("to"), loc, true); err != nil {
			return Filter{}, fmt.Errorf("to: %w", err)
		}
	}
	if !f.From.Before(f.To) {
		return Filter{}, fmt.Errorf("the period from %s to %s is empty", f.From.In(loc).Format(time.RFC3339), f.To.In(loc).Format(time.RFC3339))
	}
	list := func(k string) []string {
		var out []string
		for _, v := range q[k] {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
	f.Lines, f.Queues, f.Agents = list("line"), list("queue"), list("agent")
	f.Statuses, f.Languages, f.WrapUps = list("status"), list("language"), list("wrapup")
	for i, s := range f.Statuses {
		f.Statuses[i] = strings.ToUpper(s) // the codes are upper case: verified is VERIFIED
	}
	return f, nil
}

// parseBound reads a date (a whole day: its start, or for "to" the next day's start) or
// an RFC 3339 time.
func parseBound(s string, loc *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("missing: give a date such as 2026-11-01, or a range such as yesterday")
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2006-01-02) nor an RFC 3339 time", s)
	}
	return t, nil
}

// Ranges are the relative periods Range knows.
var Ranges = []string{"today", "yesterday", "this-week", "last-week", "this-month", "last-month", "last-7-days", "last-30-days"}

// Range is a relative period ending at or before now, in whole days of loc; weeks start
// on Monday.
func Range(name string, now time.Time, loc *time.Location) (time.Time, time.Time, error) {
	n := now.In(loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	month := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc)
	switch strings.ReplaceAll(strings.ToLower(name), " ", "-") {
	case "today":
		return today, today.AddDate(0, 0, 1), nil
	case "yesterday":
		return today.AddDate(0, 0, -1), today, nil
	case "this-week":
		return monday, today.AddDate(0, 0, 1), nil
	case "last-week":
		return monday.AddDate(0, 0, -7), monday, nil
	case "this-month":
		return month, today.AddDate(0, 0, 1), nil
	case "last-month":
		return month.AddDate(0, -1, 0), month, nil
	case "last-7-days":
		return today.AddDate(0, 0, -7), today, nil
	case "last-30-days":
		return today.AddDate(0, 0, -30), today, nil
	}
	return time.Time{}, time.Time{}, fmt.Errorf("range %q: want one of %s", name, strings.Join(Ranges, ", "))
}
