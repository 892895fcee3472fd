package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

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
	rowH         = 5.5
)

// renderPDF writes an A4 landscape PDF: title, filters and generation time on every page,
// charts as vector graphics, tables that break across pages with their header repeated,
// page numbers.
func renderPDF(w io.Writer, r *Report, opt Options) error {
	font, err := FindFont(opt.Font)
	if err != nil {
		return err
	}
	ttf, err := os.ReadFile(font)
	if err != nil {
		return fmt.Errorf("report font: %w", err)
	}
	loc := r.Filter.loc()
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
		p.CellFormat(0, 5, r.Filter.Describe()+"   ·   generated "+r.Generated.In(loc).Format("2006-01-02 15:04 MST"), "", 1, "L", false, 0, "")
		p.SetDrawColor(48, 84, 150)
		p.Line(margin, p.GetY()+1, pageW-margin, p.GetY()+1)
		p.Ln(4)
		p.SetTextColor(0, 0, 0)
	})
	p.SetFooterFunc(func() {
		p.SetY(pageH - margin + 2)
		p.SetFont("body", "", 8)
		p.SetTextColor(120, 120, 120)
		p.CellFormat(0, 5, fmt.Sprintf("idv · %s · page %d of {nb}", r.Name, p.PageNo()), "", 0, "R", false, 0, "")
	})
	p.AddPage()
	for _, t := range r.Tables {
		if p.GetY() > pageH-margin-40 {
			p.AddPage()
		}
		p.SetFont("body", "", 11.5)
		p.SetTextColor(20, 40, 80)
		p.CellFormat(0, 7, t.Title, "", 1, "L", false, 0, "")
		p.SetTextColor(0, 0, 0)
		if t.Chart != nil && len(chartRows(t)) > 0 {
			if p.GetY() > pageH-margin-75 {
				p.AddPage()
			}
			top := p.GetY()
			drawChart(p, t, top, 62)
			p.SetXY(margin, top+64)
		}
		drawTable(p, t, loc)
		if t.Note != "" {
			p.SetFont("body", "", 8)
			p.SetTextColor(90, 90, 90)
			p.MultiCell(0, 4, t.Note, "", "L", false)
			p.SetTextColor(0, 0, 0)
		}
		p.Ln(5)
	}
	if err := p.Error(); err != nil {
		return err
	}
	return p.Output(w)
}

func chartRows(t Table) [][]any {
	rows := t.Rows
	if len(rows) > 1 && rows[len(rows)-1][0] == "Total" {
		rows = rows[:len(rows)-1]
	}
	return rows
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
	rows := chartRows(t)
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

// drawTable draws the table with column widths fitted to the page, text cut to fit, and
// the header row repeated on each new page.
func drawTable(p *fpdf.Fpdf, t Table, loc *time.Location) {
	p.SetFont("body", "", 7.5)
	cells := make([][]string, len(t.Rows))
	widths := make([]float64, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = p.GetStringWidth(c.Name) + 3
	}
	for ri, row := range t.Rows {
		cells[ri] = make([]string, len(row))
		for ci, v := range row {
			s := cellText(v, t.Columns[ci].Kind, loc)
			cells[ri][ci] = s
			if ri < 500 {
				widths[ci] = math.Max(widths[ci], math.Min(p.GetStringWidth(s)+3, 120))
			}
		}
	}
	// Columns empty on every row take no room on paper.
	var keep []int
	for ci := range t.Columns {
		for _, row := range cells {
			if row[ci] != "" {
				keep = append(keep, ci)
				break
			}
		}
	}
	if len(cells) == 0 {
		keep = keep[:0]
		for ci := range t.Columns {
			keep = append(keep, ci)
		}
	}
	avail := pageW - 2*margin
	total := 0.0
	for _, ci := range keep {
		total += widths[ci]
	}
	// Too wide: narrow the widest columns, none below its floor (its natural width up to
	// 26 mm); then, if still too wide, all of them alike.
	for total > avail {
		wi, best := -1, 0.0
		for _, ci := range keep {
			floor := math.Min(widths[ci], 26)
			if floor < 26 {
				continue
			}
			if widths[ci] > best {
				wi, best = ci, widths[ci]
			}
		}
		if wi < 0 || best <= 26 {
			for _, ci := range keep {
				widths[ci] *= avail / total
			}
			break
		}
		cut := math.Min(total-avail, math.Max(best-26, 0.5))
		cut = math.Min(cut, best*0.15+0.5)
		widths[wi] -= cut
		total -= cut
	}
	if len(keep) > 0 && total < avail*0.6 {
		for _, ci := range keep {
			widths[ci] *= avail * 0.6 / total
		}
	}
	header := func() {
		p.SetFont("body", "", 7.5)
		p.SetFillColor(48, 84, 150)
		p.SetTextColor(255, 255, 255)
		for _, ci := range keep {
			p.CellFormat(widths[ci], rowH+1, fit(p, t.Columns[ci].Name, widths[ci]), "", 0, "C", true, 0, "")
		}
		p.Ln(-1)
		p.SetTextColor(0, 0, 0)
	}
	header()
	for ri, row := range cells {
		if p.GetY()+rowH > pageH-margin-4 {
			p.AddPage()
			header()
		}
		fill := ri%2 == 1
		p.SetFillColor(238, 242, 248)
		total := len(row) > 0 && row[0] == "Total"
		for _, ci := range keep {
			s := row[ci]
			align := "L"
			if t.Columns[ci].Kind != Text && t.Columns[ci].Kind != DateTime {
				align = "R"
			}
			border := ""
			if total {
				border = "T"
			}
			p.CellFormat(widths[ci], rowH, fit(p, s, widths[ci]), border, 0, align, fill, 0, "")
		}
		p.Ln(-1)
	}
}

// fit cuts s to the width, with an ellipsis.
func fit(p *fpdf.Fpdf, s string, width float64) string {
	if p.GetStringWidth(s) <= width-1.5 {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && p.GetStringWidth(string(r)+"…") > width-1.5 {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
