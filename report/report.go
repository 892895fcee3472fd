// Package report is idv's historical reporting: a library of standard reports over the
// interaction records (and only them), each rendered as CSV, XLSX or PDF, run on demand
// (idv report, GET /api/reports/{name}) or on a schedule.
package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Filter selects the interactions a report covers. Empty lists select everything.
type Filter struct {
	From, To  time.Time // [From, To)
	Location  *time.Location
	Lines     []string
	Queues    []string
	Agents    []string
	Statuses  []string
	Languages []string
	WrapUps   []string
}

// Describe is the filter in words, for a report's header.
func (f Filter) Describe() string {
	loc := f.loc()
	from, to := f.From.In(loc), f.To.In(loc)
	period := fmt.Sprintf("%s – %s (%s)", from.Format("2006-01-02 15:04"), to.Format("2006-01-02 15:04"), loc)
	if midnight(from) && midnight(to) { // whole days: name the first and the last
		period = fmt.Sprintf("%s – %s (%s)", from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02"), loc)
	}
	parts := []string{period}
	for _, p := range []struct {
		name string
		vals []string
	}{{"line", f.Lines}, {"queue", f.Queues}, {"agent", f.Agents}, {"status", f.Statuses},
		{"language", f.Languages}, {"wrap-up", f.WrapUps}} {
		if len(p.vals) > 0 {
			parts = append(parts, p.name+": "+strings.Join(p.vals, ", "))
		}
	}
	return strings.Join(parts, " · ")
}

func midnight(t time.Time) bool {
	h, m, s := t.Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

func (f Filter) loc() *time.Location {
	if f.Location == nil {
		return time.Local
	}
	return f.Location
}

// Kind is how a column's values are typed and formatted.
type Kind int

// Column kinds.
const (
	Text     Kind = iota
	Int           // int64
	Percent       // float64, 0..1
	Millis        // float64 milliseconds
	DateTime      // time.Time
)

// Column is one column of a table.
type Column struct {
	Name string
	Kind Kind
}

// Chart draws a table: one bar group per row, one bar per series column.
type Chart struct {
	Title   string
	Stacked bool
	Series  []int // column indexes; the first column names the categories
}

// Table is one block of a report.
type Table struct {
	Title   string
	Columns []Column
	Rows    [][]any
	Chart   *Chart
	Note    string
}

// Report is a report's result, ready to render.
type Report struct {
	Name      string
	Title     string
	Filter    Filter
	Generated time.Time
	Tables    []Table
}

// Definition is one report of the library.
type Definition struct {
	Name, Title, Description string
	build                    func(ctx context.Context, d *data) ([]Table, error)
	needs                    needs
}

// Library lists the standard reports.
var Library = []Definition{
	{Name: "outcomes", Title: "ID&V outcomes", Description: "verified / identified only / unidentified / opted out / errors, by line, by day and by hour", build: outcomes, needs: needs{groups: true}},
	{Name: "methods", Title: "Identification methods", Description: "ANI vs DTMF, ANI hit rate, share of withheld numbers", build: methods, needs: needs{groups: true, events: true}},
	{Name: "attempts", Title: "Attempts and failure reasons", Description: "distribution of identify and verify attempts, failure reasons", build: attempts, needs: needs{groups: true}},
	{Name: "containment", Title: "Containment", Description: "calls finished in self-service vs sent to agents, per line", build: containment, needs: needs{groups: true}},
	{Name: "backend", Title: "Back-end health", Description: "CRM calls, latency percentiles, errors by kind, per endpoint", build: backend, needs: needs{events: true}},
	{Name: "queues", Title: "Queue and agent activity", Description: "offered, answered, abandoned, wait and talk time, per queue and per agent", build: queues, needs: needs{groups: true}},
	{Name: "detail", Title: "Interaction detail", Description: "one row per call with its step timeline", build: detail, needs: needs{rows: true}},
}

// Find returns the report named name.
func Find(name string) (Definition, error) {
	for _, d := range Library {
		if d.Name == name {
			return d, nil
		}
	}
	names := make([]string, len(Library))
	for i, d := range Library {
		names[i] = d.Name
	}
	return Definition{}, fmt.Errorf("no report %q (reports: %s)", name, strings.Join(names, ", "))
}

// Run builds the report from the records in src.
func (d Definition) Run(ctx context.Context, src Source, f Filter, now time.Time) (*Report, error) {
	if !f.From.Before(f.To) {
		return nil, fmt.Errorf("report %s: the period is empty (from %s to %s)", d.Name, f.From, f.To)
	}
	data, err := load(ctx, src, f, d.needs)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", d.Name, err)
	}
	tables, err := d.build(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", d.Name, err)
	}
	return &Report{Name: d.Name, Title: d.Title, Filter: f, Generated: now, Tables: tables}, nil
}

// counter counts by key, remembering the keys' order of sorting.
type counter map[string]map[string]int64

func (c counter) add(row, col string, n int64) {
	if c[row] == nil {
		c[row] = map[string]int64{}
	}
	c[row][col] += n
}

func (c counter) keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// histogram counts values (whole milliseconds).
type histogram map[int64]int64

// percentile is the nearest-rank percentile of the values counted.
func (h histogram) percentile(p float64) float64 {
	var n int64
	keys := make([]int64, 0, len(h))
	for k, c := range h {
		keys = append(keys, k)
		n += c
	}
	if n == 0 {
		return 0
	}
	slices.Sort(keys)
	rank := int64(math.Ceil(p / 100 * float64(n)))
	var seen int64
	for _, k := range keys {
		seen += h[k]
		if seen >= max(rank, 1) {
			return float64(k)
		}
	}
	return float64(keys[len(keys)-1])
}
