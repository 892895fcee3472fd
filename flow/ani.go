package flow

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// withheldCallerIDs are the values Asterisk and carriers put in the caller number when
// there is none to show.
var withheldCallerIDs = map[string]bool{
	"": true, "anonymous": true, "unknown": true, "restricted": true, "private": true,
	"withheld": true, "unavailable": true, "blocked": true,
}

// presRestricted and presUnavailable are the presentation bits Asterisk reports in
// agi_callingpres (AST_PRES_RESTRICTED, AST_PRES_UNAVAILABLE).
const (
	presMask        = 0x60
	presRestricted  = 0x20
	presUnavailable = 0x40
)

// ANIWithheld says whether a caller number, with its presentation, is one we must not
// use to identify the caller.
func ANIWithheld(ani string, presentation int) bool {
	if withheldCallerIDs[strings.ToLower(strings.TrimSpace(ani))] {
		return true
	}
	p := presentation & presMask
	return p == presRestricted || p == presUnavailable
}

// NormalizeANI returns the E.164 form of a calling number, read in region when it has
// no country code, or "" when it is not a valid number.
func NormalizeANI(ani, region string) string {
	ani = strings.TrimSpace(ani)
	if ani == "" || len(ani) > 32 {
		return ""
	}
	num, err := phonenumbers.Parse(ani, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return ""
	}
	return phonenumbers.Format(num, phonenumbers.E164)
}
