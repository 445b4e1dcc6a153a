package servicetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestLogsKeepEveryLineWrittenAtOnce(t *testing.T) {
	t.Parallel()
	var l Logs
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { fmt.Fprintf(&l, "line %02d\n", i) })
	}
	wg.Wait()
	out := l.String()
	for i := range 50 {
		if !strings.Contains(out, fmt.Sprintf("line %02d\n", i)) {
			t.Errorf("line %02d is missing from %q", i, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 50 {
		t.Errorf("%d lines, want 50", n)
	}
}
