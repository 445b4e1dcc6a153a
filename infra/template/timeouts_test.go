package template_test

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/infra/cmd/dev/devenv"
	"github.com/switchboard-dev/switchboard/internal/app"
)

// make dev and make invoke give each function the timeout template.yaml
// gives it (devenv.Timeout's event-dispatcher had drifted to 120 s).
func TestTheLocalStacksTimeoutsAreTheTemplates(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	for _, name := range app.Functions() {
		f := d.function(t, name)
		want := time.Duration(num(t, name+" Timeout", d.effective(f, "Timeout"))) * time.Second
		if got := devenv.Timeout(name); got != want {
			t.Errorf("%s: devenv.Timeout %s, template.yaml %s", name, got, want)
		}
	}
}
