package dialplan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/idv-project/idv/flow"
)

// Problem is one thing of a dialplan that would not work with a configuration.
type Problem struct {
	// Where is file:line in the dialplan, or the configuration key.
	Where string
	What  string
	// Warning is a problem that may be fine (a line made at run time).
	Warning bool
}

func (p Problem) String() string {
	if p.Warning {
		return p.Where + ": warning: " + p.What
	}
	return p.Where + ": " + p.What
}

// Check compares a dialplan with the configuration: every AGI call must name a script
// idv serves and a configured service line (a typo would send the caller to the
// dialplan's fallback), and every goto: route of a line must name a context the dialplan
// defines (Asterisk would hang the caller up). configFile names the configuration in
// the problems about its routes.
func (p *Plan) Check(lines flow.Lines, scripts []string, configFile string) []Problem {
	var out []Problem
	names := strings.Join(lines.Names(), ", ")
	for _, c := range p.Calls {
		switch {
		case c.Dynamic:
			out = append(out, Problem{c.Pos.String(), fmt.Sprintf("%s: the script or line is made at run time; not checked", c.Text), true})
		case !slices.Contains(scripts, c.Script):
			out = append(out, Problem{c.Pos.String(), fmt.Sprintf("%s: idv serves no script %q (scripts: %s)", c.Text, c.Script, strings.Join(scripts, ", ")), false})
		case c.Line != "" && lines.ByName[c.Line] == nil:
			out = append(out, Problem{c.Pos.String(), fmt.Sprintf("%s: service line %q is not configured (lines: %s); idv answers FAILURE", c.Text, c.Line, names), false})
		}
	}
	for _, name := range lines.Names() {
		r := lines.ByName[name].Routes
		for _, rt := range []struct {
			key   string
			route flow.Route
		}{{"verified", r.Verified}, {"identified", r.Identified}, {"unidentified", r.Unidentified},
			{"verify_failed", r.VerifyFailed}, {"opted_out", r.OptedOut}, {"error", r.Error}} {
			if rt.route.Kind != flow.RouteGoto || strings.Contains(rt.route.Context, "${") {
				continue
			}
			if _, ok := p.Contexts[rt.route.Context]; !ok {
				out = append(out, Problem{fmt.Sprintf("%s: lines.%s.routes.%s", configFile, name, rt.key),
					fmt.Sprintf("%q goes to context %q, which the dialplan does not define", rt.route.String(), rt.route.Context), false})
			}
		}
	}
	return out
}
