package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format is an output format of a report.
type Format string

// Formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	PDF  Format = "pdf"
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, XLSX, PDF:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want csv, xlsx or pdf", s)
}

// ContentType is the MIME type of the format.
func (f Format) ContentType() string {
	switch f {
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case PDF:
		return "application/pdf"
	}
	return "text/csv; charset=utf-8"
}

// FileName is a download name for the report: outcomes_2026-11-01_2026-11-30.pdf.
func (r *Report) FileName(f Format) string {
	loc := r.Filter.loc()
	last := r.Filter.To.Add(-time.Millisecond)
	return fmt.Sprintf("%s_%s_%s.%s", r.Name, r.Filter.From.In(loc).Format("2006-01-02"), last.In(loc).Format("2006-01-02"), f)
}

// Render writes the report in the format.
func Render(w io.Writer, r *Report, f Format, opt Options) error {
	switch f {
	case CSV:
		return renderCSV(w, r)
	case XLSX:
		return renderXLSX(w, r)
	case PDF:
		return renderPDF(w, r, opt)
	}
	return fmt.Errorf("format %q: want csv, xlsx or pdf", f)
}

// Options tune rendering.
type Options struct {
	// Font is a TrueType font with the glyphs of customer names (Japanese among them) for
	// PDF; "" looks in the usual places (see FindFont).
	Font string
}

// cellText formats a value for text outputs.
func cellText(v any, k Kind, loc *time.Location) string {
	switch k {
	case Percent:
		return fmt.Sprintf("%.1f%%", v.(float64)*100)
	case Millis:
		return fmt.Sprintf("%.1f", v.(float64))
	case DateTime:
		return v.(time.Time).In(loc).Format("2006-01-02 15:04:05")
	}
	return fmt.Sprint(v)
}

// SafeText defuses a text cell that a spreadsheet would read as a formula (=, +, -, @,
// tab, CR) by prefixing an apostrophe.
func SafeText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// renderCSV writes RFC 4180 CSV in UTF-8: a title line, then each table with a heading
// line, a header row and its rows, tables separated by an empty line.
func renderCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	loc := r.Filter.loc()
	cw.Write([]string{r.Title, r.Filter.Describe(), "generated " + r.Generated.In(loc).Format(time.RFC3339)})
	for _, t := range r.Tables {
		cw.Write(nil)
		cw.Write([]string{t.Title})
		hdr := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			hdr[i] = c.Name
		}
		cw.Write(hdr)
		for _, row := range t.Rows {
			rec := make([]string, len(row))
			for i, v := range row {
				rec[i] = cellText(v, t.Columns[i].Kind, loc)
				if t.Columns[i].Kind == Text {
					rec[i] = SafeText(rec[i])
				}
			}
			cw.Write(rec)
		}
		if t.Note != "" {
			cw.Write([]string{t.Note})
		}
	}
	cw.Flush()
	return cw.Error()
}
