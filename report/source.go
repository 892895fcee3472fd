package report

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/idv-project/idv/flow"

	"github.com/idv-project/idv/store"
)

// Source is where reports read interaction records. *store.Store is one; a test can be
// another, with no database.
type Source interface {
	// ReportGroups counts the interactions q selects by 15-minute bucket and by every
	// attribute the aggregate reports look at.
	ReportGroups(ctx context.Context, q store.Query) ([]store.ReportGroup, error)
	// EventCounts counts the CRM and ANI events of the interactions q selects.
	EventCounts(ctx context.Context, q store.Query) ([]store.EventCount, error)
	// DetailRows reads the first q.Limit interactions q selects, oldest first, with their
	// events, and how many q selects in all.
	DetailRows(ctx context.Context, q store.Query) ([]store.DetailRow, int64, error)
	// RecordedValues lists the values a field takes in all the records, so that a filter
	// naming one that never occurred can be refused (Filter.Check).
	RecordedValues(ctx context.Context, field store.Field) ([]string, error)
}

// data is what a report is built from.
type data struct {
	filter Filter
	lang   Lang
	groups []store.ReportGroup
	events []store.EventCount
	rows   []store.DetailRow // detail only, at most DetailLimit
	total  int64             // interactions selected
}

// needs says what a report reads.
type needs struct {
	groups bool
	events bool
	rows   bool
}

// query is the filter as the store selects interactions.
func (f Filter) query() store.Query {
	return store.Query{From: f.From, To: f.To, Lines: f.Lines, Statuses: f.Statuses, Agents: f.Agents,
		Queues: f.Queues, Languages: f.Languages, WrapUps: f.WrapUps}
}

func load(ctx context.Context, src Source, f Filter, need needs) (*data, error) {
	d := &data{filter: f}
	q := f.query()
	var err error
	if need.groups {
		if d.groups, err = src.ReportGroups(ctx, q); err != nil {
			return nil, err
		}
		for _, g := range d.groups {
			d.total += g.N
		}
	}
	if need.events {
		if d.events, err = src.EventCounts(ctx, q); err != nil {
			return nil, err
		}
	}
	if need.rows {
		q.Limit = DetailLimit
		if d.rows, d.total, err = src.DetailRows(ctx, q); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Known is what the configuration names that a filter may name before any call has
// been recorded with it: lines, the queues of their routes, agents, languages, wrap-up
// codes.
type Known struct {
	Lines, Queues, Agents, Languages, WrapUps []string
}

// KnownLines is what the service lines name: the lines, the queues their routes go to
// and the languages of their prompts.
func KnownLines(lines flow.Lines) Known {
	var k Known
	for name, l := range lines.ByName {
		k.Lines = append(k.Lines, name)
		k.Languages = append(k.Languages, l.Languages...)
		r := l.Routes
		for _, route := range []flow.Route{r.Verified, r.Identified, r.Unidentified, r.VerifyFailed, r.OptedOut, r.Error} {
			if q := flow.QueueOf(route.String()); q != "" {
				k.Queues = append(k.Queues, q)
			}
		}
	}
	return k
}

// UnknownError is a filter value that neither the configuration nor the records know.
type UnknownError struct {
	Param, Value string
	Known        []string
}

func (e *UnknownError) Error() string {
	known := e.Known
	more := ""
	if len(known) > 20 {
		known, more = known[:20], ", …"
	}
	if len(known) == 0 {
		return fmt.Sprintf("%s %q is not known: none is configured or recorded", e.Param, e.Value)
	}
	return fmt.Sprintf("%s %q is not known (known: %s%s)", e.Param, e.Value, strings.Join(known, ", "), more)
}

// Check returns an *UnknownError for the first value of the filter that names a line,
// queue, agent, status, language or wrap-up code that neither k (the configuration)
// nor the records in src know; other errors are src's. A value known from the records
// alone (a line since removed from the configuration) is accepted.
func (f Filter) Check(ctx context.Context, src Source, k Known) error {
	statuses := []string{string(flow.StatusVerified), string(flow.StatusIdentified), string(flow.StatusUnidentified)}
	for _, c := range []struct {
		param      string
		vals, conf []string
		field      store.Field
	}{
		{"line", f.Lines, k.Lines, store.FieldLine}, {"queue", f.Queues, k.Queues, store.FieldQueue},
		{"agent", f.Agents, k.Agents, store.FieldAgent}, {"status", f.Statuses, statuses, ""},
		{"language", f.Languages, k.Languages, store.FieldLanguage}, {"wrapup", f.WrapUps, k.WrapUps, store.FieldWrapUp},
	} {
		var known []string
		for _, v := range c.vals {
			if slices.Contains(c.conf, v) || slices.Contains(known, v) {
				continue
			}
			if known == nil {
				known = slices.Clone(c.conf)
				if c.field != "" {
					rec, err := src.RecordedValues(ctx, c.field)
					if err != nil {
						return err
					}
					known = append(known, rec...)
				}
				slices.Sort(known)
				known = slices.Compact(known)
				if slices.Contains(known, v) {
					continue
				}
			}
			return &UnknownError{Param: c.param, Value: v, Known: known}
		}
	}
	return nil
}
