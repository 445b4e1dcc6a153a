// Package servicetest holds what the capability services' test harnesses
// share. Each harness (connection, deploy, livestream, meeting, make dev,
// the end-to-end stack) builds its own service from real parts; what is
// the same in all of them lives here once.
package servicetest

import (
	"bytes"
	"sync"
)

// Logs is a log sink a service's goroutines may write to at once, read
// back whole by the test (to find a secret that must not be there, or a
// line that must).
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
