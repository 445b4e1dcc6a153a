// Package livestream schedules one broadcast to several platforms at once
// (YouTube, Facebook, Instagram, Restream) and starts and ends it on time.
// It knows nothing of HTTP, Lambda or DynamoDB: the API calls the Service,
// the stream-scheduler calls RunDue, and a Repo (internal/store) keeps the
// livestreams.
//
// # Life cycle
//
// Create checks the request and that every target's platform is connected
// (either failing changes nothing), stores the livestream, and sets every
// target up at its platform at once: broadcast created, ingest URL kept,
// stream key sealed. At its scheduled start the scheduler makes each target
// live (GoLive, where the platform has a call for it); at its scheduled
// end, or on End, each live target is ended and the others are cancelled;
// Cancel ends the live targets and cancels the others at every platform.
// One platform failing never blocks or loses another: each target is set
// up, started, ended and recorded on its own.
//
// # Status rules
//
// A target is pending (recorded, not yet set up) → ready (set up) → live →
// ended, or cancelled (before it went live), or failed: lastError {code,
// message, at} carries the platform's reason as the code and its words as
// the message. A failed target whose failure retrying can help (a
// transient, rate-limit or quota failure; a go-live refused in the
// broadcast's current state, as YouTube refuses until the encoder pushes;
// a missing or expired connection, which the user may fix; a failure of
// ours) is tried again by the scheduler after 1, 2, 4 and 8 minutes (or the
// platform's Retry-After if longer): at most 5 attempts per step, recorded
// as attempts and nextAttemptAt. A used-up quota waits for its reset
// (YouTube's: midnight Pacific Time), even past the livestream's start. A
// 401 to a fresh token also marks the connection expired.
//
// For Instagram and Restream, whose APIs have no start or end call, live
// and ended mean that Switchboard has done its part: the platform is on
// air while the encoder pushes (Note says so on each such target).
//
// The livestream is scheduled until its start; live when at least one
// target is live; failed when every target failed (a later successful retry
// makes it live); ended after its end (failed if it never went live
// anywhere); cancelled after Cancel. Stored, it may also be starting or
// ending while a run holds it; callers see starting as scheduled (live
// once a target is live) and ending as live.
//
// At Create, a target its platform refuses for good is failed and the
// others go ahead; when every target is refused for good (Facebook's
// 7-day scheduling window for a Facebook-only livestream, say), nothing is
// kept and the answer is the refusal (422, or 409 when every connection
// turned out expired), with each target's reason.
//
// # Exactly once
//
// Every change is a conditional write of the livestream item. A run (the
// scheduler's, or an API request) first claims the livestream: one write
// that sets the new phase (starting, ending, cancelled, or the same status
// for retries) with a claim owner and a lease (2 minutes, longer than any
// function's timeout), on the condition that the version it read is still
// stored and no other claim is live. Of any number of concurrent runs,
// exactly one wins; the others do nothing. The winner works on each target
// whose state calls for it (a start skips targets already live),
// recording each set-up or cancellation at once with a write conditioned
// on its claim (a go-live or an end is recorded by the last write: it is
// harmless to repeat), then writes the settled status and next due time
// and gives the claim up. The scheduler claims a livestream it read ahead
// before its due second, with a lease from that second, so that only the
// platform calls are left for the second itself; meanwhile a change or
// cancellation through the API answers livestream_busy (try again in a
// moment). If a run dies, its claim runs out and the next run resumes:
// targets already done are not done again. (A run that dies between a
// platform's answer and the write of it makes its successor repeat that
// call: going live and ending are harmless to repeat at every platform; a
// repeated set-up leaves the first broadcast behind, since no platform
// here takes an idempotency key.)
//
// # Scheduling
//
// A livestream that has something due (its start, its end, a target's
// retry, or a claim's lease running out) is listed in the table's index of
// due work at the minute it is due; the scheduler, ticked every minute,
// queries the index for everything due up to its horizon (the next tick
// and 30 s more: consecutive runs overlap by 30 s, more than a tick is
// usually delivered late), reads those livestreams and fetches their tokens
// ahead, then waits for each one's second, soonest first, with bounded
// concurrency, and acts at it: each go-live or end request is sent at or
// after its time, never before, and within 5 s of it (BENCHMARKS.md, "On
// time", measures 1,000 due in the same second). A run takes no new
// livestream when acting on it would eat into the 10 seconds it keeps
// before its deadline. An entry leaves the index when nothing is due.
//
// The minute schedule was kept rather than one EventBridge Scheduler
// schedule per start and end: those would have to be created, moved and
// deleted with every create, change, cancel and retry (more calls, more
// IAM, more ways to be out of step with the table), and they would not be
// on time either: "All schedule types on EventBridge Scheduler invoke
// their targets with 60 second precision" (EventBridge Scheduler User
// Guide, Schedule types), so the invoked function would still have to
// wait for the second. One query a minute and a wait in the run keep the
// table the only schedule.
//
// # Platforms
//
// A change to a scheduled livestream (title, description, schedule) is
// saved under a claim of the request, followed by the scheduler, and taken
// to every target's platform that can take one (platform.Updater: YouTube's
// liveBroadcasts.update, Facebook's live video update) before the claim is
// given up. Each target records what became of it (PlatformUpdate):
// updated; partly updated, saying what the platform kept (Facebook keeps
// its planned start outside its 10-minute-to-7-day window); failed, with
// the platform's reason and words (never retried by the scheduler: the
// same change sent again tries again); not supported, saying so (Restream,
// Instagram: their APIs have no such call); or not set up yet (it is set
// up with the new details). A platform's failure never undoes the change.
// A metered platform is not sent a change its quota left today cannot pay
// for without eating into the day's go-lives. Stream keys, from the platform or supplied by the user
// (Instagram), are sealed with the vault, bound to tenant, platform,
// purpose stream_key and record <livestream id>/<platform>, and opened only
// to call the platform or to answer the ingest route.
package livestream
