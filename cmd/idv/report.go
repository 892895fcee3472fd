package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/idv-project/idv/app"
	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
)

func reportCmd(args []string) error {
	fs := newFlagSet("report", "-name NAME -from DATE -to DATE [flags]", `Builds a report of the library from the interaction records and writes it as PDF,
XLSX or CSV. Reports: outcomes, methods, attempts, containment, backend, queues, detail.
Example: idv report -name outcomes -from 2026-11-01 -to 2026-11-30 -line retail -format pdf -o out.pdf
A line, queue, agent, status, language or wrap-up code that neither the configuration
nor the records know is an error, and so are -range with -from or -to.`)
	path := fs.String("config", envOr("IDV_CONFIG", "config.toml"), "configuration file (its store and report settings)")
	name := fs.String("name", "outcomes", "report name")
	format := fs.String("format", "pdf", "pdf, xlsx or csv")
	lang := fs.String("lang", "", "language of the report: en or ja (default: report.language)")
	section := fs.String("section", "", "the table a CSV holds, for a report of several (default: the first): "+sectionNames())
	outPath := fs.String("o", "", `output file ("-" for standard output; default: the report's file name)`)
	q := url.Values{}
	for _, p := range [][2]string{
		{"from", "first day (2026-11-01) or an RFC 3339 time"}, {"to", "last day, inclusive, or an RFC 3339 time"},
		{"range", "a relative period instead of -from/-to: " + strings.Join(report.Ranges, ", ")},
		{"tz", "time zone (default: report.timezone)"}, {"line", "only these service lines (comma-separated)"},
		{"queue", "only these queues"}, {"agent", "only these agents"}, {"status", "only these IDV_STATUS values"},
		{"language", "only these languages"}, {"wrapup", "only these wrap-up codes"},
	} {
		fs.Func(p[0], p[1], func(v string) error { q.Add(p[0], v); return nil })
	}
	fs.Parse(args)
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	def, err := report.Find(*name)
	if err != nil {
		return err
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return err
	}
	l, err := report.ParseLang(cmp.Or(*lang, cfg.Report.Language))
	if err != nil {
		return err
	}
	if *section != "" && f != report.CSV {
		return fmt.Errorf("-section %s: only a CSV is cut into sections; the %s holds them all", *section, f)
	}
	filter, err := report.ParseFilter(q, time.Now(), cfg.Report.Location())
	if err != nil {
		return err
	}
	ctx := context.Background()
	driver, dsn := cfg.Store.Open()
	st, err := store.OpenExisting(ctx, driver, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := filter.Check(ctx, st, app.ReportKnown(cfg)); err != nil {
		return err
	}
	rep, err := def.Run(ctx, st, filter, time.Now(), l)
	if err != nil {
		return err
	}
	if f == report.CSV {
		if rep, err = rep.Only(*section); err != nil {
			return err
		}
	}
	var w io.Writer = os.Stdout
	dest := *outPath
	if dest == "" {
		dest = rep.FileName(f)
	}
	if dest != "-" {
		file, err := os.Create(dest)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	if err := report.Render(w, rep, f, report.Options{Font: cfg.Report.Font}); err != nil {
		return err
	}
	if dest != "-" {
		fmt.Fprintf(os.Stderr, "%s: %s, %s\n", dest, rep.Title, rep.Describe())
	}
	return nil
}

// sectionNames lists each report's sections: "outcomes: by-line, by-day, by-hour; …".
func sectionNames() string {
	var parts []string
	for _, d := range report.Library {
		var names []string
		for _, s := range d.Sections {
			names = append(names, s.Name)
		}
		parts = append(parts, d.Name+": "+strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}
