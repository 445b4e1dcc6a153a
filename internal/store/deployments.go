package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
)

// Deployments are stored as
//
//	pk TENANT#<tenant>  sk DEPLOY#<id>                 type deployment
//	gsi1pk DUE#DEPLOY   gsi1sk <dueAt>#<tenant>#<id>   (only while queued or building)
//
// with the sealed environment ("env") and DATABASE_URL ("dbUrl"), the
// worker's progress (JSON, never a secret), the steps done, its lease and
// the log position. Ids sort by time, so a tenant's deployments list newest
// first by key. Beside each deployment, in the tenant's partition:
//
//	sk DEPLOYFILE#<id>#<nnnn>   type deployment_files   a piece of the files' archive (ttl)
//	sk DEPLOYLOG#<id>#<nnnnnnnn> type deployment_log    up to 200 log lines, in order
//	sk DEPLOYKICK#<id>#<n>      type deployment         a resume ticket (ttl): its INSERT on the
//	                                                    stream hands the deployment to the worker again
//
// The per-user rate-limit window is RATE#deployments#<user> (ratelimit.go).
// The deployment's own INSERT is the hand-off to deploy-worker: the
// stream's filter passes INSERTs of type deployment, which only a new
// deployment and a resume ticket are.
const (
	deployPrefix     = "DEPLOY#"
	deployFilePrefix = "DEPLOYFILE#"
	deployLogPrefix  = "DEPLOYLOG#"
	deployKickPrefix = "DEPLOYKICK#"
	dueDeployPK      = "DUE#DEPLOY"
	kickKeptFor      = 24 * time.Hour
)

// Deployments gives the deployments service, its worker and the sweep
// their storage.
func (s *Store) Deployments() DeploymentRepo { return DeploymentRepo{s} }

// DeploymentRepo implements deploy.Repo, deploy.WorkerRepo and
// deploy.SweepRepo.
type DeploymentRepo struct{ s *Store }

var (
	_ deploy.Repo       = DeploymentRepo{}
	_ deploy.WorkerRepo = DeploymentRepo{}
	_ deploy.SweepRepo  = DeploymentRepo{}
)

func deployKey(tenant, id string) (string, string) { return TenantPK(tenant), deployPrefix + Esc(id) }

func deployLogKey(id string, seq int64) string {
	return fmt.Sprintf("%s%s#%08d", deployLogPrefix, Esc(id), seq)
}

func dueSK(due time.Time, tenant, id string) string {
	return FormatTime(due) + "#" + Esc(tenant) + "#" + Esc(id)
}

// LoadWindow reads the user's deployment window.
func (r DeploymentRepo) LoadWindow(ctx context.Context, tenant, limit, user string) (ratelimit.State, error) {
	return r.s.LoadWindow(ctx, tenant, limit, user)
}

// PutFiles writes the archive pieces, up to 8 at a time.
func (r DeploymentRepo) PutFiles(ctx context.Context, tenant, id string, chunks [][]byte, expires time.Time) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, 8)
	)
	for i, c := range chunks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			it := Item{
				AttrPK: S(TenantPK(tenant)), AttrSK: S(fmt.Sprintf("%s%s#%04d", deployFilePrefix, Esc(id), i)),
				"type": S("deployment_files"), "data": B(c), AttrTTL: N(expires.Unix()),
			}
			if err := r.s.Put(ctx, it, nil); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return firstErr
}

