// Package web is idv's HTTP server: the reports API (download of any report of the
// library in CSV, XLSX or PDF) and health checks. The dashboard and agent desktop build
// on it.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/report"
)

// Server serves idv's HTTP API.
type Server struct {
	Reports  *report.Source
	Location *time.Location
	Render   report.Options
	Log      zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Handler routes the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /api/reports", s.listReports)
	mux.HandleFunc("GET /api/reports/{name}", s.getReport)
	return mux
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) listReports(w http.ResponseWriter, r *http.Request) {
	type item struct {
		Name, Title, Description string
		Formats                  []report.Format
	}
	var out []item
	for _, d := range report.Library {
		out = append(out, item{d.Name, d.Title, d.Description, []report.Format{report.PDF, report.XLSX, report.CSV}})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// httpError answers with a plain-text reason.
func httpError(w http.ResponseWriter, code int, err error) {
	http.Error(w, err.Error(), code)
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	def, err := report.Find(r.PathValue("name"))
	if err != nil {
		httpError(w, http.StatusNotFound, err)
		return
	}
	q := r.URL.Query()
	format, err := report.ParseFormat(cmpOr(q.Get("format"), "pdf"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	f, err := report.ParseFilter(q, s.now(), s.Location)
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	start := time.Now()
	rep, err := def.Run(r.Context(), s.Reports, f, s.now())
	if err != nil {
		s.Log.Error().Err(err).Str("report", def.Name).Msg("report failed")
		httpError(w, http.StatusInternalServerError, errors.New("the report could not be built; see idv's log"))
		return
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, rep, format, s.Render); err != nil {
		s.Log.Error().Err(err).Str("report", def.Name).Str("format", string(format)).Msg("report rendering failed")
		httpError(w, http.StatusInternalServerError, fmt.Errorf("the %s could not be rendered: %v", format, err))
		return
	}
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rep.FileName(format)}))
	w.Write(buf.Bytes())
	s.Log.Info().Str("report", def.Name).Str("format", string(format)).Str("filter", f.Describe()).
		Dur("took", time.Since(start)).Int("bytes", buf.Len()).Msg("report downloaded")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
