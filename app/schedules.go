package app

import (
	"net"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/idv-project/idv/config"
	"github.com/idv-project/idv/report"
	"github.com/idv-project/idv/store"
)

// scheduler builds the report scheduler of the configuration; nil when it has no
// schedules.
func scheduler(cfg *config.Config, st *store.Store, instance string, log zerolog.Logger) (*report.Scheduler, error) {
	if len(cfg.Report.Schedules) == 0 {
		return nil, nil
	}
	s := &report.Scheduler{Source: st, Runs: st, Owner: instance,
		Location: cfg.Report.Location(), Render: report.Options{Font: cfg.Report.Font}, Log: log,
		MaxCatchUp: 31, Started: time.Now()}
	smtp := cfg.Report.SMTP
	for _, sc := range cfg.Report.Schedules {
		when, err := config.CronParser.Parse(sc.Cron)
		if err != nil {
			return nil, err
		}
		def, err := report.Find(sc.Report)
		if err != nil {
			return nil, err
		}
		rs := &report.Schedule{Name: sc.Name, When: when, Report: def, Range: sc.Range,
			Filter: report.Filter{Lines: sc.Lines, Queues: sc.Queues, Statuses: sc.Statuses}}
		for _, f := range sc.Formats {
			format, err := report.ParseFormat(f)
			if err != nil {
				return nil, err
			}
			rs.Formats = append(rs.Formats, format)
		}
		if sc.Directory != "" {
			rs.Delivery = append(rs.Delivery, report.Directory{Path: sc.Directory})
		}
		if len(sc.Email) > 0 {
			rs.Delivery = append(rs.Delivery, report.Mail{Addr: net.JoinHostPort(smtp.Host, strconv.Itoa(smtp.Port)),
				User: smtp.User, Password: smtp.Password, From: smtp.From, To: sc.Email, StartTLS: smtp.StartTLS})
		}
		if sc.Webhook != "" {
			rs.Delivery = append(rs.Delivery, report.Webhook{URL: sc.Webhook})
		}
		s.Schedules = append(s.Schedules, rs)
	}
	return s, nil
}
