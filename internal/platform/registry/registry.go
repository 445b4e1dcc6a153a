// Package registry is the one list of platforms: every platform package's
// registration, in a stable order. Everything that iterates the platforms
// (the app's wiring, the catalog, the sandbox, the services' lookups) reads
// this list, so a platform is its package plus one line here.
package registry

import (
	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/render"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
)

// Registrations lists the eleven platforms in a stable order.
func Registrations() []platform.Registration {
	return []platform.Registration{
		youtube.Registration(),
		facebook.Registration(),
		instagram.Registration(),
		restream.Registration(),
		zoom.Registration(),
		googlemeet.Registration(),
		teams.Registration(),
		jitsi.Registration(),
		vercel.Registration(),
		railway.Registration(),
		render.Registration(),
	}
}

// All lists the platforms' descriptors in the order of Registrations.
func All() []platform.Descriptor {
	rs := Registrations()
	out := make([]platform.Descriptor, len(rs))
	for i, r := range rs {
		out[i] = r.Descriptor
	}
	return out
}

// OfKind lists the ids of the platforms of one kind, in the order of
// Registrations.
func OfKind(k platform.Kind) []platform.ID {
	var out []platform.ID
	for _, d := range All() {
		if d.Kind == k {
			out = append(out, d.ID)
		}
	}
	return out
}

// Registration finds a platform's registration by id.
func Registration(id string) (platform.Registration, bool) {
	for _, r := range Registrations() {
		if string(r.ID) == id {
			return r, true
		}
	}
	return platform.Registration{}, false
}

// Lookup finds a platform by id.
func Lookup(id string) (platform.Descriptor, bool) {
	r, ok := Registration(id)
	return r.Descriptor, ok
}

// DefaultOAuth is a platform's OAuth service, from the vendors' documents
// (see shared/specs/PLATFORMS.md). ok is false for platforms without OAuth.
func DefaultOAuth(id platform.ID) (platform.OAuth, bool) {
	r, ok := Registration(string(id))
	if !ok {
		return platform.OAuth{}, false
	}
	return r.DefaultOAuth()
}

// LoadEndpoints reads a platform's endpoints: its defaults overridden by
// its <PLATFORM>_* environment variables (platform.Registration.LoadEndpoints).
func LoadEndpoints(id platform.ID, getenv func(string) string) platform.Endpoints {
	r, _ := Registration(string(id))
	return r.LoadEndpoints(getenv)
}

// Siblings are the other platforms of the platform's grant group (none
// when it has no group).
func Siblings(id platform.ID) []platform.Descriptor {
	d, ok := Lookup(string(id))
	if !ok || d.GrantGroup == "" {
		return nil
	}
	var out []platform.Descriptor
	for _, o := range All() {
		if o.GrantGroup == d.GrantGroup && o.ID != id {
			out = append(out, o)
		}
	}
	return out
}

// Note says plainly what a livestream target's platform does not do
// through its public API, for callers to tell their users; "" when nothing
// needs saying.
func Note(id platform.ID) string {
	r, _ := Registration(string(id))
	return r.LivestreamNote
}

// NoLivestreamUpdateNote says why a change to a scheduled livestream does not reach
// the livestream platform id: its registration's words, or a generic
// sentence.
func NoLivestreamUpdateNote(id platform.ID) string {
	r, ok := Registration(string(id))
	if ok && r.NoLivestreamUpdateNote != "" {
		return r.NoLivestreamUpdateNote
	}
	name := string(id)
	if ok {
		name = r.Name
	}
	return name + " keeps the title, description and time it was told at creation: its API has no call that changes them."
}

// NewCatalog builds the catalog of every platform; configured says whether
// a platform can be connected here (nil: every platform can).
func NewCatalog(configured func(platform.Descriptor) bool) *platform.Catalog {
	return platform.NewCatalog(All(), configured)
}

// WrongKind is platform.WrongKind naming the platforms of the kind wanted.
func WrongKind(kind apperr.Kind, d platform.Descriptor, want platform.Kind) *apperr.Error {
	return platform.WrongKind(kind, d, want, All())
}
