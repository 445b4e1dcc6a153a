package connection

import (
	"context"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// View reads one connection for an answer: as Get, but without its sealed
// credentials, which no answer shows (issue 16: read only what you answer).
func (s *Service) View(ctx context.Context, tenant, platformID string) (_ *Connection, err error) {
	defer func() { err = apperr.WithOp("connection.View", err) }()
	d, err := lookup(platformID)
	if err != nil {
		return nil, err
	}
	c, err := s.cfg.Repo.View(ctx, tenant, d.ID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.Errorf(apperr.NotFound, apperr.CodeConnectionNotFound, "%s has never been connected", d.Name)
	}
	return c, err
}
