package contract

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/discovery"
)

// Discovery checks requests against a Google discovery document with the
// discovery package (method, path and query parameters, body fields
// through the request schema, fields required for the method), and that a
// bearer token was sent.
type Discovery struct {
	Doc      *discovery.Doc
	LoadTime time.Duration
}

// Check validates one request a fake received; its path must be the
// vendor's own (under the document's base path: /v2/ for Meet,
// /calendar/v3/ for Calendar).
func (d *Discovery) Check(r Request) error {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return errors.New("no bearer token")
	}
	return d.Doc.Check(r.Method, r.URL, r.Body)
}

type loaded struct {
	once sync.Once
	d    *Discovery
	err  error
}

var meetDoc, calendarDoc loaded

func (l *loaded) load(name string) (*Discovery, error) {
	l.once.Do(func() {
		start := time.Now()
		p, err := discovery.SpecPath(name)
		if err != nil {
			l.err = err
			return
		}
		doc, err := discovery.Load(p)
		if err != nil {
			l.err = err
			return
		}
		l.d = &Discovery{Doc: doc, LoadTime: time.Since(start)}
	})
	return l.d, l.err
}

// Meet is the Google Meet REST API v2 discovery document
// (meet-v2-discovery.json).
func Meet() (*Discovery, error) { return meetDoc.load("meet-v2-discovery.json") }

// Calendar is the Google Calendar API v3 discovery document
// (calendar-v3-discovery.json).
func Calendar() (*Discovery, error) { return calendarDoc.load("calendar-v3-discovery.json") }
