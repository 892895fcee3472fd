package report

import (
	"context"

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
}

// data is what a report is built from.
type data struct {
	filter Filter
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
