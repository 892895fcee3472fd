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
	lang, err := report.ParseLang(cfg.Report.Language)
	if err != nil {
		return nil, err
	}
	s := &report.Scheduler{Source: st, Runs: st, Owner: instance, Location: cfg.Report.Location(),
		Render: report.Options{Font: cfg.Report.Font}, Lang: lang, Known: ReportKnown(cfg), Log: log,
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

// ReportKnown is what the configuration names that a report filter may name: the
// lines, the queues of their routes and their prompts' languages, the agents of the web
// users, the wrap-up codes. Values found in the records are known besides.
func ReportKnown(cfg *config.Config) report.Known {
	k := report.KnownLines(cfg.Lines)
	k.WrapUps = cfg.Web.WrapUpCodes
	for _, u := range cfg.Web.Users {
		if u.Agent != "" {
			k.Agents = append(k.Agents, u.Agent)
		}
	}
	return k
}
