package app

import (
	"context"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
)

// meetingRoutes wires the meeting service into the meetings function.
// (The meetings capability is being built.)
func (d *Deps) meetingRoutes(ctx context.Context, svc *httpapi.Services) error {
	return nil
}
