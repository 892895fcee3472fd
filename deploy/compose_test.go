package deploy

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/idv-project/idv/config"
)

// TestComposeFile parses docker-compose.yml with the compose specification's own library
// (no Docker engine here) and checks it against the repository: build contexts and mounted
// paths exist, and the ports idv, the demo CRM and the dialplan use agree.
func TestComposeFile(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"},
		cli.WithWorkingDirectory(".."), cli.WithProfiles([]string{"postgres", "scale"}), cli.WithName("idv"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"asterisk", "idv", "democrm", "postgres", "idv-a", "idv-b"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
	repo, _ := filepath.Abs("..")
	for _, s := range p.Services {
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("service %s builds from %s/%s: %v", s.Name, s.Build.Context, s.Build.Dockerfile, err)
			}
		} else if s.Image == "" || !strings.Contains(s.Image, ":") {
			t.Errorf("service %s: pin an image tag, got %q", s.Name, s.Image)
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if !strings.HasPrefix(v.Source, repo) {
				t.Errorf("service %s mounts %s from outside the repository", s.Name, v.Source)
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("service %s mounts %s: %v", s.Name, v.Source, err)
			}
		}
	}

	// idv runs the compose config; it must be valid and agree with the dialplan and the CRM.
	idv, _ := p.GetService("idv")
	cfgPath := ""
	for i, a := range idv.Command {
		if a == "-config" && i+1 < len(idv.Command) {
			cfgPath = idv.Command[i+1]
		}
	}
	var hostCfg string
	for _, v := range idv.Volumes {
		if v.Target == cfgPath {
			hostCfg = v.Source
		}
	}
	if hostCfg == "" {
		t.Fatalf("idv's -config %q is not mounted", cfgPath)
	}
	cfg, err := config.Load(hostCfg)
	if err != nil {
		t.Fatal(err)
	}
	ext := confText(t, "asterisk/extensions.conf")
	m := regexp.MustCompile(`(?m)^IDV=(\S+)`).FindStringSubmatch(ext)
	if m == nil || m[1] != cfg.AGI.Listen {
		t.Errorf("extensions.conf IDV=%v, idv listens on %s", m, cfg.AGI.Listen)
	}
	for _, line := range regexp.MustCompile(`line=(\w+)`).FindAllStringSubmatch(confText(t, "asterisk/extensions_idv.conf"), -1) {
		if cfg.Lines.ByName[line[1]] == nil {
			t.Errorf("the dialplan uses line %s, which idv's compose config lacks", line[1])
		}
	}
	crm, _ := p.GetService("democrm")
	u, _ := url.Parse(cfg.CRM.BaseURL)
	if !slices.Contains(crm.Command, u.Host) || cfg.DemoCRM.Enabled {
		t.Errorf("democrm runs %q; idv calls %s (in-process demo CRM: %v)", crm.Command, cfg.CRM.BaseURL, cfg.DemoCRM.Enabled)
	}
	if cfg.Sounds.Dir != "/usr/share/idv/sounds" || !strings.Contains(confText(t, "../Dockerfile"), "/usr/share/idv/sounds/en") {
		t.Errorf("idv checks prompts in %s; the Dockerfile must copy them there", cfg.Sounds.Dir)
	}
	// Everything on the host's network: the ports must not collide.
	ports := map[string]string{"idv agi": cfg.AGI.Listen, "democrm": u.Host, "asterisk ari": "127.0.0.1:8088", "idv web": cfg.Web.Listen}

	// The scale profile: A and B on the postgres service, at the dialplan's IDV_A and IDV_B.
	pg, _ := p.GetService("postgres")
	for _, name := range []string{"idv-a", "idv-b"} {
		svc, _ := p.GetService(name)
		var file string
		for _, v := range svc.Volumes {
			if v.Target == "/etc/idv/config.toml" {
				file = v.Source
			}
		}
		c, err := config.Load(file)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := regexp.MustCompile(`(?m)^IDV_` + strings.ToUpper(name[4:]) + `=(\S+)`).FindStringSubmatch(ext)
		if want == nil || want[1] != c.AGI.Listen {
			t.Errorf("%s listens on %s; the dialplan's IDV_%s is %v", name, c.AGI.Listen, strings.ToUpper(name[4:]), want)
		}
		dsn, _ := url.Parse(c.Store.DSN)
		pw, _ := dsn.User.Password()
		if c.Store.Driver != "postgres" || dsn.Port() != *pg.Environment["PGPORT"] || pw != *pg.Environment["POSTGRES_PASSWORD"] ||
			dsn.User.Username() != *pg.Environment["POSTGRES_USER"] {
			t.Errorf("%s's store %s %s does not match the postgres service", name, c.Store.Driver, c.Store.DSN)
		}
		if !slices.Contains(svc.Profiles, "scale") || !slices.Contains(pg.Profiles, "scale") {
			t.Errorf("%s and postgres must be in the scale profile", name)
		}
		ports[name+" agi"], ports[name+" web"] = c.AGI.Listen, c.Web.Listen
	}
	seen := map[string]string{}
	for who, hp := range ports {
		_, port, _ := net.SplitHostPort(hp)
		if other, dup := seen[port]; dup {
			t.Errorf("%s and %s both use port %s", who, other, port)
		}
		seen[port] = who
	}
	for _, s := range p.Services {
		if s.NetworkMode != "host" {
			t.Errorf("service %s is not on the host network the dialplan and config assume", s.Name)
		}
	}
}