// Files reads the archive pieces back, each with a consistent read. A
// missing piece (expired) is NotFound.
func (r DeploymentRepo) Files(ctx context.Context, tenant, id string, chunks int) ([][]byte, error) {
	out := make([][]byte, chunks)
	errs := make([]error, chunks)
	var wg sync.WaitGroup
	for i := range chunks {
		wg.Go(func() {
			it, err := r.s.Get(ctx, TenantPK(tenant), fmt.Sprintf("%s%s#%04d", deployFilePrefix, Esc(id), i))
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = GetB(it, "data")
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Accept writes the deployment and commits the window decision together.
func (r DeploymentRepo) Accept(ctx context.Context, d *deploy.Deployment, st ratelimit.State, dec ratelimit.Decision, period time.Duration) error {
	err := r.s.CommitWindow(ctx, d.Tenant, deploy.LimitOf(d), d.User, st, dec, period, TxWrite{Put: deployToItem(d), Cond: NotExists()})
	if IsConditionFailed(err) {
		return apperr.Wrap(apperr.Internal, apperr.CodeDeploymentExists, "", fmt.Errorf("store: deployment %s exists already: %w", d.ID, err))
	}
	return err
}

// Get reads a deployment.
func (r DeploymentRepo) Get(ctx context.Context, tenant, id string) (*deploy.Deployment, error) {
	pk, sk := deployKey(tenant, id)
	it, err := r.s.Get(ctx, pk, sk)
	if err != nil {
		return nil, err
	}
	return deployFromItem(it), nil
}

// deployListAttrs are the attributes a list reads: all but the sealed
// environment and database URL ("env", "dbUrl"), which no list shows.
var deployListAttrs = []string{
	"id", "tenant", "user", "platform", "projectName", "source", "repo", "branch", "image", "database", "workspaceId",
	"rollbackOf", "rollbackTo", "status", "url", "platformDeploymentId", "logSeq", "logCursor", "leaseOwner",
	"leaseUntil", "dueAt", "kicks", "createdAt", "updatedAt", "startedAt", "endedAt", "deadline",
	"progress", "steps", "build", "files", "error",
}

// List pages through a tenant's deployments that f matches, newest first,
// without their sealed environment and database URL (SealedEnv and
// SealedDatabaseURL are empty in what it returns).
func (r DeploymentRepo) List(ctx context.Context, tenant string, f deploy.ListFilter, cursor string, limit int) ([]*deploy.Deployment, string, error) {
	q := Query{PK: TenantPK(tenant), SKPrefix: deployPrefix, Limit: limit, Cursor: cursor, Reverse: true, Attrs: deployListAttrs}
	var conds []string
	filter := &Cond{Names: map[string]string{}, Values: Item{}}
	for i, m := range []struct{ attr, value string }{
		{"status", string(f.Status)}, {"platform", string(f.Platform)}, {"projectName", f.ProjectName},
	} {
		if m.value != "" {
			n, v := "#f"+strconv.Itoa(i), ":f"+strconv.Itoa(i)
			filter.Names[n], filter.Values[v] = m.attr, S(m.value)
			conds = append(conds, n+" = "+v)
		}
	}
	if len(conds) > 0 {
		filter.Expr = strings.Join(conds, " AND ")
		q.Filter = filter
	}
	return queryPage(ctx, r.s, q, deployFromItem)
}

// Logs reads up to limit log items after cursor. The cursor it gives is
// never empty: after the last item read, or where it started.
func (r DeploymentRepo) Logs(ctx context.Context, tenant, id, cursor string, limit int) (deploy.LogPage, error) {
	pk := TenantPK(tenant)
	prefix := deployLogPrefix + Esc(id) + "#"
	// A log item's lines are all a page shows.
	page, err := r.s.Query(ctx, Query{PK: pk, SKPrefix: prefix, Limit: limit, Cursor: cursor, Attrs: []string{"lines"}})
	if err != nil {
		return deploy.LogPage{}, err
	}
	out := deploy.LogPage{Lines: []deploy.LogLine{}, Cursor: page.Cursor}
	for _, it := range page.Items {
		out.Lines = append(out.Lines, linesFromItem(it)...)
	}
	if out.Cursor == "" {
		switch {
		case len(page.Items) > 0:
			out.Cursor, err = encodeCursor(Key(pk, GetS(page.Items[len(page.Items)-1], AttrSK)))
		case cursor != "":
			out.Cursor = cursor
		default:
			// Before the first item: the prefix itself sorts first.
			out.Cursor, err = encodeCursor(Key(pk, prefix))
		}
	}
	return out, err
}

// Cancel ends a queued or building deployment as canceled.
func (r DeploymentRepo) Cancel(ctx context.Context, tenant, id string, now time.Time) (*deploy.Deployment, error) {
	pk, sk := deployKey(tenant, id)
	u := newUpdate()
	u.Set("status", S(string(deploy.StatusCanceled)))
	u.Set("endedAt", T(now))
	u.Set("updatedAt", T(now))
	u.Remove(AttrGSI1PK, AttrGSI1SK, "dueAt", "leaseOwner", "leaseUntil")
	up := u.Update(pk, sk, "attribute_exists("+u.name(AttrPK)+") AND "+u.name("status")+" IN ("+
		u.value(S(string(deploy.StatusQueued)))+", "+u.value(S(string(deploy.StatusBuilding)))+")")
	up.ReturnNew = true
	it, err := r.s.Update(ctx, up)
	if err != nil {
		return nil, err
	}
	return deployFromItem(it), nil
}

// Claim takes a queued deployment, or a building one whose lease ran out.
func (r DeploymentRepo) Claim(ctx context.Context, tenant, id, owner string, now, leaseUntil time.Time) (*deploy.Deployment, error) {
	pk, sk := deployKey(tenant, id)
	u := newUpdate()
	building := u.value(S(string(deploy.StatusBuilding)))
	u.set = append(u.set, u.name("status")+" = "+building)
	u.Set("leaseOwner", S(owner))
	u.Set("leaseUntil", T(leaseUntil))
	u.Set("dueAt", T(leaseUntil))
	u.Set(AttrGSI1PK, S(dueDeployPK))
	u.Set(AttrGSI1SK, S(dueSK(leaseUntil, tenant, id)))
	nowV := u.value(T(now))
	u.set = append(u.set, u.name("updatedAt")+" = "+nowV, u.name("startedAt")+" = if_not_exists("+u.name("startedAt")+", "+nowV+")")
	st := u.name("status")
	up := u.Update(pk, sk, "attribute_exists("+u.name(AttrPK)+") AND ("+st+" = "+u.value(S(string(deploy.StatusQueued)))+
		" OR ("+st+" = "+building+" AND "+u.name("leaseUntil")+" < "+nowV+"))")
	up.ReturnNew = true
	it, err := r.s.Update(ctx, up)
	if IsConditionFailed(err) {
		if _, gerr := r.s.Get(ctx, pk, sk); IsNotFound(gerr) {
			return nil, gerr
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return deployFromItem(it), nil
}

// Save writes the worker's state, with one log item when lines are given,
// while owner holds the lease of a building deployment.
func (r DeploymentRepo) Save(ctx context.Context, d *deploy.Deployment, owner string, lines []deploy.LogLine) error {
	pk, sk := deployKey(d.Tenant, d.ID)
	progress, err := json.Marshal(d.Progress)
	if err != nil {
		return fmt.Errorf("store: encoding progress: %w", err)
	}
	u := newUpdate()
	u.Set("status", S(string(d.Status)))
	u.Set("progress", S(string(progress)))
	u.Set("steps", stepsValue(d.Steps))
	u.Set("updatedAt", T(d.UpdatedAt))
	u.Set("logSeq", N(d.LogSeq))
	for attr, v := range map[string]string{"url": d.URL, "platformDeploymentId": d.PlatformDeploymentID, "logCursor": d.LogCursor} {
		if v == "" {
			u.Remove(attr)
		} else {
			u.Set(attr, S(v))
		}
	}
	if len(d.SealedDatabaseURL) > 0 {
		u.Set("dbUrl", Sealed(d.SealedDatabaseURL, deploy.DatabaseURLContext(d)))
	}
	if d.Error != nil {
		u.Set("error", errorValue(d.Error))
	} else {
		u.Remove("error")
	}
	if !d.EndedAt.IsZero() {
		u.Set("endedAt", T(d.EndedAt))
	}
	if d.Status.Terminal() {
		u.Remove(AttrGSI1PK, AttrGSI1SK, "dueAt", "leaseOwner", "leaseUntil")
	} else {
		u.Set("leaseUntil", T(d.LeaseUntil))
		u.Set("dueAt", T(d.LeaseUntil))
		u.Set(AttrGSI1PK, S(dueDeployPK))
		u.Set(AttrGSI1SK, S(dueSK(d.LeaseUntil, d.Tenant, d.ID)))
	}
	cond := u.name("leaseOwner") + " = " + u.value(S(owner)) + " AND " + u.name("status") + " = " + u.value(S(string(deploy.StatusBuilding)))
	up := u.Update(pk, sk, cond)
	if len(lines) == 0 {
		_, err := r.s.Update(ctx, up)
		return err
	}
	logItem := Item{
		AttrPK: S(pk), AttrSK: S(deployLogKey(d.ID, d.LogSeq)), "type": S("deployment_log"),
		"deploymentId": S(d.ID), "lines": linesValue(lines),
	}
	return r.s.TransactWrite(ctx, TxWrite{Update: &up}, TxWrite{Put: logItem})
}

// Due lists deployments due at or before before.
func (r DeploymentRepo) Due(ctx context.Context, before time.Time, cursor string, limit int) ([]*deploy.Deployment, string, error) {
	return queryPage(ctx, r.s, Query{Index: IndexGSI1, PK: dueDeployPK, SKMax: FormatTime(before) + "~", Limit: limit, Cursor: cursor}, deployFromItem)
}

// Kick writes a resume ticket and moves the deployment's due time, in one
// transaction, while the deployment is still due as listed.
func (r DeploymentRepo) Kick(ctx context.Context, d *deploy.Deployment, next, now time.Time) error {
	pk, sk := deployKey(d.Tenant, d.ID)
	kick := d.Kicks + 1
	u := newUpdate()
	u.Set(AttrGSI1SK, S(dueSK(next, d.Tenant, d.ID)))
	u.Set("dueAt", T(next))
	u.Set("kicks", N(int64(kick)))
	move := u.Update(pk, sk, stillDue(u, d))
	// Created by an update: the scheduler's role writes with UpdateItem only.
	t := newUpdate()
	t.Set("type", S("deployment"))
	t.Set("id", S(d.ID))
	t.Set("tenant", S(d.Tenant))
	t.Set("kick", N(int64(kick)))
	t.Set("createdAt", T(now))
	t.Set(AttrTTL, N(now.Add(kickKeptFor).Unix()))
	ticket := t.Update(pk, fmt.Sprintf("%s%s#%d", deployKickPrefix, Esc(d.ID), kick), "attribute_not_exists("+t.name(AttrPK)+")")
	return r.s.TransactWrite(ctx, TxWrite{Update: &move}, TxWrite{Update: &ticket})
}

// stillDue is the condition that d is as the due index listed it.
func stillDue(u *updateExpr, d *deploy.Deployment) string {
	return u.name(AttrGSI1SK) + " = " + u.value(S(dueSK(d.DueAt, d.Tenant, d.ID))) + " AND " + u.name("status") + " IN (" +
		u.value(S(string(deploy.StatusQueued))) + ", " + u.value(S(string(deploy.StatusBuilding))) + ")"
}

// Expire ends a deployment no worker could finish as timed_out.
func (r DeploymentRepo) Expire(ctx context.Context, d *deploy.Deployment, info deploy.ErrorInfo, now time.Time) error {
	pk, sk := deployKey(d.Tenant, d.ID)
	u := newUpdate()
	u.Set("status", S(string(deploy.StatusTimedOut)))
	u.Set("error", errorValue(&info))
	u.Set("endedAt", T(now))
	u.Set("updatedAt", T(now))
	cond := stillDue(u, d)
	u.Remove(AttrGSI1PK, AttrGSI1SK, "dueAt", "leaseOwner", "leaseUntil")
	_, err := r.s.Update(ctx, u.Update(pk, sk, cond))
	return err
}

// updateExpr builds an update expression with every attribute name behind
// a placeholder, so that no name (url, status, error, ...) meets
// DynamoDB's reserved words.
type updateExpr struct {
	set, remove []string
	names       map[string]string
	values      Item
}

func newUpdate() *updateExpr { return &updateExpr{names: map[string]string{}, values: Item{}} }

// name is the placeholder of an attribute name.
func (u *updateExpr) name(attr string) string {
	for ph, a := range u.names {
		if a == attr {
			return ph
		}
	}
	ph := fmt.Sprintf("#n%d", len(u.names))
	u.names[ph] = attr
	return ph
}

// value is the placeholder of a value.
func (u *updateExpr) value(v types.AttributeValue) string {
	ph := fmt.Sprintf(":v%d", len(u.values))
	u.values[ph] = v
	return ph
}

func (u *updateExpr) Set(attr string, v types.AttributeValue) {
	u.set = append(u.set, u.name(attr)+" = "+u.value(v))
}

func (u *updateExpr) Remove(attrs ...string) {
	for _, a := range attrs {
		u.remove = append(u.remove, u.name(a))
	}
}

// Update is the call for key, with cond written through name and value.
func (u *updateExpr) Update(pk, sk, cond string) Update {
	expr := ""
	if len(u.set) > 0 {
		expr = "SET " + strings.Join(u.set, ", ")
	}
	if len(u.remove) > 0 {
		expr += " REMOVE " + strings.Join(u.remove, ", ")
	}
	return Update{PK: pk, SK: sk, Expr: strings.TrimSpace(expr), Cond: cond, Names: u.names, Values: u.values}
}

func stepsValue(steps []deploy.Step) types.AttributeValue {
	l := make([]types.AttributeValue, len(steps))
	for i, s := range steps {
		l[i] = S(string(s))
	}
	return &types.AttributeValueMemberL{Value: l}
}

func errorValue(e *deploy.ErrorInfo) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: Item{"code": S(e.Code), "message": S(e.Message), "at": T(e.At)}}
}

func linesValue(lines []deploy.LogLine) types.AttributeValue {
	l := make([]types.AttributeValue, len(lines))
	for i, ln := range lines {
		l[i] = &types.AttributeValueMemberM{Value: Item{"at": T(ln.At), "type": S(ln.Type), "text": S(ln.Text)}}
	}
	return &types.AttributeValueMemberL{Value: l}
}

func linesFromItem(it Item) []deploy.LogLine {
	l, ok := it["lines"].(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]deploy.LogLine, 0, len(l.Value))
	for _, v := range l.Value {
		if m, ok := v.(*types.AttributeValueMemberM); ok {
			out = append(out, deploy.LogLine{At: GetT(m.Value, "at"), Type: GetS(m.Value, "type"), Text: GetS(m.Value, "text")})
		}
	}
	return out
}

func deployToItem(d *deploy.Deployment) Item {
	pk, sk := deployKey(d.Tenant, d.ID)
	progress, _ := json.Marshal(d.Progress) // plain strings and a string map: cannot fail
	it := Item{
		AttrPK: S(pk), AttrSK: S(sk), "type": S("deployment"),
		"id": S(d.ID), "tenant": S(d.Tenant), "user": S(d.User), "platform": S(string(d.Platform)),
		"projectName": S(d.ProjectName), "source": S(string(d.Source)), "status": S(string(d.Status)),
		"progress": S(string(progress)), "steps": stepsValue(d.Steps), "logSeq": N(d.LogSeq), "kicks": N(int64(d.Kicks)),
	}
	putS, putT := setIfPresent(it)
	putS("repo", d.Repo)
	putS("branch", d.Branch)
	putS("image", d.Image)
	putS("database", d.Database)
	putS("workspaceId", d.WorkspaceID)
	if b := d.Build; b != nil {
		build := Item{}
		for name, v := range map[string]string{"runtime": b.Runtime, "buildCommand": b.BuildCommand, "startCommand": b.StartCommand, "publishPath": b.PublishPath} {
			if v != "" {
				build[name] = S(v)
			}
		}
		it["build"] = &types.AttributeValueMemberM{Value: build}
	}
	putS("rollbackOf", d.RollbackOf)
	putS("rollbackTo", d.RollbackTo)
	putS("url", d.URL)
	putS("platformDeploymentId", d.PlatformDeploymentID)
	putS("logCursor", d.LogCursor)
	putS("leaseOwner", d.LeaseOwner)
	putT("leaseUntil", d.LeaseUntil)
	putT("createdAt", d.CreatedAt)
	putT("updatedAt", d.UpdatedAt)
	putT("startedAt", d.StartedAt)
	putT("endedAt", d.EndedAt)
	putT("deadline", d.Deadline)
	if d.Source == deploy.SourceFiles {
		it["files"] = &types.AttributeValueMemberM{Value: Item{
			"count": N(int64(d.Files.Count)), "bytes": N(d.Files.Bytes), "chunks": N(int64(d.Files.Chunks)), "sha256": S(d.Files.SHA256),
		}}
	}
	if len(d.SealedEnv) > 0 {
		it["env"] = Sealed(d.SealedEnv, deploy.EnvContext(d))
	}
	if len(d.SealedDatabaseURL) > 0 {
		it["dbUrl"] = Sealed(d.SealedDatabaseURL, deploy.DatabaseURLContext(d))
	}
	if d.Error != nil {
		it["error"] = errorValue(d.Error)
	}
	if !d.DueAt.IsZero() && !d.Status.Terminal() {
		it["dueAt"] = T(d.DueAt)
		it[AttrGSI1PK] = S(dueDeployPK)
		it[AttrGSI1SK] = S(dueSK(d.DueAt, d.Tenant, d.ID))
	}
	return it
}

func deployFromItem(it Item) *deploy.Deployment {
	d := &deploy.Deployment{
		ID: GetS(it, "id"), Tenant: GetS(it, "tenant"), User: GetS(it, "user"), Platform: platform.ID(GetS(it, "platform")),
		ProjectName: GetS(it, "projectName"), Source: deploy.Source(GetS(it, "source")), Repo: GetS(it, "repo"),
		Branch: GetS(it, "branch"), Image: GetS(it, "image"), Database: GetS(it, "database"), WorkspaceID: GetS(it, "workspaceId"),
		RollbackOf: GetS(it, "rollbackOf"), RollbackTo: GetS(it, "rollbackTo"),
		Status: deploy.Status(GetS(it, "status")), URL: GetS(it, "url"), PlatformDeploymentID: GetS(it, "platformDeploymentId"),
		LogSeq: GetN(it, "logSeq"), LogCursor: GetS(it, "logCursor"), LeaseOwner: GetS(it, "leaseOwner"),
		LeaseUntil: GetT(it, "leaseUntil"), DueAt: GetT(it, "dueAt"), Kicks: int(GetN(it, "kicks")),
		CreatedAt: GetT(it, "createdAt"), UpdatedAt: GetT(it, "updatedAt"), StartedAt: GetT(it, "startedAt"),
		EndedAt: GetT(it, "endedAt"), Deadline: GetT(it, "deadline"),
	}
	if raw := GetS(it, "progress"); raw != "" {
		_ = json.Unmarshal([]byte(raw), &d.Progress)
	}
	if l, ok := it["steps"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				d.Steps = append(d.Steps, deploy.Step(s.Value))
			}
		}
	}
	if m, ok := it["build"].(*types.AttributeValueMemberM); ok {
		d.Build = &deploy.Build{Runtime: GetS(m.Value, "runtime"), BuildCommand: GetS(m.Value, "buildCommand"),
			StartCommand: GetS(m.Value, "startCommand"), PublishPath: GetS(m.Value, "publishPath")}
	}
	if m, ok := it["files"].(*types.AttributeValueMemberM); ok {
		d.Files = deploy.FileSet{Count: int(GetN(m.Value, "count")), Bytes: GetN(m.Value, "bytes"),
			Chunks: int(GetN(m.Value, "chunks")), SHA256: GetS(m.Value, "sha256")}
	}
	if env, _, ok := GetSealed(it, "env"); ok {
		d.SealedEnv = env
	}
	if env, _, ok := GetSealed(it, "dbUrl"); ok {
		d.SealedDatabaseURL = env
	}
	if m, ok := it["error"].(*types.AttributeValueMemberM); ok {
		d.Error = &deploy.ErrorInfo{Code: GetS(m.Value, "code"), Message: GetS(m.Value, "message"), At: GetT(m.Value, "at")}
	}
	return d
}
