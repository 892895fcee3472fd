package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// FontCandidates are where FindFont looks for a TrueType font with Japanese glyphs:
// Debian's fonts-ipafont-gothic (IPAGothic) first.
var FontCandidates = []string{
	"/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
	"/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
	"/usr/share/fonts/truetype/ipafont/ipag.ttf",
	"/usr/share/fonts/ipa-gothic/ipag.ttf",
}

// FindFont returns the font to render PDFs with: path when set, else the first of
// FontCandidates that exists.
func FindFont(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("report font: %w", err)
		}
		return path, nil
	}
	for _, p := range FontCandidates {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("report font: no TrueType font with Japanese glyphs found; install fonts-ipafont-gothic or set report.font")
}

var palette = [][3]int{{48, 84, 150}, {112, 173, 71}, {237, 125, 49}, {165, 165, 165}, {255, 192, 0}, {91, 155, 213}, {158, 72, 14}, {99, 99, 99}}

const (
	pageW, pageH = 297.0, 210.0 // A4 landscape, mm
	margin       = 12.0
	bottom       = pageH - margin - 4 // where the body ends, above the footer
	rowH         = 5.5                // a row of one line
	lineH        = 3.6                // each further line of a row
	chartH       = 62.0
)

// renderPDF writes an A4 landscape PDF: title, filters and generation time on every page,
// charts as vector graphics, tables that break across pages with their header repeated,
// page numbers. A section's heading starts a page when its chart or its first rows
// would not fit under it.
func renderPDF(w io.Writer, r *Report, opt Options) error {
	font, err := FindFont(opt.Font)
	if err != nil {
		return err
	}
	ttf, err := os.ReadFile(font)
	if err != nil {
		return fmt.Errorf("report font: %w", err)
	}
	loc, l := r.Filter.loc(), r.Lang
	p := fpdf.New("L", "mm", "A4", "")
	p.SetMargins(margin, margin, margin)
	p.SetAutoPageBreak(false, margin)
	p.AddUTF8FontFromBytes("body", "", ttf)
	p.SetTitle(r.Title, true)
	p.SetCreator("idv", true)
	p.AliasNbPages("{nb}")
	p.SetHeaderFunc(func() {
		p.SetFont("body", "", 15)
		p.SetTextColor(20, 40, 80)
		p.CellFormat(0, 8, r.Title, "", 1, "L", false, 0, "")
		p.SetFont("body", "", 8.5)
		p.SetTextColor(90, 90, 90)
		p.CellFormat(0, 5, r.Describe()+"   ·   "+r.generated(), "", 1, "L", false, 0, "")
		p.SetDrawColor(48, 84, 150)
		p.Line(margin, p.GetY()+1, pageW-margin, p.GetY()+1)
		p.Ln(4)
		p.SetTextColor(0, 0, 0)
	})
	p.SetFooterFunc(func() {
		p.SetY(pageH - margin + 2)
		p.SetFont("body", "", 8)
		p.SetTextColor(120, 120, 120)
		p.CellFormat(0, 5, "idv · "+r.Title+" · "+l.trf("page %d of {nb}", p.PageNo()), "", 0, "R", false, 0, "")
	})
	p.AddPage()
	for _, t := range r.Tables {
		lay := layout(p, t, loc)
		// The heading keeps with its chart and the table's header and first rows.
		need := 7 + lay.headerH
		if t.Chart != nil && len(t.dataRows()) > 0 {
			need += chartH + 2
		}
		for _, h := range lay.heights[:min(3, len(lay.heights))] {
			need += h
		}
		if p.GetY()+need > bottom {
			p.AddPage()
		}
		p.SetFont("body", "", 11.5)
		p.SetTextColor(20, 40, 80)
		p.CellFormat(0, 7, t.Title, "", 1, "L", false, 0, "")
		p.SetTextColor(0, 0, 0)
		if t.Chart != nil && len(t.dataRows()) > 0 {
			top := p.GetY()
			drawChart(p, t, top, chartH)
			p.SetXY(margin, top+chartH+2)
		}
		drawTable(p, t, lay)
		if t.Note != "" {
			p.SetFont("body", "", 8)
			lines := wrap(p, t.Note, pageW-2*margin-2)
			if p.GetY()+float64(len(lines))*4+1 > bottom {
				p.AddPage()
			}
			p.SetTextColor(90, 90, 90)
			p.Ln(1)
			for _, line := range lines {
				p.CellFormat(0, 4, line, "", 1, "L", false, 0, "")
			}
			p.SetTextColor(0, 0, 0)
		}
		p.Ln(5)
	}
	if err := p.Error(); err != nil {
		return err
	}
	return p.Output(w)
}

