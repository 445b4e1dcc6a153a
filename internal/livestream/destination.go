package livestream

import (
	"context"
	"errors"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// DestinationLister is a broadcaster whose account can publish in more
// than one place (Facebook: the profile and the Pages the user manages).
type DestinationLister interface {
	Destinations(ctx context.Context, token string) ([]platform.Destination, error)
}

// profileDestination names the account's own profile, as a target's
// destination may.
const profileDestination = "me"

// maxDestination bounds a destination id (a Facebook Page id is about 15
// digits).
const maxDestination = 64

func (s *Service) lister(p platform.ID) (DestinationLister, bool) {
	l, ok := s.cfg.Broadcasters[p].(DestinationLister)
	return l, ok
}

// checkDestination reads a target's destination: "" for the profile
// (absent or "me"), the id otherwise, for a platform that has
// destinations.
func (s *Service) checkDestination(d platform.Descriptor, dest string) (string, error) {
	dest = strings.TrimSpace(dest)
	if dest == "" || dest == profileDestination {
		return "", nil
	}
	if _, ok := s.lister(d.ID); !ok {
		return "", unprocessable(apperr.CodeDestinationNotSupported, "%s publishes to the connected account only: a target's destination is for Facebook Pages", d.Name)
	}
	if len(dest) > maxDestination || strings.ContainsAny(dest, "/?#% \t\r\n") {
		return "", invalid(apperr.CodeInvalidDestination, "the %s destination must be an id from GET /connections/%s/destinations, or me", d.Name, d.ID)
	}
	return dest, nil
}

// checkManaged asks each platform whose target names a destination
// whether the connected account can publish there, so that a Page the
// user does not manage is refused before anything is stored.
func (s *Service) checkManaged(ctx context.Context, targets []Target, creds map[platform.ID]connection.Credentials) error {
	for _, t := range targets {
		if t.Destination == "" {
			continue
		}
		l, _ := s.lister(t.Platform)
		c := creds[t.Platform]
		ds, err := l.Destinations(ctx, c.Bearer())
		if err != nil {
			return platform.ToAppError(platform.Redact(err, c.Bearer()))
		}
		if !hasDestination(ds, t.Destination) {
			d, _ := registry.Lookup(string(t.Platform))
			e := apperr.Errorf(apperr.Unprocessable, apperr.CodeUnknownDestination,
				"the connected %s account cannot publish to %q: it is not a Page the account manages (GET /connections/%s/destinations lists where it can)",
				d.Name, t.Destination, t.Platform)
			e.Fields = map[string]any{"platform": string(t.Platform), "destination": t.Destination}
			return e
		}
	}
	return nil
}

func hasDestination(ds []platform.Destination, id string) bool {
	for _, d := range ds {
		if d.ID == id {
			return true
		}
	}
	return false
}

// Destinations lists where the tenant's connected account at platform p
// can publish (for Facebook: the profile, id "me", and each Page the user
// manages). A platform without destinations, or one the tenant never
// connected, is NotFound; an expired connection is a conflict.
func (s *Service) Destinations(ctx context.Context, tenant, p string) (_ []platform.Destination, err error) {
	defer func() { err = apperr.WithOp("livestream.Destinations", err) }()
	d, ok := registry.Lookup(p)
	if !ok {
		return nil, platform.Unknown(apperr.NotFound, p)
	}
	l, ok := s.lister(d.ID)
	if !ok {
		return nil, apperr.Errorf(apperr.NotFound, apperr.CodeDestinationsNotSupported, "%s publishes to the connected account only: it has no destinations to choose", d.Name)
	}
	c, err := s.cfg.Tokens.Token(ctx, tenant, d.ID)
	if errors.Is(err, connection.ErrNotConnected) {
		return nil, apperr.Errorf(apperr.NotFound, apperr.CodeConnectionNotFound, "%s is not connected", d.Name)
	}
	if err != nil {
		return nil, err
	}
	ds, err := l.Destinations(ctx, c.Bearer())
	if err != nil {
		s.reportExpired(ctx, tenant, d.ID, err)
		return nil, platform.ToAppError(platform.Redact(err, c.Bearer()))
	}
	return ds, nil
}

// defaultDestinations gives a target that names no destination the one
// chosen for its connection on the connect page (the connection's default,
// connection.ExtraTeam), where its platform has destinations; a target
// that names "me" keeps the profile. checkManaged then checks the default
// as it checks a named one.
func (s *Service) defaultDestinations(targets []Target, in []TargetInput, creds map[platform.ID]connection.Credentials) {
	explicit := map[platform.ID]bool{}
	for _, ti := range in {
		if strings.TrimSpace(ti.Destination) != "" {
			explicit[platform.ID(ti.Platform)] = true
		}
	}
	for i, t := range targets {
		if _, ok := s.lister(t.Platform); !ok || t.Destination != "" || explicit[t.Platform] {
			continue
		}
		if def := creds[t.Platform].Extra[connection.ExtraTeam]; def != "" && def != profileDestination {
			targets[i].Destination = def
		}
	}
}
