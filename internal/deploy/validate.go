package deploy

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// File is one file as a caller sends it: Content is the file itself
// (encoding utf-8) or its standard base64 (encoding base64).
type File struct {
	Path     string
	Content  string
	Encoding string
}

// Encodings a File may come in.
const (
	EncodingUTF8   = "utf-8"
	EncodingBase64 = "base64"
)

// GitSource is a Git repository and branch to build from.
type GitSource struct {
	Repo   string
	Branch string
}

// Request is what a caller asks to deploy: exactly one of Files, Source
// and Image.
type Request struct {
	Platform    string
	ProjectName string
	Files       []File
	Source      *GitSource
	Image       string
	Env         map[string]string
	// Database asks for a database with the project: its engine
	// ("postgres"). nil asks for none.
	Database *string
	// Build says how a repository is built and run where the platform
	// needs telling (Render); nil leaves it to the platform.
	Build *Build
	// WorkspaceID is the platform's workspace, owner or team to deploy in
	// (Render's ownerId); "" takes the connection's.
	WorkspaceID string
}

// Build is how a repository is built and run (platform.DeploySpec's
// Runtime, BuildCommand, StartCommand and PublishPath).
type Build struct {
	Runtime      string `json:"runtime"`
	BuildCommand string `json:"buildCommand"`
	StartCommand string `json:"startCommand"`
	PublishPath  string `json:"publishPath"`
}

// fields are the build's values with their names in the request, in the
// request's order (so the first bad one is the one reported).
func (b *Build) fields() [][2]string {
	return [][2]string{{"build.runtime", b.Runtime}, {"build.buildCommand", b.BuildCommand},
		{"build.startCommand", b.StartCommand}, {"build.publishPath", b.PublishPath}}
}

// apply puts the build's values in the platform's spec.
func (b *Build) apply(s *platform.DeploySpec) {
	s.Runtime, s.BuildCommand, s.StartCommand, s.PublishPath = b.Runtime, b.BuildCommand, b.StartCommand, b.PublishPath
}

// Limits on a request that are Switchboard's own; the platform's Validate
// adds the platform's.
const (
	MaxProjectName = 100
	MaxEnvName     = 256 // bytes
	MaxEnvValue    = 32 << 10
	maxRepoURL     = 2048
	maxImageRef    = 1024
	maxBranch      = 255
	maxWorkspaceID = 200
	maxCommand     = 2048
)

func invalid(code apperr.Code, format string, args ...any) error {
	return apperr.Errorf(apperr.Invalid, code, format, args...)
}

// validate checks a request and turns it into the platform's spec, the
// deployer that will run it and the source kind. Nothing is called and
// nothing is stored: bad input changes nothing. maxFileBytes bounds the
// files' total decoded size.
func (s *Service) validate(req Request, maxFileBytes int64) (platform.DeploySpec, platform.Deployer, Source, error) {
	var spec platform.DeploySpec
	d, ok := registry.Lookup(req.Platform)
	switch {
	case !ok:
		return spec, nil, "", platform.Unknown(apperr.Invalid, req.Platform)
	case d.Kind != platform.KindDeploy:
		return spec, nil, "", registry.WrongKind(apperr.Invalid, d, platform.KindDeploy)
	}
	dep, ok := s.cfg.Deployers[d.ID]
	if !ok {
		return spec, nil, "", apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "deployments to %s are not configured here", d.Name)
	}
	if strings.TrimSpace(req.ProjectName) == "" {
		return spec, nil, "", invalid(apperr.CodeInvalidProjectName, "projectName is required")
	}
	if utf8.RuneCountInString(req.ProjectName) > MaxProjectName {
		return spec, nil, "", invalid(apperr.CodeInvalidProjectName, "projectName is longer than %d characters", MaxProjectName)
	}
	if hasControl(req.ProjectName) {
		return spec, nil, "", invalid(apperr.CodeInvalidProjectName, "projectName must not contain control characters")
	}
	spec = platform.DeploySpec{ProjectName: req.ProjectName, Image: req.Image, Env: req.Env}
	var source Source
	given := 0
	if len(req.Files) > 0 {
		given++
		source = SourceFiles
	}
	if req.Source != nil {
		given++
		source = SourceRepo
		if strings.TrimSpace(req.Source.Repo) == "" || len(req.Source.Repo) > maxRepoURL || hasControl(req.Source.Repo) {
			return spec, nil, "", invalid(apperr.CodeInvalidSource, "source.repo must be a Git repository URL of at most %d characters, without control characters", maxRepoURL)
		}
		if err := checkRepoURL(req.Source.Repo); err != nil {
			return spec, nil, "", err
		}
		if strings.TrimSpace(req.Source.Branch) == "" || len(req.Source.Branch) > maxBranch || hasControl(req.Source.Branch) {
			return spec, nil, "", invalid(apperr.CodeInvalidSource, "source.branch is required (at most %d characters, without control characters)", maxBranch)
		}
		spec.Repo, spec.Branch = req.Source.Repo, req.Source.Branch
	}
	if req.Image != "" {
		given++
		source = SourceImage
		if len(req.Image) > maxImageRef || strings.ContainsAny(req.Image, " \t\r\n") {
			return spec, nil, "", invalid(apperr.CodeInvalidImage, "image must be a registry image reference such as ghcr.io/acme/site:1.2.3")
		}
	}
	if given != 1 {
		return spec, nil, "", invalid(apperr.CodeInvalidSource, "give exactly one of files, source and image")
	}
	if b := req.Build; b != nil {
		for _, f := range b.fields() {
			if len(f[1]) > maxCommand || strings.ContainsAny(f[1], "\x00\r\n") {
				return spec, nil, "", invalid(apperr.CodeInvalidBuild, "%s must be one line of at most %d bytes", f[0], maxCommand)
			}
		}
		b.apply(&spec)
	}
	if w := req.WorkspaceID; w != "" {
		if len(w) > maxWorkspaceID || strings.ContainsAny(w, " \t\r\n/?#") {
			return spec, nil, "", invalid(apperr.CodeInvalidWorkspace, "workspaceId must be a platform workspace id of at most %d characters", maxWorkspaceID)
		}
		spec.TeamID = w
	}
	if req.Database != nil {
		if *req.Database == "" {
			return spec, nil, "", invalid(apperr.CodeInvalidDatabase, "database.engine is required (%q)", platform.DatabasePostgres)
		}
		spec.Database = *req.Database
	}
	for k, v := range req.Env {
		if len(k) > MaxEnvName {
			return spec, nil, "", invalid(apperr.CodeInvalidEnv, "the environment variable name %q is longer than %d bytes", clip(k), MaxEnvName)
		}
		if len(v) > MaxEnvValue {
			return spec, nil, "", invalid(apperr.CodeInvalidEnv, "the value of %s is longer than %d bytes", k, MaxEnvValue)
		}
	}
	files, err := decodeFiles(req.Files, maxFileBytes)
	if err != nil {
		return spec, nil, "", err
	}
	spec.Files = files
	if err := dep.Validate(spec); err != nil {
		return spec, nil, "", specRefused(d, err)
	}
	return spec, dep, source, nil
}