func num(v any) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	case int:
		return float64(v)
	}
	return 0
}

// drawChart draws grouped or stacked bars with an axis, gridlines and a legend.
func drawChart(p *fpdf.Fpdf, t Table, top, height float64) {
	rows := t.dataRows()
	left, width := margin+14, pageW-2*margin-14-50
	maxV := 0.0
	for _, row := range rows {
		sum := 0.0
		for _, s := range t.Chart.Series {
			if t.Chart.Stacked {
				sum += num(row[s])
			} else {
				maxV = math.Max(maxV, num(row[s]))
			}
		}
		maxV = math.Max(maxV, sum)
	}
	if maxV == 0 {
		maxV = 1
	}
	step := niceStep(maxV / 4)
	maxV = math.Ceil(maxV/step) * step
	bottom := top + height - 8
	plotH := height - 12
	p.SetFont("body", "", 7)
	p.SetDrawColor(220, 220, 220)
	for v := 0.0; v <= maxV+step/2; v += step {
		y := bottom - v/maxV*plotH
		p.Line(left, y, left+width, y)
		p.SetXY(margin, y-2)
		p.CellFormat(13, 4, trimNum(v), "", 0, "R", false, 0, "")
	}
	group := width / float64(len(rows))
	barW := group * 0.75
	if !t.Chart.Stacked {
		barW /= float64(len(t.Chart.Series))
	}
	labelEvery := int(math.Ceil(float64(len(rows)) / 32))
	for i, row := range rows {
		x := left + float64(i)*group + group*0.125
		base := bottom
		for si, s := range t.Chart.Series {
			h := num(row[s]) / maxV * plotH
			c := palette[si%len(palette)]
			p.SetFillColor(c[0], c[1], c[2])
			if t.Chart.Stacked {
				p.Rect(x, base-h, barW, h, "F")
				base -= h
			} else {
				p.Rect(x+float64(si)*barW, bottom-h, barW, h, "F")
			}
		}
		if i%labelEvery == 0 {
			label := fmt.Sprint(row[0])
			if len(label) == 10 && label[4] == '-' { // a date: month-day is enough
				label = label[5:]
			}
			p.SetXY(left+float64(i)*group, bottom+0.5)
			p.CellFormat(group*float64(labelEvery), 4, label, "", 0, "C", false, 0, "")
		}
	}
	p.SetDrawColor(120, 120, 120)
	p.Line(left, bottom, left+width, bottom)
	lx, ly := left+width+6, top+2
	p.SetFont("body", "", 8)
	p.SetXY(lx, ly)
	p.CellFormat(44, 5, t.Chart.Title, "", 2, "L", false, 0, "")
	for si, s := range t.Chart.Series {
		c := palette[si%len(palette)]
		p.SetFillColor(c[0], c[1], c[2])
		y := ly + 6 + float64(si)*5
		p.Rect(lx, y+1, 3, 3, "F")
		p.SetXY(lx+4, y)
		p.CellFormat(40, 5, t.Columns[s].Name, "", 0, "L", false, 0, "")
	}
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag {
			return math.Max(m*mag, 1)
		}
	}
	return 10 * mag
}

