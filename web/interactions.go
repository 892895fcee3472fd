package web

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
)

// PageSize is the interactions view's default page; MaxPageSize the largest a request
// may ask; MaxExport the most rows an export holds.
const (
	PageSize    = 50
	MaxPageSize = 500
	MaxExport   = 5000
)

// interactionQuery reads the interactions view's filter: the period (from, to or range,
// as reports take it), line, queue, agent, status, wrapup, reason, method (each
// comma-separated or repeated) and q, the search text.
func (s *Server) interactionQuery(q url.Values) (store.Query, report.Filter, error) {
	f, err := report.ParseFilter(q, s.now(), s.Location)
	if err != nil {
		return store.Query{}, f, err
	}
	list := func(k string) []string {
		var out []string
		for _, v := range q[k] {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	text := strings.TrimSpace(q.Get("q"))
	if len(text) > 100 {
		return store.Query{}, f, errors.New("q: the search text is longer than 100 characters")
	}
	return store.Query{From: f.From, To: f.To, Lines: f.Lines, Statuses: f.Statuses, Agents: f.Agents, Queues: f.Queues,
		WrapUps: f.WrapUps, Reasons: list("reason"), Methods: list("method"), Text: text}, f, nil
}

// listInteractions is GET /api/interactions: with ani= or customer=, the caller's latest
// verified interaction (contextLookup); else one page (page=1…, size= up to MaxPageSize)
// of the interactions matching the filter, newest first, with the total count.
func (s *Server) listInteractions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("ani") || q.Has("customer") {
		s.contextLookup(w, r)
		return
	}
	if u := userOf(r); u != nil && u.Role == Integration {
		http.Error(w, "your role (integration) may only look a caller up: ?customer= or ?ani=", http.StatusForbidden)
		return
	}
	sq, f, err := s.interactionQuery(q)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	size, page := PageSize, 1
	if v := q.Get("size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > MaxPageSize {
			httpError(w, http.StatusBadRequest, fmt.Errorf("size %q: give 1 to %d", v, MaxPageSize))
			return
		}
	}
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			httpError(w, http.StatusBadRequest, fmt.Errorf("page %q: give 1 or more", v))
			return
		}
	}
	sq.Limit, sq.Offset = size, (page-1)*size
	res, err := s.Lister.Search(r.Context(), sq)
	if err != nil {
		s.Log.Error().Err(err).Msg("listing interactions")
		httpError(w, http.StatusInternalServerError, errors.New("could not list interactions; see idv's log"))
		return
	}
	if !s.audited(w, r, store.AuditList, "", describe(f, sq)) {
		return
	}
	writeJSON(w, res)
}

// describe is the filter as the audit trail keeps it.
func describe(f report.Filter, q store.Query) string {
	d := f.Describe()
	for _, x := range []struct {
		k    string
		vals []string
	}{{"reason", q.Reasons}, {"method", q.Methods}} {
		if len(x.vals) > 0 {
			d += " " + x.k + "=" + strings.Join(x.vals, ",")
		}
	}
	if q.Text != "" {
		d += " q=" + strconv.Quote(q.Text)
	}
	return d
}

// exportColumns are the export's columns, in English and Japanese. The wrap-up note is
// not one: notes stay in the interaction's detail.
var exportColumns = map[string][]string{
	"en": {"Interaction", "Started", "Line", "Status", "Reason", "Method", "Identified by", "Customer ID", "Customer name",
		"Calling number", "Route", "Queue result", "Agent", "Wait (s)", "Duration (s)", "Wrap-up", "In progress"},
	"ja": {"通話ID", "開始", "回線", "確認結果", "理由", "方法", "特定手段", "顧客ID", "氏名",
		"発信者番号", "転送先", "キュー結果", "エージェント", "待ち時間(秒)", "通話時間(秒)", "後処理", "通話中"},
}

// exportInteractions is GET /api/interactions/export?format=csv|xlsx&lang=en|ja and the
// list's filter: every matching interaction (MaxExport at most), newest first.
func (s *Server) exportInteractions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sq, f, err := s.interactionQuery(q)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "xlsx" {
		httpError(w, http.StatusBadRequest, fmt.Errorf("format %q: csv or xlsx", format))
		return
	}
	lang := q.Get("lang")
	if lang == "" {
		lang = "en"
	}
	cols, ok := exportColumns[lang]
	if !ok {
		httpError(w, http.StatusBadRequest, fmt.Errorf("lang %q: en or ja", lang))
		return
	}
	sq.Limit = MaxExport
	res, err := s.Lister.Search(r.Context(), sq)
	if err != nil {
		s.Log.Error().Err(err).Msg("exporting interactions")
		httpError(w, http.StatusInternalServerError, errors.New("could not export interactions; see idv's log"))
		return
	}
	if res.Total > len(res.Rows) {
		httpError(w, http.StatusBadRequest, fmt.Errorf("%d interactions match; an export holds %d at most: narrow the filter", res.Total, MaxExport))
		return
	}
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	rows := make([][]any, 0, len(res.Rows))
	for _, x := range res.Rows {
		var wait any = ""
		if x.WaitMS != nil {
			wait = float64(*x.WaitMS) / 1000
		}
		var dur any = ""
		if !x.InProgress {
			dur = float64(x.DurationMS) / 1000
		}
		rows = append(rows, []any{x.ID, x.Started.In(loc).Format("2006-01-02 15:04:05"), x.Line, x.Status, x.Reason, x.Method,
			x.IDType, x.CustomerID, x.CustomerName, x.ANI, x.Route, x.QueueResult, x.Agent, wait, dur, x.WrapUp, x.InProgress})
	}
	var buf bytes.Buffer
	if format == "csv" {
		buf.WriteString(report.CSVPreamble(report.Lang(lang)))
		cw := csv.NewWriter(&buf)
		cw.Write(cols)
		for _, row := range rows {
			rec := make([]string, len(row))
			for i, v := range row {
				if str, ok := v.(string); ok {
					rec[i] = report.SafeText(str) // a name such as =HYPERLINK(…) stays text
				} else {
					rec[i] = fmt.Sprint(v)
				}
			}
			cw.Write(rec)
		}
		cw.Flush()
	} else if err := writeXLSX(&buf, cols, rows); err != nil {
		s.Log.Error().Err(err).Msg("exporting interactions")
		httpError(w, http.StatusInternalServerError, errors.New("the XLSX could not be written; see idv's log"))
		return
	}
	if !s.audited(w, r, store.AuditReport, "interactions", format+" "+describe(f, sq)) {
		return
	}
	name := fmt.Sprintf("interactions_%s_%s.%s", f.From.In(loc).Format("2006-01-02"), f.To.Add(-time.Millisecond).In(loc).Format("2006-01-02"), format)
	ct := "text/csv; charset=utf-8"
	if format == "xlsx" {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Write(buf.Bytes())
}

// writeXLSX writes one sheet: a bold, frozen header row and typed cells.
func writeXLSX(buf *bytes.Buffer, cols []string, rows [][]any) error {
	x := excelize.NewFile()
	defer x.Close()
	sheet := x.GetSheetName(0)
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = c
	}
	if err := x.SetSheetRow(sheet, "A1", &header); err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(len(cols))
	x.SetCellStyle(sheet, "A1", last+"1", bold)
	for i, row := range rows {
		if err := x.SetSheetRow(sheet, "A"+strconv.Itoa(i+2), &row); err != nil {
			return err
		}
	}
	x.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	x.SetColWidth(sheet, "A", "A", 30)
	x.SetColWidth(sheet, "B", last, 16)
	_, err = x.WriteTo(buf)
	return err
}
