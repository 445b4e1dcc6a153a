// Package deploy is the deployments capability: it accepts deployments of
// a generated project to a user's hosting account (Vercel, Railway,
// Render) under a per-user rate limit, runs them at the platform one
// resumable step at a time, keeps their build logs, and cancels and rolls
// them back. It knows nothing of Lambda or HTTP; internal/store keeps its
// data and the platform clients (platform.Deployer) do the talking.
//
// # Acceptance (Service.Create)
//
// A request is validated before anything is stored: a deploy platform,
// the platform's project-name rule, exactly one of files, source
// (repository and branch) and image, relative clean file paths (no
// absolute path, no "..", no backslash, no duplicate), at most 15,000
// files and MaxFileBytes of decoded content (the route's 5 MiB body
// limit), encodings utf-8 or base64, valid variable names, and the
// platform's own Validate: what the platform cannot do (files to Render;
// files to Railway unless RAILWAY_UNDOCUMENTED_UPLOAD is on; a GitLab
// repository or a database at Vercel) is 422 with the platform's words, a bad name or
// path 400, too much content 413. The platform must be connected (409).
//
// Then the rate limit: at most Limit deployments per user (tenant and
// user) in any sliding hour. The decision is one consistent read of the
// user's window and one TransactWriteItems that both updates the window,
// conditionally on the version read, and puts the deployment item,
// queued, conditionally on its absence. So acceptance and the hand-off
// are one atomic write: the deployment's INSERT on the table's stream is
// what starts the worker, and an accepted deployment cannot be lost
// between two writes. A version conflict (another request of the same
// user decided first) makes the decision again from a fresh read, a
// bounded number of times; under any concurrency exactly Limit are
// accepted. A caller past the limit is refused after the read alone,
// before anything is written, with Retry-After the time until the oldest
// counted acceptance leaves the window.
//
// Environment variables may be secrets: they are stored only sealed by the
// vault (purpose env_vars, bound to tenant, platform and deployment id)
// and never returned. Files are kept apart from the deployment's item,
// which must stay under DynamoDB's 400 KB: a tar.gz of them is cut into
// pieces of ChunkBytes, written before the deployment (a refused request
// leaves pieces that expire by TTL), with the archive's SHA-256 on the
// deployment so the worker reads back exactly what was accepted.
//
// # Keys
//
//	pk TENANT#<tenant>  sk DEPLOY#<id>               the deployment (type deployment); ids sort by time
//	pk TENANT#<tenant>  sk DEPLOYFILE#<id>#<n>       a piece of its files (ttl)
//	pk TENANT#<tenant>  sk DEPLOYLOG#<id>#<seq>      up to 200 of its log lines, in order
//	pk TENANT#<tenant>  sk DEPLOYKICK#<id>#<n>       a resume ticket from the sweep (type deployment, ttl)
//	pk TENANT#<tenant>  sk RATE#deployments#<user>   the user's window: accepted instants, version, ttl
//	pk TENANT#<tenant>  sk DEPLOYPROJECT#<platform>#<scope>#<name>  the project Switchboard made under the name
//	gsi1pk DUE#DEPLOY   gsi1sk <dueAt>#<tenant>#<id> a queued or building deployment, due when nothing moves it
//
// # The worker: steps and resumption
//
// The worker (deploy-worker, fed by the stream's INSERTs of type
// deployment) first claims a deployment with a conditional update: queued,
// or building under a lease that has run out, becomes building under its
// own lease (DEPLOY_LEASE_MS). A deployment that has ended, or is held by
// a live lease, is skipped: a stream record delivered again does not
// deploy twice. It then runs
//
//	EnsureProject -> ProvisionDatabase -> (DATABASE_URL into env) -> SetEnv -> Upload -> StartDeployment
//
// EnsureProject is given the project Switchboard made under the same name
// for the tenant before (DeploySpec.OwnedProjectID, from a record kept per
// tenant, platform, scope and name), and the project it settles on is
// recorded: a later deployment reuses it, and a client that must never take
// over a project the user made (Vercel: a 409 on create) adopts only that
// one.
//
// and after each step writes the step as done, the platform's ids
// (DeployProgress: never a secret) and a renewed lease in one conditional
// write (only while it holds the lease and the deployment is building).
// A later run skips every step recorded as done, and each platform client
// skips what the progress says exists, so a resumed deployment repeats no
// finished step. The DATABASE_URL a database step returns is sealed
// (purpose database_url) and kept, so a resumed run does not provision
// again; the caller's own DATABASE_URL, if given, wins.
//
// It then polls the platform's status, waiting PollInterval and half as
// long again each time up to PollMax, and reads the build log after the
// platform's cursor; new lines are written as a log item together with
// the cursor in one transaction, so a line is never kept twice nor lost.
// Secrets the run knows (the token, the environment's values, the
// DATABASE_URL) are redacted from every kept line. It ends in ready,
// error (with the platform's reason and words, or build_failed with the
// build's message), canceled, or timed_out once DEPLOYMENT_TIMEOUT_MS has
// passed since acceptance (the platform deployment is then canceled, best
// effort, and the error says whether that worked).
//
// Transient platform failures (5xx, timeouts) and rate limits (429) are
// noted in the deployment's log (type info) and tried again after the
// growing wait or the platform's Retry-After (Render's Ratelimit-Reset),
// whichever is longer, until the deployment's time is up. A token the
// platform refuses is fetched once more (it may have been refreshed);
// refused again, the connection is marked expired and the deployment ends
// in error (connection_expired). Other refusals end it in error at once.
//
// A worker stops DeadlineMargin before its invocation's deadline, saves
// and lets its lease go; a worker that dies stops renewing its lease. In
// both cases the deployment falls due in the due index, and the sweep
// (Sweeper, run by token-refresher every ten minutes: only the schedulers may
// query the index) hands it back to the worker by writing a resume ticket,
// an item of type deployment whose INSERT the stream delivers, in the
// same transaction that moves its due time on. A queued deployment whose
// record never reached a worker falls due QueueGrace after acceptance
// and is handed over the same way. A deployment still not ended
// GiveUpAfter past its deadline is ended by the sweep as timed_out, so
// every accepted deployment reaches a terminal status.
//
// The worker reports a stream record as failed only when it could not
// record its work (the table or the vault failed); Lambda then delivers it
// again.
//
// # Cancel and rollback
//
// Cancel ends a queued deployment before any worker starts it. A building
// one is canceled at the platform first when it has a platform deployment
// (409 when the platform says it has finished); a worker running it
// notices at its next write (its condition fails) and cancels at the
// platform whatever it started meanwhile. A rollback can be canceled
// while queued; once started (one platform call) it is 409.
//
// Rollback(id) makes an earlier deployment that became ready current
// again. It is a new deployment (source rollback) accepted under the rate
// limit like any other, 202, run by the worker with the platform's
// rollback call; it is ready once the platform has accepted the rollback,
// and its platformDeploymentId is the deployment rolled back to.
//
// # What each platform can do
//
//	               files                      repo/image   database    logs   cancel   rollback
//	Vercel         yes (by SHA-1 digest)      repo (1)     no (2)      yes    yes      yes (6)
//	Railway        only with the CLI's        yes          Postgres    yes    yes      yes (3)
//	               undocumented upload (4)                 template
//	Render         no (5)                     yes          Postgres    yes    yes      yes (3)
//
//	(1) GitHub or Bitbucket through gitSource, with the user's Git connection in Vercel; a branch is
//	    required; GitLab's gitSource needs a numeric project id a URL does not carry, so it is refused
//	(2) Vercel's databases come from Marketplace integrations its API does not provision
//	(3) the platform starts a new deploy of the earlier build; its rollback answer names no id to follow,
//	    so the rollback deployment is ready when the platform accepted it
//	(4) off unless RAILWAY_UNDOCUMENTED_UPLOAD=true; Railway may change or close it without notice
//	(5) code comes from a Git repository or a registry image
//	(6) instant rollback for a deployment that served production, promote for a staged one that never
//	    did; a Vercel deployment is ready only once its production alias is assigned, and its URL is
//	    that alias, not the per-deployment URL Vercel Authentication protects
//
// Each refusal reaches the caller as a 422 with the platform's plain
// message at acceptance, never as a faked success.
package deploy
