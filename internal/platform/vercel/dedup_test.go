package vercel_test

import (
	"crypto/sha1" //nolint:gosec // Vercel's content address
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/deploytest"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel/vercelfake"
)

// manyFiles is a site of n distinct files whose content is marked with
// seed, so that two seeds share no file.
func manyFiles(name string, n int, seed string) platform.DeploySpec {
	spec := platform.DeploySpec{ProjectName: name, Files: make([]platform.ProjectFile, n)}
	for i := range n {
		spec.Files[i] = platform.ProjectFile{Path: fmt.Sprintf("assets/%04d.js", i),
			Data: []byte(fmt.Sprintf("/* %s */ export const n = %d;\n", seed, i))}
	}
	return spec
}

// uploadsOf runs the worker's steps for a new deployment of spec and
// returns how many POST /v2/files the fake received meanwhile.
func uploadsOf(t *testing.T, c *vercel.Client, fake *vercelfake.Server, spec platform.DeploySpec, p *platform.DeployProgress) int {
	t.Helper()
	before := fake.Calls("uploadFile")
	deploytest.RunSteps(t, c, token, &spec, p)
	if p.DeploymentID == "" {
		t.Fatalf("no deployment was made: %+v", p)
	}
	return fake.Calls("uploadFile") - before
}

