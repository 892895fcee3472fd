package report

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// renderXLSX writes one sheet per table: typed cells with number formats, a frozen and
// styled header row, and a native Excel chart where the report has one.
func renderXLSX(w io.Writer, r *Report) error {
	x := excelize.NewFile()
	defer x.Close()
	loc := r.Filter.loc()
	header, _ := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"305496"}}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}})
	intStyle, _ := x.NewStyle(&excelize.Style{NumFmt: 3})                               // #,##0
	pctStyle, _ := x.NewStyle(&excelize.Style{NumFmt: 10})                              // 0.00%
	msStyle, _ := x.NewStyle(&excelize.Style{CustomNumFmt: ptr("#,##0.0")})             // milliseconds
	secStyle, _ := x.NewStyle(&excelize.Style{CustomNumFmt: ptr("[m]:ss")})             // a duration, in days as Excel counts
	dtStyle, _ := x.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")}) // local time
	titleStyle, _ := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 13}})
	for ti, t := range r.Tables {
		sheet := sheetName(ti, t.Title)
		if ti == 0 {
			x.SetSheetName("Sheet1", sheet)
		} else if _, err := x.NewSheet(sheet); err != nil {
			return err
		}
		x.SetCellValue(sheet, "A1", r.Title+" — "+t.Title)
		x.SetCellStyle(sheet, "A1", "A1", titleStyle)
		x.SetCellValue(sheet, "A2", r.Describe()+" · "+r.generated())
		const hdrRow = 4
		for ci, c := range t.Columns {
			cell, _ := excelize.CoordinatesToCellName(ci+1, hdrRow)
			x.SetCellValue(sheet, cell, c.header(XLSX, r.Lang))
			width := 14.0
			if c.Kind == Text && ci == len(t.Columns)-1 && len(t.Columns) > 10 { // the detail's timeline
				width = 80
			}
			col, _ := excelize.ColumnNumberToName(ci + 1)
			x.SetColWidth(sheet, col, col, width)
		}
		last, _ := excelize.CoordinatesToCellName(len(t.Columns), hdrRow)
		x.SetCellStyle(sheet, "A4", last, header)
		x.SetPanes(sheet, &excelize.Panes{Freeze: true, Split: false, XSplit: 1, YSplit: hdrRow, TopLeftCell: "B5", ActivePane: "bottomRight"})
		sw := make([]int, len(t.Columns))
		for ci, c := range t.Columns {
			switch c.Kind {
			case Int:
				sw[ci] = intStyle
			case Percent:
				sw[ci] = pctStyle
			case Millis:
				sw[ci] = msStyle
			case Seconds:
				sw[ci] = secStyle
			case DateTime:
				sw[ci] = dtStyle
			}
		}
		for ri, row := range t.Rows {
			for ci, v := range row {
				cell, _ := excelize.CoordinatesToCellName(ci+1, hdrRow+1+ri)
				if tm, ok := v.(time.Time); ok {
					// Excel has no time zones: write the wall-clock time of the report's zone.
					y, mo, d := tm.In(loc).Date()
					h, mi, s := tm.In(loc).Clock()
					v = time.Date(y, mo, d, h, mi, s, 0, time.UTC)
				}
				if v == nil {
					continue // nothing measured: an empty cell, not zero
				}
				if t.Columns[ci].Kind == Seconds {
					v = v.(float64) / 86400 // Excel counts durations in days
				}
				if err := x.SetCellValue(sheet, cell, v); err != nil {
					return err
				}
				if sw[ci] != 0 {
					x.SetCellStyle(sheet, cell, cell, sw[ci])
				}
			}
		}
		if t.Note != "" {
			cell, _ := excelize.CoordinatesToCellName(1, hdrRow+len(t.Rows)+2)
			x.SetCellValue(sheet, cell, t.Note)
		}
		if t.Chart != nil && len(t.Rows) > 0 {
			if err := addChart(x, sheet, t, hdrRow); err != nil {
				return err
			}
		}
	}
	return x.Write(w)
}

func addChart(x *excelize.File, sheet string, t Table, hdrRow int) error {
	first, lastRow := hdrRow+1, hdrRow+len(t.dataRows()) // the total row would dwarf the others
	if lastRow < first {
		return nil
	}
	var series []excelize.ChartSeries
	for _, ci := range t.Chart.Series {
		col, _ := excelize.ColumnNumberToName(ci + 1)
		series = append(series, excelize.ChartSeries{
			Name:       fmt.Sprintf("'%s'!$%s$%d", sheet, col, hdrRow),
			Categories: fmt.Sprintf("'%s'!$A$%d:$A$%d", sheet, first, lastRow),
			Values:     fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sheet, col, first, col, lastRow),
		})
	}
	typ := excelize.Col
	if t.Chart.Stacked {
		typ = excelize.ColStacked
	}
	anchor, _ := excelize.CoordinatesToCellName(len(t.Columns)+2, hdrRow)
	return x.AddChart(sheet, anchor, &excelize.Chart{Type: typ, Series: series,
		Title:  excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: t.Chart.Title}}},
		Legend: excelize.ChartLegend{Position: "bottom"}, Dimension: excelize.ChartDimension{Width: 640, Height: 360}})
}

func sheetName(i int, title string) string {
	name := fmt.Sprintf("%d %s", i+1, title)
	r := []rune(name)
	if len(r) > 31 {
		r = r[:31]
	}
	return string(r)
}

func ptr[T any](v T) *T { return &v }
