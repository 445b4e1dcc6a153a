// Package event tells the calling app what happened: every state change a
// caller cares about becomes an Event with a stable type and id, kept in the
// tenant's feed for 30 days (GET /events) and delivered to the tenant's
// webhook endpoints, signed by the Standard Webhooks specification.
//
// # Where events come from: the table's stream
//
// Events are derived from the DynamoDB table's stream (StreamViewType
// NEW_AND_OLD_IMAGES), never emitted by the code that writes. A stream
// record exists if and only if its write committed, so an event exists if
// and only if its state change was written: a write whose condition failed,
// or a transaction that was cancelled, leaves no record and so no event;
// no writer can forget one. The store decodes each record into a Change
// (the item before and after, as domain values); Derive compares the two
// with one pure function per item kind (derive.go) and yields the events.
// Adding a derived event type is one place: its constant and line in
// Types, and the lines of its deriver (the derivers table lists them).
// Changes a writer wants told that are not a status (a token about to
// expire) are written as an attribute of the item too (the refresher's
// expiry notice), so they also come from the stream.
//
// Some events need a read besides the change: when a connection is
// disconnected or expires, the tenant's scheduled livestreams with a target
// on its platform are read (Lookup) and each gets livestream.target_at_risk.
//
// # Exactly once in the feed
//
// An event's id is a hash of the stream record's eventID (the same on
// every delivery of the record), its type and its resource; its feed key
// orders a tenant's events by the record's time and sequence number (AWS
// orders records per item; all of a tenant's items share one partition
// key, whose records are taken to be in order: store.ChangeFromStream).
// The event and its deliveries (one per endpoint that wants its
// type) are written in one transaction, on the condition that the event is
// not there yet: a record delivered again (a retry, a bisected batch)
// writes nothing twice. Lambda retries a record whose events could not be
// written (partial batch responses), then sends it to the dead-letter
// queue.
//
// # Delivery
//
// A new delivery is tried once at once by the same invocation; a failure
// (a 5xx, 408, 409, 429, a timeout, no connection) is tried again from the
// due index by the scheduled half of event-dispatcher (every minute),
// with Svix's schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; ±10%
// jitter; at least the endpoint's Retry-After): about 27 hours. A 410, any
// other 4xx and a redirect are final. An endpoint whose deliveries have all
// failed for 3 days is disabled, which is itself an event
// (webhook.endpoint_disabled). Deliveries never block the writers: the
// stream decouples them, and a delivery's failure never fails a record.
//
// Each request carries webhook-id (the event id: the same on every retry,
// so receivers drop repeats), webhook-timestamp and webhook-signature,
// made by the specification's own Go library; during a secret rotation's
// overlap it carries a signature by each secret. Secrets are whsec_ and 32
// random bytes in base64, sealed by the vault, shown once.
//
// # Safety
//
// A URL must be https and resolve only to public addresses, at
// registration and again at every connection (the dialer's Control hook
// refuses a private, loopback, link-local, CGNAT or metadata address, so
// DNS rebinding does not help). Loopback is allowed only when configured
// (make dev). No redirect is followed, no proxy used, an attempt gives up
// after 5 s, and at most 64 KiB of an answer is read and nothing of it kept.
package event
