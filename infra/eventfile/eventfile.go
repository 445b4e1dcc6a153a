// Package eventfile reads the sample events of events/ the way make invoke,
// make bench and the fuzz targets use them: with the times in an HTTP
// event's body moved ahead of now, so a sample written with fixed dates
// never goes stale and refused as "in the past".
//
// The rule: every string in the request body that is an RFC 3339 time
// (scheduledStart, scheduledEnd, startTime, ...) moves by the same whole
// number of days, the fewest that put the earliest of them at least Lead
// after now. Durations and times of day stay as written; a body whose times
// are already far enough ahead is left as it is. Events without a JSON
// body (schedules, stream records) are returned unchanged.
package eventfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-dev/switchboard/internal/dynamolocal"
)

// Lead is how far ahead of now the earliest time of a body is put.
const Lead = 7 * 24 * time.Hour

const day = 24 * time.Hour

// Samples lists the sample events, events/*.json of the repository.
func Samples() ([]string, error) {
	root, err := dynamolocal.FindRepoRoot()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("eventfile: no events/*.json under %s", root)
	}
	return files, err
}

// Read reads an event file and refreshes it at now.
func Read(path string, now time.Time) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Refresh(raw, now)
}

// Refresh moves the times of raw's body ahead of now (see the package
// doc). raw that is not a JSON object with a JSON-object body comes back
// as it is.
func Refresh(raw []byte, now time.Time) ([]byte, error) {
	var ev map[string]any
	if json.Unmarshal(raw, &ev) != nil {
		return raw, nil
	}
	body, ok := ev["body"].(string)
	if !ok || body == "" {
		return raw, nil
	}
	if b, _ := ev["isBase64Encoded"].(bool); b {
		return raw, nil
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.UseNumber() // keep numbers exactly as written
	if dec.Decode(&doc) != nil {
		return raw, nil
	}
	var earliest time.Time
	walk(doc, func(t time.Time) time.Time {
		if earliest.IsZero() || t.Before(earliest) {
			earliest = t
		}
		return t
	})
	if earliest.IsZero() || !earliest.Before(now.Add(Lead)) {
		return raw, nil
	}
	shift := (now.Add(Lead).Sub(earliest) + day - 1) / day * day
	doc = walk(doc, func(t time.Time) time.Time { return t.Add(shift) })
	nb, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("eventfile: encoding the body: %w", err)
	}
	ev["body"] = string(nb)
	out, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("eventfile: encoding the event: %w", err)
	}
	return out, nil
}

// walk calls f on every RFC 3339 time string in v and puts back what f
// returns, in the time's own offset.
func walk(v any, f func(time.Time) time.Time) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = walk(e, f)
		}
	case []any:
		for i, e := range x {
			x[i] = walk(e, f)
		}
	case string:
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			return f(t).In(t.Location()).Format(time.RFC3339)
		}
	}
	return v
}
