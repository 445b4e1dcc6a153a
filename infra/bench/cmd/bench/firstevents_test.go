package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
)

// Every function is cold-started with a sample event; a function added
// without one stopped `make bench` at its cold starts ("read events: is a
// directory"), so a new function must name its first event here.
func TestEveryFunctionHasAFirstEventThatReads(t *testing.T) {
	t.Parallel()
	eventsDir := filepath.Join("..", "..", "..", "..", "events")
	for _, fn := range append(app.Functions(), hello, helloSDK) {
		name, ok := firstEvents[fn]
		if !ok {
			t.Errorf("%s has no first event in firstEvents", fn)
			continue
		}
		if _, err := os.Stat(filepath.Join(eventsDir, name)); err != nil {
			t.Errorf("%s's first event: %v", fn, err)
			continue
		}
		if _, err := readFirstEvent(eventsDir, fn, time.Now()); err != nil {
			t.Errorf("%s's first event %s does not read: %v", fn, name, err)
		}
	}
}
