package livestream

import (
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// Note says plainly what a target's platform does not do through its
// public API, for callers to tell their users; "" when nothing needs
// saying. Each platform's registration carries its own.
func Note(p platform.ID) string { return registry.Note(p) }
