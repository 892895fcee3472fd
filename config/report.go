package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/idv-project/idv/report"
)

// CronParser reads schedule.cron: five fields (minute hour day-of-month month weekday),
// or a descriptor such as "@daily"; CRON_TZ=Asia/Tokyo may lead.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Report is historical reporting: rendering and schedules.
type Report struct {
	Timezone string `toml:"timezone"`
	// Language is the language of scheduled reports: "en" (default) or "ja".
	Language  string     `toml:"language"`
	Font      string     `toml:"font"`
	SMTP      SMTP       `toml:"smtp"`
	Schedules []Schedule `toml:"schedule"`
}

// Location is report.timezone loaded (checked when the file was read); time.Local for a
// zone this machine does not have.
func (r Report) Location() *time.Location {
	loc, err := time.LoadLocation(r.Timezone)
	if err != nil {
		return time.Local
	}
	return loc
}

// SMTP is the mail server scheduled reports are sent through.
type SMTP struct {
	Host     string `toml:"host"`
	Port     int    `toml:"port"`
	User     string `toml:"user"`
	Password string `toml:"password"`
	From     string `toml:"from"`
	// StartTLS: "required" (default), "opportunistic" or "none".
	StartTLS string `toml:"starttls"`
}

// Schedule runs a report at cron times and delivers it.
type Schedule struct {
	Name      string   `toml:"name"`
	Cron      string   `toml:"cron"`
	Report    string   `toml:"report"`
	Range     string   `toml:"range"`
	Formats   []string `toml:"formats"`
	Lines     []string `toml:"lines"`
	Queues    []string `toml:"queues"`
	Statuses  []string `toml:"statuses"`
	Directory string   `toml:"directory"`
	Email     []string `toml:"email"`
	Webhook   string   `toml:"webhook"`
}

func (c *Config) checkReport() error {
	loc, err := time.LoadLocation(c.Report.Timezone)
	if err != nil {
		return c.fail("report.timezone", "%q is not a time zone such as \"Asia/Tokyo\" or \"Local\"", c.Report.Timezone)
	}
	if !slices.Contains([]string{"en", "ja"}, c.Report.Language) {
		return c.fail("report.language", "%q is not en or ja", c.Report.Language)
	}
	if !slices.Contains([]string{"required", "opportunistic", "none"}, c.Report.SMTP.StartTLS) {
		return c.fail("report.smtp.starttls", "%q is not required, opportunistic or none", c.Report.SMTP.StartTLS)
	}
	names := map[string]bool{}
	for i, s := range c.Report.Schedules {
		key := func(k string) string { return fmt.Sprintf("report.schedule[%d].%s", i, k) }
		if !validName(s.Name) || names[s.Name] {
			return c.fail(key("name"), "%q must be a unique name of letters, digits, - and _", s.Name)
		}
		names[s.Name] = true
		if _, err := CronParser.Parse(s.Cron); err != nil {
			return c.fail(key("cron"), "%q: %v", s.Cron, err)
		}
		if _, err := report.Find(s.Report); err != nil {
			return c.fail(key("report"), "%v", err)
		}
		if _, _, err := report.Range(s.Range, time.Now(), loc); err != nil {
			return c.fail(key("range"), "%v", err)
		}
		if len(s.Formats) == 0 {
			return c.fail(key("formats"), "list at least one of csv, xlsx, pdf")
		}
		for _, f := range s.Formats {
			if _, err := report.ParseFormat(f); err != nil {
				return c.fail(key("formats"), "%v", err)
			}
		}
		if s.Directory == "" && len(s.Email) == 0 && s.Webhook == "" {
			return c.fail(key("directory"), "the schedule delivers nowhere: set directory, email or webhook")
		}
		for _, to := range s.Email {
			if !strings.Contains(to, "@") {
				return c.fail(key("email"), "%q is not an e-mail address", to)
			}
		}
		if len(s.Email) > 0 && (c.Report.SMTP.Host == "" || c.Report.SMTP.From == "") {
			return c.fail("report.smtp.host", "schedule %q sends e-mail: set report.smtp host and from", s.Name)
		}
		if s.Webhook != "" {
			if u, err := url.Parse(s.Webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				return c.fail(key("webhook"), "%q is not an http(s) URL", s.Webhook)
			}
		}
	}
	return nil
}
