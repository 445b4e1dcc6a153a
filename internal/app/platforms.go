package app

import (
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// platformSet is every platform client a process needs, built once.
type platformSet struct {
	accounts  map[platform.ID]connection.AccountReader
	keys      map[platform.ID]connection.KeyVerifier
	longLived connection.LongLivedExchanger
}

// platformClients builds the platform clients over the configured
// endpoints.
func (d *Deps) platformClients(endpoints map[platform.ID]platform.Endpoints) platformSet {
	return platformSet{
		accounts: map[platform.ID]connection.AccountReader{},
		keys:     map[platform.ID]connection.KeyVerifier{},
	}
}
