// Package loadtest plays many Asterisk instances at once against a FastAGI server — idv,
// or the bare baseline server of this package — and measures what a load tester needs:
// calls per second, errors by kind, the server's time per AGI command and per whole flow
// as percentiles, and the server's memory per concurrent call.
//
// Each call is an agitest.Caller, so the wire is the one Asterisk speaks. Prompt
// playback, typing and queue time are simulated with configurable durations: zero for a
// throughput run, real values for a concurrency run.
//
// Run plays one load against one server; Drive is a whole `idv loadtest`, which starts
// idv serve, the demo CRM and the baseline server as processes of their own when asked,
// and compares the runs.
package loadtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/idv-project/idv/agi/agitest"
)

// Scenario is one kind of caller in the mix, with the outcome the demo CRM's data
// makes certain.
type Scenario struct {
	Name string
	// Weight is the scenario's share of the calls, relative to the others.
	Weight int
	// ANI is the calling number ("anonymous" for a withheld one), Keys what the caller
	// types (agitest.Caller's Keys).
	ANI, Keys string
	// Status is the IDV_STATUS the call must end with; "" expects a hang-up.
	Status string
}

// DefaultMix is the scenario mix of `idv loadtest` against the demo CRM: mostly callers
// found by number, some typing their customer number, some opting out, failing or
// hanging up.
var DefaultMix = []Scenario{
	{Name: "ani-verified", Weight: 35, ANI: "0312345678", Keys: "1234#", Status: "VERIFIED"},
	{Name: "ani-identified", Weight: 20, ANI: "+81312345679", Status: "IDENTIFIED"},
	{Name: "dtmf", Weight: 10, ANI: "anonymous", Keys: "100235#", Status: "IDENTIFIED"},
	{Name: "dtmf-verified", Weight: 10, ANI: "anonymous", Keys: "100238#4321#", Status: "VERIFIED"},
	{Name: "opt-out", Weight: 10, ANI: "anonymous", Keys: "*", Status: "UNIDENTIFIED"},
	{Name: "wrong-pin", Weight: 5, ANI: "+442079460000", Keys: "1111#2222#3333#", Status: "IDENTIFIED"},
	{Name: "not-found", Weight: 5, ANI: "anonymous", Keys: "999991#999992#999993#", Status: "UNIDENTIFIED"},
	{Name: "hangup", Weight: 5, ANI: "0312345678", Keys: "!"},
}

// ParseMix reads "name=weight,name=weight" over DefaultMix's scenarios; "" is DefaultMix.
func ParseMix(s string) ([]Scenario, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultMix, nil
	}
	var mix []Scenario
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		weight, err := strconv.Atoi(w)
		i := slices.IndexFunc(DefaultMix, func(sc Scenario) bool { return sc.Name == name })
		if !ok || err != nil || weight < 0 || i < 0 {
			return nil, fmt.Errorf("mix %q: want name=weight with a name among %s", part, strings.Join(Names(), ", "))
		}
		sc := DefaultMix[i]
		sc.Weight = weight
		mix = append(mix, sc)
	}
	if total(mix) == 0 {
		return nil, fmt.Errorf("mix %q: the weights add up to 0", s)
	}
	return mix, nil
}

// mixString writes a mix as ParseMix reads it.
func mixString(mix []Scenario) string {
	parts := make([]string, len(mix))
	for i, sc := range mix {
		parts[i] = fmt.Sprintf("%s=%d", sc.Name, sc.Weight)
	}
	return strings.Join(parts, ",")
}

// Names lists the scenarios ParseMix knows.
func Names() []string {
	names := make([]string, len(DefaultMix))
	for i, sc := range DefaultMix {
		names[i] = sc.Name
	}
	return names
}

func total(mix []Scenario) int {
	n := 0
	for _, sc := range mix {
		n += sc.Weight
	}
	return n
}

// pick is the scenario of the n-th call: the mix in proportion, interleaved the same way
// in every run so that two runs (idv and the baseline) play the same calls.
func pick(mix []Scenario, n int) Scenario {
	k := n % total(mix)
	// Spread each scenario over the cycle instead of playing it in one block.
	if t := total(mix); t%7919 != 0 {
		k = (k * 7919) % t
	}
	for _, sc := range mix {
		if k < sc.Weight {
			return sc
		}
		k -= sc.Weight
	}
	return mix[len(mix)-1]
}

// check says what is wrong with a call's outcome for its scenario, "" when nothing.
func (sc Scenario) check(res *agitest.Result) string {
	switch {
	case res.AGIStatus == "FAILURE":
		return "agi_failure"
	case sc.Status == "" && !res.HungUp:
		return "unexpected_outcome"
	case sc.Status != "" && res.Var("IDV_STATUS") != sc.Status:
		return "unexpected_outcome"
	}
	return ""
}
