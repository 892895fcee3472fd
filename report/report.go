// Package report is idv's historical reporting: a library of standard reports over the
// interaction records (and only them), each rendered as CSV, XLSX or PDF, run on demand
// (idv report, GET /api/reports/{name}) or on a schedule.
package report

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
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

// Describe is the filter in words, for logs and the audit trail.
func (f Filter) Describe() string { return f.describe(English) }

// describe is the filter in words in the language, for a report's header: the period
// with its time zone's name, then each list given.
func (f Filter) describe(l Lang) string {
	loc := f.loc()
	from, to := f.From.In(loc), f.To.In(loc)
	period := fmt.Sprintf("%s – %s (%s)", from.Format("2006-01-02 15:04"), to.Format("2006-01-02 15:04"), ZoneName(loc))
	if midnight(from) && midnight(to) { // whole days: name the first and the last
		period = fmt.Sprintf("%s – %s (%s)", from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02"), ZoneName(loc))
	}
	parts := []string{period}
	for _, p := range []struct {
		name string
		vals []string
	}{{"line", f.Lines}, {"queue", f.Queues}, {"agent", f.Agents}, {"status", f.Statuses},
		{"language", f.Languages}, {"wrap-up", f.WrapUps}} {
		if len(p.vals) > 0 {
			parts = append(parts, l.tr(p.name)+": "+strings.Join(p.vals, ", "))
		}
	}
	return strings.Join(parts, " · ")
}

// ZoneName names a time zone as a reader knows it: "Asia/Tokyo". The machine's own zone
// (time.Local, report.timezone "Local") is named from TZ or /etc/localtime, else by its
// offset from UTC ("UTC+09:00").
func ZoneName(loc *time.Location) string {
	if loc != time.Local {
		return loc.String()
	}
	file := "" // the zone's file, whose path ends with its name
	if tz, ok := os.LookupEnv("TZ"); ok {
		switch tz = strings.TrimPrefix(tz, ":"); {
		case tz == "":
			return "UTC"
		case !strings.HasPrefix(tz, "/"):
			return tz
		}
		file = tz
	} else if target, err := filepath.EvalSymlinks("/etc/localtime"); err == nil {
		file = target
	}
	if _, name, ok := strings.Cut(file, "zoneinfo/"); ok && name != "" {
		return name
	}
	_, off := time.Now().In(loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, off/3600, off%3600/60)
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
	Seconds       // float64 seconds: m:ss in PDF and XLSX, seconds in CSV
)

// Column is one column of a table.
type Column struct {
	Name string
	Kind Kind
	// Code is the machine name behind a column named in words (an IDV_REASON value);
	// XLSX and CSV headers carry it: "Verification failed [VERIFY_FAILED]".
	Code string
	// Apart marks a count that overlaps the columns that add up to a whole ("of which
	// hung up"): its name says so, and the PDF sets it apart.
	Apart bool
	// DataOnly columns (codes beside their words) are in XLSX and CSV, not in the PDF.
	DataOnly bool
	// Below puts the column, in the PDF, on lines of its own under the row's other cells,
	// across the table (a call's timeline).
	Below bool
}

// header is the column's header in a format: the code and the unit where a file for
// tools needs them.
func (c Column) header(f Format, l Lang) string {
	h := c.Name
	if f != PDF && c.Code != "" {
		h += " [" + c.Code + "]"
	}
	if f == CSV && c.Kind == Seconds {
		h += l.tr(" (s)")
	}
	return h
}

// Chart draws a table: one bar group per row, one bar per series column.
type Chart struct {
	Title   string
	Stacked bool
	Series  []int // column indexes; the first column names the categories
}

// Sum says that on every row the columns Parts add up to the column Whole.
type Sum struct {
	Whole int
	Parts []int
}

// Table is one block of a report, a section of its own in CSV.
type Table struct {
	Name    string // the section's name, for CSV (section=by-day)
	Title   string
	Columns []Column
	Rows    [][]any
	Chart   *Chart
	Note    string
	// Sums are the breakdowns of the table: on each row, Parts add up to Whole.
	Sums []Sum
	// TotalRow says the last row is the sum of the others.
	TotalRow bool
}

// dataRows are the rows without the total row.
func (t Table) dataRows() [][]any {
	if t.TotalRow && len(t.Rows) > 0 {
		return t.Rows[:len(t.Rows)-1]
	}
	return t.Rows
}

// Report is a report's result, ready to render.
type Report struct {
	Name      string
	Title     string
	Filter    Filter
	Lang      Lang
	Generated time.Time
	Tables    []Table
	// Section is the one section kept (Only), "" when the report holds them all.
	Section string
}

// Section is one of a report's sections, by name.
type Section struct{ Name, Title string }

// Definition is one report of the library.
type Definition struct {
	Name, Title, Description string
	// Sections are the tables of the report, in order.
	Sections []Section
	build    func(ctx context.Context, d *data) ([]Table, error)
	needs    needs
}

// Library lists the standard reports.
var Library = []Definition{
	{Name: "outcomes", Title: "ID&V outcomes", Description: "verified / identified only / unidentified / opted out / errors, by line, by day and by hour",
		Sections: []Section{{"by-line", "By service line"}, {"by-day", "By day"}, {"by-hour", "By hour of day"}}, build: outcomes, needs: needs{groups: true}},
	{Name: "methods", Title: "Identification methods", Description: "ANI vs DTMF, ANI hit rate, share of withheld numbers, identifier types and verification factors",
		Sections: []Section{{"by-line", "By service line"}, {"id-types", "By identifier type"}, {"factors", "Verification factors"}},
		build:    methods, needs: needs{groups: true, events: true}},
	{Name: "attempts", Title: "Attempts and failure reasons", Description: "distribution of identify and verify attempts, failure reasons",
		Sections: []Section{{"attempts", "Attempts used per call"}, {"reasons", "Reasons by line"}}, build: attempts, needs: needs{groups: true}},
	{Name: "containment", Title: "Containment", Description: "calls finished in self-service vs sent to agents, per line",
		Sections: []Section{{"by-line", "Self-service vs agents"}}, build: containment, needs: needs{groups: true}},
	{Name: "backend", Title: "Back-end health", Description: "CRM calls, latency percentiles, errors by kind, per endpoint",
		Sections: []Section{{"endpoints", "Per endpoint"}, {"errors", "Errors by kind"}}, build: backend, needs: needs{events: true}},
	{Name: "queues", Title: "Queue and agent activity", Description: "offered, answered, abandoned, wait and talk time, per queue and per agent",
		Sections: []Section{{"queues", "Per queue"}, {"agents", "Per agent"}}, build: queues, needs: needs{groups: true}},
	{Name: "detail", Title: "Interaction detail", Description: "one row per call with its step timeline",
		Sections: []Section{{"interactions", "Interactions"}}, build: detail, needs: needs{rows: true}},
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

// Translated is the definition with its title, description and sections' titles in the
// language.
func (d Definition) Translated(l Lang) Definition {
	d.Title, d.Description = l.tr(d.Title), l.tr(d.Description)
	d.Sections = slices.Clone(d.Sections)
	for i := range d.Sections {
		d.Sections[i].Title = l.tr(d.Sections[i].Title)
	}
	return d
}

// Run builds the report from the records in src, in the language.
func (d Definition) Run(ctx context.Context, src Source, f Filter, now time.Time, l Lang) (*Report, error) {
	if !f.From.Before(f.To) {
		return nil, fmt.Errorf("report %s: the period is empty (from %s to %s)", d.Name, f.From, f.To)
	}
	data, err := load(ctx, src, f, d.needs)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", d.Name, err)
	}
	data.lang = l
	tables, err := d.build(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", d.Name, err)
	}
	if len(tables) != len(d.Sections) {
		return nil, fmt.Errorf("report %s: %d tables for %d sections", d.Name, len(tables), len(d.Sections))
	}
	for i := range tables {
		tables[i].Name, tables[i].Title = d.Sections[i].Name, l.tr(d.Sections[i].Title)
	}
	return &Report{Name: d.Name, Title: l.tr(d.Title), Filter: f, Lang: l, Generated: now, Tables: tables}, nil
}

// Only is the report cut to the section named (the first when name is ""), as CSV
// writes it: one table.
func (r *Report) Only(name string) (*Report, error) {
	names := make([]string, len(r.Tables))
	for i, t := range r.Tables {
		names[i] = t.Name
		if name == t.Name || name == "" && i == 0 {
			if len(r.Tables) == 1 {
				return r, nil
			}
			out := *r
			out.Tables, out.Section = []Table{t}, t.Name
			return &out, nil
		}
	}
	return nil, fmt.Errorf("section %q: report %s has %s", name, r.Name, strings.Join(names, ", "))
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

func ratio(a, b int64) any {
	if b == 0 {
		return nil // nothing to count: "—", not 0.0 %
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
