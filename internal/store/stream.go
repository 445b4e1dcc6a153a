package store

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/event"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/meeting"
)

// DeploymentRef names one deployment of one tenant.
type DeploymentRef struct{ Tenant, ID string }

// DeploymentFromStream reads the deployment a stream record names: a new
// deployment item, or a resume ticket the sweep wrote (both carry its
// tenant and id). ok is false for a record that names none.
func DeploymentFromStream(rec events.DynamoDBEventRecord) (DeploymentRef, bool) {
	img := rec.Change.NewImage
	ref := DeploymentRef{Tenant: streamString(img, "tenant"), ID: streamString(img, "id")}
	return ref, ref.Tenant != "" && ref.ID != ""
}

func streamString(img map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}

// ChangeFromStream reads the change a stream record reports, for the
// events it makes (internal/event): the item before and after, as the
// domain values of its kind. ok is false for an item that makes no events
// (a log line, a file piece, a resume ticket, a kept answer, ...).
func ChangeFromStream(rec events.DynamoDBEventRecord) (event.Change, bool) {
	sk := streamString(rec.Change.Keys, AttrSK)
	var decode func(Item) any
	for _, k := range eventItems {
		if strings.HasPrefix(sk, k.prefix) {
			decode = k.decode
			break
		}
	}
	if decode == nil {
		return event.Change{}, false
	}
	c := event.Change{ID: rec.EventID, At: rec.Change.ApproximateCreationDateTime.UTC()}
	for _, img := range []struct {
		from map[string]events.DynamoDBAttributeValue
		to   *any
	}{{rec.Change.OldImage, &c.Old}, {rec.Change.NewImage, &c.New}} {
		if len(img.from) == 0 {
			continue
		}
		it := fromStreamImage(img.from)
		if c.Tenant == "" {
			c.Tenant = GetS(it, "tenant")
		}
		*img.to = decode(it)
	}
	if c.Tenant == "" || c.ID == "" || (c.Old == nil && c.New == nil) {
		return event.Change{}, false
	}
	// The record's time to the second, then its sequence number, padded to
	// the 40 characters it has at most (StreamRecord API reference:
	// ApproximateCreationDateTime is "rounded down to the closest second";
	// SequenceNumber "Maximum length of 40"). AWS orders a stream's records
	// per item ("the stream records appear in the same sequence as the
	// actual modifications to the item", Developer Guide, DynamoDB
	// Streams); a tenant's items share one partition key, so its records
	// are taken to be numbered in the order they were written.
	seq := rec.Change.SequenceNumber
	if len(seq) < 40 {
		seq = strings.Repeat("0", 40-len(seq)) + seq
	}
	c.Order = c.At.Format("20060102T150405Z") + "#" + seq
	return c, true
}

// fromStreamImage turns an image in Lambda's event form back into an item.
func fromStreamImage(img map[string]events.DynamoDBAttributeValue) Item {
	out := make(Item, len(img))
	for k, v := range img {
		out[k] = fromStreamValue(v)
	}
	return out
}

func fromStreamValue(v events.DynamoDBAttributeValue) types.AttributeValue {
	switch v.DataType() {
	case events.DataTypeString:
		return S(v.String())
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}
	case events.DataTypeBinary:
		return B(v.Binary())
	case events.DataTypeBoolean:
		return Bool(v.Boolean())
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}
	case events.DataTypeList:
		l := make([]types.AttributeValue, len(v.List()))
		for i, e := range v.List() {
			l[i] = fromStreamValue(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case events.DataTypeMap:
		return &types.AttributeValueMemberM{Value: fromStreamImage(v.Map())}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}

// decodeEvent reads an event kept in the feed.
func decodeEvent(payload string) (event.Event, error) {
	var e event.Event
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		return event.Event{}, apperr.Wrap(apperr.Internal, apperr.CodeStorageError, "", fmt.Errorf("store: a kept event does not decode: %w", err))
	}
	return e, nil
}

// EventItemPrefixes are the sort-key prefixes of the items whose changes
// make events (ChangeFromStream reads no others): template.yaml's filter of
// event-dispatcher's stream names the same (a test holds them equal).
func EventItemPrefixes() []string {
	out := make([]string, len(eventItems))
	for i, k := range eventItems {
		out[i] = k.prefix
	}
	return out
}

// eventItems are the items whose changes make events: their sort-key
// prefix and how an image of one is read.
var eventItems = []struct {
	prefix string
	decode func(Item) any
}{
	{connPrefix, func(it Item) any { return connFromItem(it) }},
	{livePrefix, func(it Item) any { return liveFromItem(it) }},
	{meetPrefix, func(it Item) any { return meetingFromItem(it) }},
	{deployPrefix, func(it Item) any { return deployFromItem(it) }},
	{webhookPrefix, func(it Item) any { return endpointFromItem(it) }},
	{liveSeriesPrefix, func(it Item) any { return seriesOrNil[livestream.CreateInput](it) }},
	{meetSeriesPrefix, func(it Item) any { return seriesOrNil[meeting.CreateInput](it) }},
}