// ensured is the progress after the EnsureProject step.
func ensured(t *testing.T, c *vercel.Client, spec platform.DeploySpec) platform.DeployProgress {
	t.Helper()
	var p platform.DeployProgress
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestARedeployUploadsOnlyTheFilesVercelDoesNotHave(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := manyFiles("dedup", 1000, "v1")
	var first platform.DeployProgress
	if got := uploadsOf(t, c, fake, spec, &first); got != 1000 {
		t.Fatalf("first deployment uploaded %d files, want 1000", got)
	}

	second := platform.DeployProgress{ProjectID: first.ProjectID}
	if got := uploadsOf(t, c, fake, spec, &second); got != 0 {
		t.Errorf("a redeploy of the same 1000 files uploaded %d, want 0: Vercel already has every one", got)
	}
	if second.DeploymentID == first.DeploymentID {
		t.Errorf("the redeploy made no deployment of its own: %+v", second)
	}

	changed := spec
	changed.Files = append([]platform.ProjectFile(nil), spec.Files...)
	changed.Files[500] = platform.ProjectFile{Path: changed.Files[500].Path, Data: []byte("export const n = 'changed';\n")}
	third := platform.DeployProgress{ProjectID: first.ProjectID}
	if got := uploadsOf(t, c, fake, changed, &third); got != 1 {
		t.Errorf("a redeploy with one changed file uploaded %d, want exactly 1", got)
	}
	// first: missing_files + create; second: create; third: missing_files + create.
	if got := fake.Calls("createDeployment"); got != 5 {
		t.Errorf("createDeployment called %d times, want 5", got)
	}
}

func TestFilesAnotherProjectOfTheAccountUploadedAreNotSentAgainButAnotherTeamsAre(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := manyFiles("site-a", 20, "shared")
	var a platform.DeployProgress
	if got := uploadsOf(t, c, fake, spec, &a); got != 20 {
		t.Fatalf("first deployment uploaded %d files, want 20", got)
	}
	// Vercel keeps files per account or team, not per project.
	other := spec
	other.ProjectName = "site-b"
	var b platform.DeployProgress
	if got := uploadsOf(t, c, fake, other, &b); got != 0 {
		t.Errorf("another project of the account uploaded %d files the account already has, want 0", got)
	}
	// A team's store is its own: the personal account's files are missing there.
	team := spec
	team.ProjectName, team.TeamID = "site-c", "team_other"
	var tp platform.DeployProgress
	if got := uploadsOf(t, c, fake, team, &tp); got != 20 {
		t.Errorf("a deployment in another team uploaded %d files, want all 20", got)
	}
}

func TestAWorkerRetriedAfterAFailedUploadMakesOneDeploymentAndSendsOnlyWhatIsStillMissing(t *testing.T) {
	t.Parallel()
	c, fake := setup(t, vercel.WithUploadConcurrency(1))
	spec := manyFiles("retried", 10, "r")
	p := ensured(t, c, spec)
	cx := deploytest.Context(t)
	if err := c.Upload(cx, token, spec, &p); err != nil || fake.Calls("uploadFile") != 0 {
		t.Fatalf("the Upload step: %v, %d uploads; want none (StartDeployment sends what Vercel lacks)", err, fake.Calls("uploadFile"))
	}
	// The fifth file's upload fails every try (uploads go one at a time):
	// the step fails with four files at Vercel and no deployment made.
	sum := sha1.Sum(spec.Files[4].Data) //nolint:gosec // Vercel's content address
	fake.FailUpload(hex.EncodeToString(sum[:]), http.StatusInternalServerError, "", 3)
	if err := c.StartDeployment(cx, token, spec, &p); platform.ReasonOf(err) != platform.ReasonTransient || p.DeploymentID != "" {
		t.Fatalf("StartDeployment with a failing upload: err %v, progress %+v; want a transient failure and no deployment", err, p)
	}
	uploaded := fake.Calls("uploadFile")
	if uploaded != 4+3 {
		t.Fatalf("%d upload calls, want 4 files and 3 tries of the fifth", uploaded)
	}
	// The worker runs the step again with the progress it saved.
	if err := c.StartDeployment(cx, token, spec, &p); err != nil {
		t.Fatalf("the retried step: %v", err)
	}
	if p.DeploymentID == "" || fake.Deployments() != 1 {
		t.Fatalf("progress %+v, %d deployments: want exactly one", p, fake.Deployments())
	}
	if again := fake.Calls("uploadFile") - uploaded; again != 10-4 {
		t.Errorf("the retry uploaded %d files, want the 6 Vercel still lacked", again)
	}
	// Resumed once more after the deployment was recorded: nothing is sent.
	calls := len(fake.Requests())
	if err := c.StartDeployment(cx, token, spec, &p); err != nil || len(fake.Requests()) != calls {
		t.Errorf("a resumed step with a deployment id called Vercel again (%v)", err)
	}
}

func TestAMissingFilesAnswerNamingNoFileOfTheDeploymentEndsTheStepWithoutLooping(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := manyFiles("odd", 3, "o")
	p := ensured(t, c, spec)
	// missing_files that lists no digest this deployment has.
	fake.FailNext("createDeployment", http.StatusBadRequest, "missing_files", 5)
	err := c.StartDeployment(deploytest.Context(t), token, spec, &p)
	if platform.ReasonOf(err) != platform.ReasonInvalid || p.DeploymentID != "" {
		t.Fatalf("err %v, progress %+v: want the invalid missing_files answer and no deployment", err, p)
	}
	if creates, uploads := fake.Calls("createDeployment"), fake.Calls("uploadFile"); creates != 1 || uploads != 0 {
		t.Errorf("%d creates and %d uploads, want 1 and 0", creates, uploads)
	}
}

func TestUploadConcurrencyIsParsedAndBadValuesAreRefused(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"": vercel.DefaultUploadConcurrency, "1": 1, " 25 ": 25, "50": 50} {
		if got, err := vercel.ParseUploadConcurrency(in); err != nil || got != want {
			t.Errorf("ParseUploadConcurrency(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-3", "ten", "10.5", "51", "1e3"} {
		if got, err := vercel.ParseUploadConcurrency(in); err == nil {
			t.Errorf("ParseUploadConcurrency(%q) = %d, want an error", in, got)
		}
	}
}

// BenchmarkVercelDeploy1000Files measures the upload and create steps of a
// 1,000-file deployment against the fake on loopback: "first" deploys
// files Vercel has never seen (new content each op), "redeploy" the same
// files again, "one-changed" the same files with one changed. uploads/op
// counts POST /v2/files, creates/op POST /v13/deployments. The
// upload-latency=20ms variants hold each upload 20 ms at the fake, so the
// time shows what the uploads cost over a real network.
func BenchmarkVercelDeploy1000Files(b *testing.B) {
	for _, latency := range []time.Duration{0, 20 * time.Millisecond} {
		for _, mode := range []string{"first", "redeploy", "one-changed"} {
			b.Run(fmt.Sprintf("%s/upload-latency=%v", mode, latency), func(b *testing.B) {
				benchDeploy(b, mode, latency)
			})
		}
	}
}

func benchDeploy(b *testing.B, mode string, latency time.Duration) {
	fake := vercelfake.New()
	defer fake.Close()
	c := vercel.New(&http.Client{Timeout: 30 * time.Second}, fake.URL)
	base := manyFiles("bench", 1000, "base")
	var p platform.DeployProgress
	deploytest.RunSteps(b, c, token, &base, &p)
	fake.UploadDelay = latency
	project := p.ProjectID
	specs := make([]platform.DeploySpec, b.N)
	for i := range specs {
		switch mode {
		case "first":
			specs[i] = manyFiles("bench", 1000, fmt.Sprint("op", i))
		case "redeploy":
			specs[i] = base
		case "one-changed":
			specs[i] = base
			specs[i].Files = append([]platform.ProjectFile(nil), base.Files...)
			specs[i].Files[i%1000] = platform.ProjectFile{Path: base.Files[i%1000].Path, Data: []byte(fmt.Sprint("changed ", i))}
		}
	}
	uploads, creates := fake.Calls("uploadFile"), fake.Calls("createDeployment")
	cx := deploytest.Context(b)
	b.ResetTimer()
	for i := range b.N {
		p := platform.DeployProgress{ProjectID: project}
		if err := c.Upload(cx, token, specs[i], &p); err != nil {
			b.Fatal(err)
		}
		if err := c.StartDeployment(cx, token, specs[i], &p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(fake.Calls("uploadFile")-uploads)/float64(b.N), "uploads/op")
	b.ReportMetric(float64(fake.Calls("createDeployment")-creates)/float64(b.N), "creates/op")
}