func trimNum(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// tableLayout is a table fitted to the page: the columns shown, their widths, and each
// row's cells cut into lines.
type tableLayout struct {
	keep    []int     // the columns shown side by side
	below   []int     // the columns shown under them (Column.Below)
	widths  []float64 // by column
	cells   [][][]string
	heights []float64 // by row
	headerH float64
}

// layout fits the table to the page. Numbers, times, the first column (the row's key:
// an interaction id, a line) and every column that fits keep their whole width; when the
// table is too wide, the widest text columns narrow and their text wraps onto more lines.
// Nothing is cut. Columns empty on every row, and DataOnly columns, take no room.
func layout(p *fpdf.Fpdf, t Table, loc *time.Location) tableLayout {
	p.SetFont("body", "", 7.5)
	lay := tableLayout{widths: make([]float64, len(t.Columns)), headerH: rowH + 1}
	text := make([][]string, len(t.Rows))
	for ci, c := range t.Columns {
		lay.widths[ci] = p.GetStringWidth(c.Name) + 3
	}
	for ri, row := range t.Rows {
		text[ri] = make([]string, len(row))
		for ci, v := range row {
			s := cellText(v, t.Columns[ci].Kind, loc, PDF)
			text[ri][ci] = s
			if ri < 500 {
				lay.widths[ci] = math.Max(lay.widths[ci], math.Min(p.GetStringWidth(s)+3, 120))
			}
		}
	}
	for ci, c := range t.Columns {
		if c.DataOnly {
			continue
		}
		if c.Below {
			lay.below = append(lay.below, ci)
			continue
		}
		for ri := range text {
			if text[ri][ci] != "" {
				lay.keep = append(lay.keep, ci)
				break
			}
		}
		if len(text) == 0 {
			lay.keep = append(lay.keep, ci)
		}
	}
	avail := pageW - 2*margin
	total := 0.0
	for _, ci := range lay.keep {
		total += lay.widths[ci]
	}
	// floor is how narrow a column may get: wrapping text columns down to their header
	// (16 mm at least), others not at all.
	floor := func(ci int) float64 {
		if ci == 0 || t.Columns[ci].Kind != Text {
			return lay.widths[ci]
		}
		return math.Min(lay.widths[ci], math.Max(p.GetStringWidth(t.Columns[ci].Name)+3, 16))
	}
	for total > avail {
		wi, best := -1, 0.0
		for _, ci := range lay.keep {
			if lay.widths[ci] > floor(ci)+0.01 && lay.widths[ci] > best {
				wi, best = ci, lay.widths[ci]
			}
		}
		if wi < 0 { // everything at its floor: all narrow alike (text then wraps)
			for _, ci := range lay.keep {
				lay.widths[ci] *= avail / total
			}
			break
		}
		cut := math.Min(total-avail, math.Min(best-floor(wi), best*0.15+0.5))
		lay.widths[wi] -= cut
		total -= cut
	}
	if len(lay.keep) > 0 && total < avail*0.6 {
		for _, ci := range lay.keep {
			lay.widths[ci] *= avail * 0.6 / total
		}
	}
	for _, ci := range lay.keep {
		if n := len(wrap(p, t.Columns[ci].Name, lay.widths[ci]-1.5)); n > 1 {
			lay.headerH = max(lay.headerH, rowH+1+float64(n-1)*lineH)
		}
	}
	lay.cells = make([][][]string, len(text))
	lay.heights = make([]float64, len(text))
	for ri, row := range text {
		lay.cells[ri] = make([][]string, len(row))
		n := 1
		for _, ci := range lay.keep {
			lay.cells[ri][ci] = wrap(p, row[ci], lay.widths[ci]-1.5)
			n = max(n, len(lay.cells[ri][ci]))
		}
		for _, ci := range lay.below {
			if row[ci] != "" {
				lay.cells[ri][ci] = wrap(p, t.Columns[ci].Name+": "+row[ci], avail-belowIndent-1.5)
				n += len(lay.cells[ri][ci])
			}
		}
		lay.heights[ri] = rowH + float64(n-1)*lineH
	}
	return lay
}

// belowIndent is how far the lines of Below columns are indented under their row.
const belowIndent = 8.0

// drawTable draws the table as laid out, the header row repeated on each new page; a
// row that does not fit starts the next page.
func drawTable(p *fpdf.Fpdf, t Table, lay tableLayout) {
	cell := func(x, y, w, h float64, lines []string, align string, fill bool, border string) {
		p.SetXY(x, y)
		p.CellFormat(w, h, "", border, 0, "", fill, 0, "")
		for i, line := range lines {
			p.SetXY(x, y+float64(i)*lineH)
			p.CellFormat(w, rowH, line, "", 0, align, false, 0, "")
		}
	}
	header := func() {
		p.SetFont("body", "", 7.5)
		p.SetTextColor(255, 255, 255)
		x, y := margin, p.GetY()
		for _, ci := range lay.keep {
			if t.Columns[ci].Apart { // counted apart from the columns that add up
				p.SetFillColor(110, 110, 110)
			} else {
				p.SetFillColor(48, 84, 150)
			}
			cell(x, y, lay.widths[ci], lay.headerH, wrap(p, t.Columns[ci].Name, lay.widths[ci]-1.5), "C", true, "")
			x += lay.widths[ci]
		}
		p.SetXY(margin, y+lay.headerH)
		p.SetTextColor(0, 0, 0)
	}
	header()
	for ri, row := range lay.cells {
		h := lay.heights[ri]
		if p.GetY()+h > bottom {
			p.AddPage()
			header()
		}
		fill := ri%2 == 1
		p.SetFillColor(238, 242, 248)
		border := ""
		if t.TotalRow && ri == len(lay.cells)-1 {
			border = "T"
		}
		x, y := margin, p.GetY()
		n := 1 // lines of the cells side by side
		for _, ci := range lay.keep {
			n = max(n, len(row[ci]))
		}
		top := rowH + float64(n-1)*lineH
		for _, ci := range lay.keep {
			align := "L"
			if k := t.Columns[ci].Kind; k != Text && k != DateTime {
				align = "R"
			}
			cell(x, y, lay.widths[ci], top, row[ci], align, fill, border)
			x += lay.widths[ci]
		}
		if h > top {
			p.SetTextColor(90, 90, 90)
			cell(margin, y+top, x-margin, h-top, nil, "L", fill, "")
			var lines []string
			for _, ci := range lay.below {
				lines = append(lines, row[ci]...)
			}
			cell(margin+belowIndent, y+top-lineH/2, x-margin-belowIndent, 0, lines, "L", false, "")
			p.SetTextColor(0, 0, 0)
		}
		p.SetXY(margin, y+h)
	}
}

// wrap cuts s into lines no wider than width: at spaces, between Japanese characters,
// and inside a word only when the word alone is wider.
func wrap(p *fpdf.Fpdf, s string, width float64) []string {
	if s == "" {
		return nil
	}
	if p.GetStringWidth(s) <= width {
		return []string{s}
	}
	var lines []string
	var line strings.Builder
	lw := 0.0
	flush := func() {
		if t := strings.TrimRight(line.String(), " "); t != "" {
			lines = append(lines, t)
		}
		line.Reset()
		lw = 0
	}
	for _, tok := range tokens(s) {
		tw := p.GetStringWidth(tok)
		if lw+tw > width && lw > 0 {
			flush()
			tok = strings.TrimLeft(tok, " ")
			tw = p.GetStringWidth(tok)
		}
		if tw > width { // a word wider than the column: break it where it must
			for _, r := range tok {
				rw := p.GetStringWidth(string(r))
				if lw+rw > width && lw > 0 {
					flush()
				}
				line.WriteRune(r)
				lw += rw
			}
			continue
		}
		line.WriteString(tok)
		lw += tw
	}
	flush()
	return lines
}

// tokens splits s into the pieces a line may break after: words with the spaces or the
// comma that follow them (a route's "queue:support,,,,300"), and each CJK character
// alone — but a closing bracket or mark stays with the character before it, as Japanese
// typesetting never starts a line with one.
func tokens(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		switch {
		case strings.ContainsRune("）」』】〕、。，．", r) && start == i && len(out) > 0:
			out[len(out)-1] += string(r)
			start = i + utf8.RuneLen(r)
		case r >= 0x2E80: // CJK and full-width forms: a break may come on either side
			if start < i {
				out = append(out, s[start:i])
			}
			out = append(out, string(r))
			start = i + utf8.RuneLen(r)
		case r == ' ' || r == ',':
			out = append(out, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
