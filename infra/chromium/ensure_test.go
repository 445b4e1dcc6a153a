package chromium_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The install script runs with a PATH of stubs only, so the machine's own
// Chromium is hidden and nothing is installed: apt-get and sudo record how
// they were called, and apt-get's install puts a stub chromium on PATH (or
// fails, or installs nothing) as each case needs.

type machine struct {
	uid      string // what `id -u` says
	sudo     bool   // passwordless sudo is on PATH
	has      string // a browser already on PATH: chromium, chromium-browser or ""
	install  string // what apt-get install does: "ok", "fail", "nothing"
	ci       bool
	wantCode int
	wantRun  []string // the commands run, in order
	wantSay  string   // in the output
}

func TestEnsureInstallsDebiansChromiumOnlyWhenNoneIsOnPath(t *testing.T) {
	t.Parallel()
	update := "apt-get update DEBIAN_FRONTEND=noninteractive"
	install := "apt-get install -y --no-install-recommends chromium DEBIAN_FRONTEND=noninteractive"
	for name, m := range map[string]machine{
		"chromium on PATH":         {uid: "0", has: "chromium", wantSay: "chromium: "},
		"chromium-browser on PATH": {uid: "1000", has: "chromium-browser", wantSay: "chromium-browser"},
		"none, as root":            {uid: "0", install: "ok", wantRun: []string{update, install}, wantSay: "installing Debian's package"},
		"none, with passwordless sudo": {uid: "1000", sudo: true, install: "ok", wantRun: []string{"sudo -n true", "sudo -n DEBIAN_FRONTEND=noninteractive apt-get update", update,
			"sudo -n DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium", install}},
		"none, no way to install, locally":  {uid: "1000", wantSay: "the browser tests will be skipped"},
		"none, no way to install, under CI": {uid: "1000", ci: true, wantCode: 1, wantSay: "installing it needs root"},
		"apt-get fails":                     {uid: "0", install: "fail", wantCode: 100, wantRun: []string{update, install}},
		"apt-get installs no binary":        {uid: "0", install: "nothing", wantCode: 1, wantRun: []string{update, install}, wantSay: "no chromium chromium-browser is on PATH"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bin, calls := t.TempDir(), filepath.Join(t.TempDir(), "calls")
			stub := func(name, body string) {
				if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			stub("id", `echo `+m.uid)
			record := `echo "${0##*/} $* ${DEBIAN_FRONTEND:+DEBIAN_FRONTEND=$DEBIAN_FRONTEND}" >> ` + calls
			switch m.install {
			case "ok":
				stub("apt-get", record+"\n"+`if [ "$1" = install ]; then printf '#!/bin/sh\n' > `+bin+`/chromium; /bin/chmod +x `+bin+`/chromium; fi`)
			case "fail":
				stub("apt-get", record+"\n"+`[ "$1" = install ] && exit 100; exit 0`)
			default:
				stub("apt-get", record)
			}
			if m.sudo {
				stub("sudo", `echo "sudo $*" >> `+calls+`; shift; [ "$1" = true ] && exit 0; /usr/bin/env "$@"`)
			}
			if m.has != "" {
				stub(m.has, "")
			}
			cmd := exec.Command("/bin/bash", "ensure.sh")
			cmd.Env = []string{"PATH=" + bin}
			if m.ci {
				cmd.Env = append(cmd.Env, "CI=true")
			}
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != m.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, m.wantCode, out)
			}
			if !strings.Contains(string(out), m.wantSay) {
				t.Fatalf("the output does not say %q:\n%s", m.wantSay, out)
			}
			raw, _ := os.ReadFile(calls)
			ran := []string{}
			for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					ran = append(ran, l)
				}
			}
			if strings.Join(ran, "\n") != strings.Join(m.wantRun, "\n") {
				t.Fatalf("ran:\n%s\nwant:\n%s\noutput:\n%s", strings.Join(ran, "\n"), strings.Join(m.wantRun, "\n"), out)
			}
		})
	}
}
