package store

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// A tenant's kept ingest at a platform (YouTube's reusable stream) is
// stored as
//
//	pk TENANT#<tenant>  sk INGEST#<platform>  type ingest
//
// with its stream key sealed in streamKey (bound to tenant, platform,
// purpose stream_key and record ingest/<platform>). One per tenant and
// platform: the encoder's key for every livestream there.
const ingestPrefix = "INGEST#"

// Ingests gives the livestream service the kept ingests.
func (s *Store) Ingests() livestream.IngestRepo { return ingestRepo{s} }

type ingestRepo struct{ s *Store }

func ingestKey(tenant string, p platform.ID) (string, string) {
	return TenantPK(tenant), ingestPrefix + Esc(string(p))
}

func (r ingestRepo) GetIngest(ctx context.Context, tenant string, p platform.ID) (*livestream.KeptIngest, error) {
	pk, sk := ingestKey(tenant, p)
	it, err := r.s.Get(ctx, pk, sk)
	if err != nil {
		return nil, err
	}
	in := &livestream.KeptIngest{Tenant: tenant, Platform: p, ID: GetS(it, "id"), IngestURL: GetS(it, "ingestUrl"),
		CreatedAt: GetT(it, "createdAt")}
	if env, _, ok := GetSealed(it, "streamKey"); ok {
		in.SealedKey = env
	}
	if e, ok := it["extra"].(*types.AttributeValueMemberM); ok {
		in.Extra = map[string]string{}
		for k := range e.Value {
			in.Extra[k] = GetS(e.Value, k)
		}
	}
	return in, nil
}

func (r ingestRepo) CreateIngest(ctx context.Context, in *livestream.KeptIngest) error {
	pk, sk := ingestKey(in.Tenant, in.Platform)
	it := Item{AttrPK: S(pk), AttrSK: S(sk), "type": S("ingest"), "tenant": S(in.Tenant), "platform": S(string(in.Platform)),
		"id": S(in.ID), "ingestUrl": S(in.IngestURL), "createdAt": T(in.CreatedAt),
		"streamKey": Sealed(in.SealedKey, livestream.IngestKeyContext(in.Tenant, in.Platform))}
	if len(in.Extra) > 0 {
		extra := Item{}
		for k, v := range in.Extra {
			extra[k] = S(v)
		}
		it["extra"] = &types.AttributeValueMemberM{Value: extra}
	}
	return r.s.Put(ctx, it, NotExists())
}

func (r ingestRepo) DeleteIngest(ctx context.Context, tenant string, p platform.ID, id string) error {
	pk, sk := ingestKey(tenant, p)
	_, err := r.s.Delete(ctx, pk, sk, &Cond{Expr: "#id = :id", Names: map[string]string{"#id": "id"}, Values: Item{":id": S(id)}})
	if errors.Is(err, ErrConditionFailed) {
		return nil
	}
	return err
}