// decodeFiles decodes the files' contents and holds them to the limits
// that need no platform: a known encoding, content that decodes, at most
// platform.MaxDeployFiles files and maxBytes in all. Paths are checked
// with the rest of the spec (platform.CheckDeploySpec: relative, clean,
// no "..", no duplicates).
func decodeFiles(in []File, maxBytes int64) ([]platform.ProjectFile, error) {
	if len(in) > platform.MaxDeployFiles {
		return nil, invalid(apperr.CodeTooManyFiles, "%d files is more than the %d a deployment may have", len(in), platform.MaxDeployFiles)
	}
	out := make([]platform.ProjectFile, 0, len(in))
	var total int64
	for i, f := range in {
		if hasControl(f.Path) {
			return nil, invalid(apperr.CodeInvalidFile, "files[%d].path (%q) contains a control character; a path is printable text", i, clip(f.Path))
		}
		var data []byte
		switch f.Encoding {
		case EncodingUTF8:
			if !utf8.ValidString(f.Content) {
				return nil, invalid(apperr.CodeInvalidFile, "files[%d] (%q) is marked utf-8 but is not valid UTF-8; send it as base64", i, clip(f.Path))
			}
			data = []byte(f.Content)
		case EncodingBase64:
			b, err := base64.StdEncoding.DecodeString(f.Content)
			if err != nil {
				return nil, invalid(apperr.CodeInvalidFile, "files[%d] (%q) is not valid standard base64", i, clip(f.Path))
			}
			data = b
		default:
			return nil, invalid(apperr.CodeInvalidFile, "files[%d].encoding must be %q or %q", i, EncodingUTF8, EncodingBase64)
		}
		total += int64(len(data))
		if total > maxBytes {
			e := apperr.Errorf(apperr.TooLarge, apperr.CodeFilesTooLarge, "the files come to more than %d bytes, the most one deployment takes; deploy larger projects from a Git repository", maxBytes)
			return nil, e
		}
		out = append(out, platform.ProjectFile{Path: f.Path, Data: data})
	}
	return out, nil
}

// specRefused says why a platform's Validate refused a spec: what the
// platform cannot do is 422 with the platform's own plain words; a bad
// name, path or variable is 400.
func specRefused(d platform.Descriptor, err error) error {
	pe, ok := platform.AsError(err)
	if !ok {
		return apperr.Wrap(apperr.Invalid, apperr.CodeInvalidDeployment, err.Error(), err)
	}
	if pe.Reason == platform.ReasonUnsupported {
		e := apperr.Wrap(apperr.Unprocessable, apperr.CodeUnsupportedByPlatform, pe.Message, err)
		e.Fields = map[string]any{"platform": string(d.ID), "reason": string(pe.Reason)}
		return e
	}
	code := apperr.CodeInvalidDeployment
	if strings.Contains(pe.Op, "name") {
		code = apperr.CodeInvalidProjectName
	}
	return apperr.Wrap(apperr.Invalid, code, pe.Message, err)
}

// hasControl reports whether s holds a control character (C0, DEL or C1,
// NUL included): none belongs in a name, path, URL or branch, and a
// platform or an archive refuses them late and obscurely.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// checkRepoURL refuses a repository URL that carries credentials
// (https://token@github.com/...): they would be stored and shown with the
// deployment and the platform's build logs. The platform reaches a private
// repository through its own Git connection.
func checkRepoURL(repo string) error {
	_, rest, ok := strings.Cut(repo, "://")
	authority := rest[:strings.IndexAny(rest+"/", "/?#")]
	if !ok || !strings.Contains(authority, "@") {
		return nil // no userinfo; the platform judges the rest
	}
	return invalid(apperr.CodeInvalidSource, "source.repo must not carry credentials (user or token before @); give the plain repository URL and connect private repositories to the platform's Git integration")
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// deployPlatforms names the platforms deployments go to.
func (s *Service) deployPlatforms() []string {
	var out []string
	for _, d := range registry.All() {
		if d.Kind == platform.KindDeploy {
			out = append(out, string(d.ID))
		}
	}
	return out
}

// describeTimeout says a timeout in words for an error message.
func describeTimeout(secs int64) string {
	if secs%60 == 0 {
		return fmt.Sprintf("%d minutes", secs/60)
	}
	return fmt.Sprintf("%d seconds", secs)
}
