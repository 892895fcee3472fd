package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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

// FileName is a download name for the report: outcomes_2026-11-01_2026-11-30.pdf, or for
// one section of several, outcomes-by-day_2026-11-01_2026-11-30.csv.
func (r *Report) FileName(f Format) string {
	loc := r.Filter.loc()
	last := r.Filter.To.Add(-time.Millisecond)
	name := r.Name
	if r.Section != "" {
		name += "-" + r.Section
	}
	return fmt.Sprintf("%s_%s_%s.%s", name, r.Filter.From.In(loc).Format("2006-01-02"), last.In(loc).Format("2006-01-02"), f)
}

// Describe is the report's filter in words in its language: the period with its time
// zone, then the lists it selects by.
func (r *Report) Describe() string { return r.Filter.describe(r.Lang) }

// generated is the "generated …" line of the report's header.
func (r *Report) generated() string {
	return r.Lang.tr("generated") + " " + r.Generated.In(r.Filter.loc()).Format("2006-01-02 15:04")
}

// Render writes the report in the format. CSV is one table: cut a report of several
// sections with Only first.
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

// cellText formats a value for a text output: CSV, or the PDF.
func cellText(v any, k Kind, loc *time.Location, f Format) string {
	if v == nil && (k == Percent || k == Millis || k == Seconds) {
		if f == CSV {
			return "" // no value: a tool reads an empty cell as missing, not as zero
		}
		return "—" // nothing was measured (no wait recorded, no lookup to rate)
	}
	switch k {
	case Percent:
		return fmt.Sprintf("%.1f%%", v.(float64)*100)
	case Millis:
		return fmt.Sprintf("%.1f", v.(float64))
	case Seconds:
		if f == CSV {
			return fmt.Sprintf("%.1f", v.(float64))
		}
		return clock(v.(float64))
	case DateTime:
		return v.(time.Time).In(loc).Format("2006-01-02 15:04:05")
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// clock is seconds as a reader reads a duration: m:ss, or h:mm:ss from an hour on.
func clock(sec float64) string {
	s := int64(math.Round(sec))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// SafeText defuses a text cell that a spreadsheet would read as a formula by prefixing
// an apostrophe: one that starts with a tab or CR, or whose first character after any
// spaces and line breaks is =, +, - or @, or their full-width forms (which Japanese
// Excel reads alike).
func SafeText(s string) string {
	if s == "" {
		return s
	}
	first, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s, unicode.IsSpace))
	if s[0] == '\t' || s[0] == '\r' || strings.ContainsRune("=+-@＝＋－＠", first) {
		return "'" + s
	}
	return s
}

// CSVPreamble is what a CSV in language l starts with: for Japanese a UTF-8 byte-order
// mark, without which Excel (which Japanese supervisors open CSVs with) reads the file as
// Shift_JIS and garbles every name; nothing for English, so that other tools import it as
// plain RFC 4180.
func CSVPreamble(l Lang) string {
	if l == Japanese {
		return "\ufeff"
	}
	return ""
}

// renderCSV writes the report's one table as RFC 4180 CSV in UTF-8 (after CSVPreamble): a header row, then
// the rows; nothing else (no title, no total row, no note), so that a tool imports it
// as it is.
func renderCSV(w io.Writer, r *Report) error {
	if len(r.Tables) != 1 {
		names := make([]string, len(r.Tables))
		for i, t := range r.Tables {
			names[i] = t.Name
		}
		return fmt.Errorf("a CSV holds one section; report %s has %s", r.Name, strings.Join(names, ", "))
	}
	t := r.Tables[0]
	if _, err := io.WriteString(w, CSVPreamble(r.Lang)); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	loc := r.Filter.loc()
	hdr := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		hdr[i] = c.header(CSV, r.Lang)
	}
	cw.Write(hdr)
	for _, row := range t.dataRows() {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = cellText(v, t.Columns[i].Kind, loc, CSV)
			if t.Columns[i].Kind == Text {
				rec[i] = SafeText(rec[i])
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}
