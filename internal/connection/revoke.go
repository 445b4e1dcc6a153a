package connection

import (
	"context"
	"slices"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// Revoked says how much of a connection's access a disconnect withdrew at
// the platform.
type Revoked string

const (
	RevokedFull    Revoked = "full"    // the platform revoked the grant (or token)
	RevokedPartial Revoked = "partial" // only the permissions this connection alone used
	RevokedSkipped Revoked = "skipped" // another connection still needs the grant: nothing was revoked
	RevokedNone    Revoked = "none"    // the platform offers no revocation for these credentials
	RevokedFailed  Revoked = "failed"  // the platform could not be told (recorded as lastError)
)

// Revocation is what a disconnect did at the platform. Switchboard's copy of
// the credentials is deleted whatever it says.
type Revocation struct {
	Platform    platform.ID
	Revoked     Revoked
	Permissions []string      // partial: the permissions withdrawn
	SharedWith  []platform.ID // skipped, partial: the connections that keep the grant
	Reason      string        // plain words for the user
}

// GrantRevoker withdraws a grant through the platform's client, in part or
// whole (Meta: the Facebook and Instagram clients, Graph's permissions edge).
type GrantRevoker interface {
	RevokeGrant(ctx context.Context, token string) error
	// RevokePermissions withdraws the named permissions and returns those
	// it withdrew (it may leave one that is never a single connection's).
	RevokePermissions(ctx context.Context, token string, permissions []string) ([]string, error)
}

// revokeOwned revokes at the platform what the connection alone holds. A
// vendor keeps one grant per user and OAuth client for a grant group
// (platform.Descriptor.GrantGroup): while a sibling connection of the
// tenant still needs that grant, the whole of it is never revoked; the
// permissions only this connection used are, where the platform can revoke
// one at a time, and otherwise nothing is.
func (s *Service) revokeOwned(ctx context.Context, d platform.Descriptor, c *Connection, creds Credentials) (Revocation, error) {
	r := Revocation{Platform: d.ID}
	if !s.canRevoke(d, creds) {
		r.Revoked = RevokedNone
		r.Reason = d.Name + " offers no call that revokes these credentials: Switchboard deleted its copy; remove the app or key in " + d.Name + "'s settings to end access there"
		return r, nil
	}
	siblings, err := s.grantSiblings(ctx, d, c)
	if err != nil {
		return r, err
	}
	if len(siblings) == 0 {
		r.Revoked, r.Reason = RevokedFull, d.Name+" revoked Switchboard's access"
		if gr, ok := s.cfg.Revokers[d.ID]; ok {
			return r, gr.RevokeGrant(ctx, creds.AccessToken)
		}
		return r, s.revoke(ctx, d, creds)
	}
	for _, sib := range siblings {
		r.SharedWith = append(r.SharedWith, sib.Platform)
	}
	gr, ok := s.cfg.Revokers[d.ID]
	if !ok {
		r.Revoked = RevokedSkipped
		r.Reason = "not revoked at " + d.GrantGroup.Vendor() + ": " + namesOf(siblings) + " uses the same grant, which a revoke would end for it too; Switchboard deleted " +
			d.Name + "'s credentials, and the grant is revoked when the last connection that uses it is disconnected"
		return r, nil
	}
	own := s.ownPermissions(d, c, siblings)
	done, err := gr.RevokePermissions(ctx, creds.AccessToken, own)
	r.Permissions = done
	switch {
	case err != nil:
		return r, err
	case len(done) == 0:
		r.Revoked = RevokedSkipped
		r.Reason = "not revoked at " + d.GrantGroup.Vendor() + ": every permission " + d.Name + " used is also used by " + namesOf(siblings) + ", which keeps the grant"
	default:
		r.Revoked = RevokedPartial
		r.Reason = "withdrew " + strings.Join(done, ", ") + ", which only " + d.Name + " used; the rest of the grant stays for " + namesOf(siblings)
	}
	return r, nil
}

// canRevoke: the platform has a way to revoke, and there is a token to do
// it with.
func (s *Service) canRevoke(d platform.Descriptor, creds Credentials) bool {
	if _, ok := s.cfg.Revokers[d.ID]; ok {
		return creds.AccessToken != ""
	}
	return s.cfg.Endpoints[d.ID].RevokeURL != "" && (creds.AccessToken != "" || creds.RefreshToken != "")
}

// grantSiblings are the tenant's other connections that hold the same
// vendor grant and still need it: a platform of the same grant group,
// through the same OAuth client, connected (or in error, which a later
// check may clear). Which vendor account each names cannot be compared
// (YouTube names a channel, Meet an OpenID subject; Instagram a professional
// account, Facebook a user), so one tenant's connections through one client
// are taken to be one user's grant: the safe side, since a skipped revoke
// leaves a grant the user can remove at the vendor, and a wrong one breaks
// a working connection.
func (s *Service) grantSiblings(ctx context.Context, d platform.Descriptor, c *Connection) ([]*Connection, error) {
	var out []*Connection
	for _, sib := range registry.Siblings(d.ID) {
		if !s.sameClient(d.ID, sib.ID) {
			continue
		}
		other, err := s.cfg.Repo.Get(ctx, c.Tenant, sib.ID)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(other.Sealed) > 0 && (other.Status == StatusConnected || other.Status == StatusError) {
			out = append(out, other)
		}
	}
	return out, nil
}

// sameClient: both platforms use one OAuth client, so the vendor keeps one
// grant for them.
func (s *Service) sameClient(a, b platform.ID) bool {
	ca, cb := s.cfg.Endpoints[a].ClientID, s.cfg.Endpoints[b].ClientID
	return ca != "" && ca == cb
}

// ownPermissions are the scopes the connection holds that no sibling uses.
func (s *Service) ownPermissions(d platform.Descriptor, c *Connection, siblings []*Connection) []string {
	var own []string
	for _, p := range s.scopesOf(d.ID, c) {
		shared := slices.ContainsFunc(siblings, func(o *Connection) bool { return slices.Contains(s.scopesOf(o.Platform, o), p) })
		if !shared && !slices.Contains(own, p) {
			own = append(own, p)
		}
	}
	return own
}

// scopesOf is what the connection was granted: the token answer's scopes,
// or the configured ones when the platform named none.
func (s *Service) scopesOf(p platform.ID, c *Connection) []string {
	if len(c.Scopes) > 0 {
		return c.Scopes
	}
	return s.cfg.Endpoints[p].Scopes
}

// failedRevocation is r after the platform could not be told.
func failedRevocation(r Revocation, err error) Revocation {
	r.Revoked = RevokedFailed
	r.Reason = "the platform could not be told to revoke access: " + messageOf(err)
	return r
}

func namesOf(cs []*Connection) string {
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		d, _ := registry.Lookup(string(c.Platform))
		names = append(names, d.Name)
	}
	return strings.Join(names, " and ")
}
