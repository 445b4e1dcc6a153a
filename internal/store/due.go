package store

import (
	"context"
	"hash/fnv"
	"strconv"
	"strings"
)

// The due index (IndexDue) is sharded: an item due some day carries duepk
// <kind>#<shard>, shard = FNV-1a(its key) mod DueShards, where gsi1 had one
// gsi1pk per kind. Every write that moves an item in the index lands
// on its shard's partition, so the index's write rate of a kind is spread
// over DueShards partitions, each with its own 1,000 WCU a second (AWS
// DynamoDB Developer Guide, "Service, account, and table quotas":
// "Per partition: 3,000 RCU or 1,000 WCU"); a single DUE#CRED or DUE#LIVE
// partition took every refresh's and every go-live's index writes.
//
// Readers page through the shards in turn, then through the kind's
// unsharded partition of gsi1 (gsi1pk <kind> alone), where items written
// before the due index still sit until their next save moves them to their
// shard (a save writes duepk and drops gsi1pk): no data migration is
// needed, and a run with nothing due costs DueShards + 1 queries (each 0.5
// RCU when empty). Once no item carries gsi1pk DUE#CRED or DUE#LIVE any
// more, the last query can go.
const DueShards = 16

// dueShardPK is the sharded duepk of the item whose key is key.
func dueShardPK(kind, key string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return kind + "#" + strconv.Itoa(int(h.Sum32()%DueShards))
}

// DuePartition is one partition of an index that lists due work.
type DuePartition struct {
	Index, PK string
}

// DuePartitions lists the partitions a reader of kind pages through, in
// order: the due index's shards, then gsi1's unsharded partition of items
// written before it.
func DuePartitions(kind string) []DuePartition {
	out := make([]DuePartition, 0, DueShards+1)
	for i := range DueShards {
		out = append(out, DuePartition{IndexDue, kind + "#" + strconv.Itoa(i)})
	}
	return append(out, DuePartition{IndexGSI1, kind})
}

// queryDue reads up to limit due items of kind whose due sort key (duesk
// on the shards, gsi1sk on the legacy gsi1 partition) is at most skMax,
// across the shards, starting where cursor says. Its cursor is
// "<partition number>/<that partition's cursor>"; "" when every partition
// has been read. Only attrs are read (and the keys).
func (s *Store) queryDue(ctx context.Context, kind, skMax, cursor string, limit int, attrs []string) ([]Item, string, error) {
	parts := DuePartitions(kind)
	at, inner := 0, ""
	if cursor != "" {
		n, rest, ok := strings.Cut(cursor, "/")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 || i >= len(parts) {
			return nil, "", badCursor()
		}
		at, inner = i, rest
	}
	if limit <= 0 {
		limit = 50
	}
	var out []Item
	for ; at < len(parts); at, inner = at+1, "" {
		page, err := s.Query(ctx, Query{Index: parts[at].Index, PK: parts[at].PK, SKMax: skMax, Limit: limit - len(out), Cursor: inner, Attrs: attrs})
		if err != nil {
			return nil, "", err
		}
		out = append(out, page.Items...)
		if page.Cursor != "" {
			return out, strconv.Itoa(at) + "/" + page.Cursor, nil
		}
		if len(out) >= limit {
			if at+1 < len(parts) {
				return out, strconv.Itoa(at+1) + "/", nil
			}
			return out, "", nil
		}
	}
	return out, "", nil
}
