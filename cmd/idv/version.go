package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// buildVersion is set at link time: -ldflags "-X main.buildVersion=v1.2.3".
var buildVersion string

// version is the release (buildVersion, else the module version), or "dev".
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// versionReport is "idv version": the version, the module, the source revision and its
// time from the build info (go build stamps them in a git checkout), and the Go release.
func versionReport() string {
	var b strings.Builder
	fmt.Fprintf(&b, "idv %s\n", version())
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b.String() + "no build information (a binary built without module support)\n"
	}
	fmt.Fprintf(&b, "module   %s %s\n", bi.Main.Path, bi.Main.Version)
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	if rev := set["vcs.revision"]; rev != "" {
		state := "clean"
		if set["vcs.modified"] == "true" {
			state = "with uncommitted changes"
		}
		fmt.Fprintf(&b, "revision %s (%s, committed %s)\n", rev, state, set["vcs.time"])
	} else {
		b.WriteString("revision unknown (built outside a git checkout, or by go run, or with -buildvcs=false)\n")
	}
	fmt.Fprintf(&b, "go       %s %s/%s\n", bi.GoVersion, set["GOOS"], set["GOARCH"])
	return b.String()
}
