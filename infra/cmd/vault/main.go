// Command vault moves stored secrets between keys and systems.
//
//	go run ./infra/cmd/vault rewrap -to KEY_ARN [-table T] [-cursor C]
//	go run ./infra/cmd/vault import-legacy < legacy.jsonl > sealed.jsonl
//
// rewrap moves every envelope in the table to the key -to (a KMS key ARN,
// or "local:<id>" of a KEK listed in LOCAL_KEK), with KMS ReEncrypt on the
// data keys only and conditional writes (see vault.Rewrap). It prints one
// JSON progress line per page on standard error, with the cursor to resume
// from, and the totals as JSON on standard output. If it stops early, run it
// again with -cursor set to the last cursor printed; running it again from
// the start is also safe. The table is -table or TABLE_NAME; AWS settings
// come from the SDK's standard variables (AWS_REGION, AWS_ENDPOINT_URL_KMS,
// AWS_ENDPOINT_URL_DYNAMODB, ...).
//
// import-legacy reads JSON lines {"tenant","platform","purpose","record",
// "value"} on standard input, where value is "iv:authTag:encrypted" as the
// earlier system stored it, opens each with TOKEN_ENCRYPTION_KEY (64 hex
// digits, from the environment only, never a flag) and seals it with the
// vault configured by KMS_KEY_ID or LOCAL_KEK, under the context (tenant,
// platform, purpose, record). It writes one JSON line per input line on
// standard output: {"line","tenant","platform","purpose","record","sealed"}
// with the envelope in text form ("sb1.…"), or the same with "error"
// instead of "sealed". Values are never echoed. It exits 1 if any line
// failed, 2 on a usage or configuration error.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/switchboard-dev/switchboard/internal/vault"
)

// deps are what run takes from the outside world, so tests can replace them.
type deps struct {
	loadAWS   func(ctx context.Context) (aws.Config, error)
	openStore func(ctx context.Context, cfg aws.Config, table string) (vault.EnvelopeStore, error)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, deps{
		loadAWS: func(ctx context.Context) (aws.Config, error) {
			return config.LoadDefaultConfig(ctx)
		},
		openStore: openEnvelopeStore,
	})
	stop()
	os.Exit(code)
}

const usage = `usage:
  vault rewrap -to KEY_ARN [-table T] [-cursor C]
  vault import-legacy < legacy.jsonl > sealed.jsonl
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, d deps) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "rewrap":
		return rewrap(ctx, args[1:], stdout, stderr, getenv, d)
	case "import-legacy":
		return importLegacy(ctx, args[1:], stdin, stdout, stderr, getenv, d)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "vault: unknown command %q\n%s", args[0], usage)
		return 2
	}
}

func rewrap(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, d deps) int {
	fs := flag.NewFlagSet("rewrap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	table := fs.String("table", getenv("TABLE_NAME"), "DynamoDB table (default $TABLE_NAME)")
	to := fs.String("to", "", "target key: a KMS key ARN, or local:<id> of a KEK in LOCAL_KEK")
	cursor := fs.String("cursor", "", "resume from this cursor (printed by an earlier run)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *to == "" || *table == "" || fs.NArg() != 0 {
		fmt.Fprint(stderr, "vault rewrap: -to and a table (-table or TABLE_NAME) are required\n")
		return 2
	}
	if d.openStore == nil {
		fmt.Fprint(stderr, "vault rewrap: rewrap store not wired: openEnvelopeStore in infra/cmd/vault/store.go is nil until internal/store provides a vault.EnvelopeStore\n")
		return 2
	}
	cfg, err := d.loadAWS(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "vault rewrap: AWS configuration: %v\n", err)
		return 2
	}
	var kr vault.Keyring
	if strings.HasPrefix(*to, "local:") {
		kr, err = vault.KeyringFromEnv(getenv, cfg)
	} else {
		kr, err = vault.NewKMSKeyring(kms.NewFromConfig(cfg), *to)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vault rewrap: %v\n", err)
		return 2
	}
	store, err := d.openStore(ctx, cfg, *table)
	if err != nil {
		fmt.Fprintf(stderr, "vault rewrap: opening the store: %v\n", err)
		return 2
	}
	progress := json.NewEncoder(stderr)
	res, err := vault.Rewrap(ctx, store, kr, *to, *cursor, vault.WithProgress(func(r vault.RewrapResult) {
		_ = progress.Encode(summary(r))
	}))
	_ = json.NewEncoder(stdout).Encode(summary(res))
	if err != nil {
		fmt.Fprintf(stderr, "vault rewrap: stopped: %v\n", err)
		fmt.Fprintf(stderr, "vault rewrap: resume with: -cursor %q\n", res.Cursor)
		return 1
	}
	if res.Failed > 0 {
		fmt.Fprintf(stderr, "vault rewrap: %d envelope(s) could not be moved (see failedRefs)\n", res.Failed)
		return 1
	}
	return 0
}

type rewrapSummary struct {
	Scanned        int             `json:"scanned"`
	Moved          int             `json:"moved"`
	AlreadyCurrent int             `json:"alreadyCurrent"`
	Skipped        int             `json:"skipped"`
	Failed         int             `json:"failed"`
	FailedRefs     []vault.ItemRef `json:"failedRefs,omitempty"`
	Cursor         string          `json:"cursor"`
	Done           bool            `json:"done"`
}

func summary(r vault.RewrapResult) rewrapSummary {
	return rewrapSummary{
		Scanned: r.Scanned, Moved: r.Moved, AlreadyCurrent: r.AlreadyCurrent, Skipped: r.Skipped,
		Failed: r.Failed, FailedRefs: r.FailedRefs, Cursor: r.Cursor, Done: r.Done,
	}
}

type legacyIn struct {
	Tenant   string `json:"tenant"`
	Platform string `json:"platform"`
	Purpose  string `json:"purpose"`
	Record   string `json:"record"`
	Value    string `json:"value"`
}

type legacyOut struct {
	Line     int    `json:"line"`
	Tenant   string `json:"tenant,omitempty"`
	Platform string `json:"platform,omitempty"`
	Purpose  string `json:"purpose,omitempty"`
	Record   string `json:"record,omitempty"`
	Sealed   string `json:"sealed,omitempty"`
	Error    string `json:"error,omitempty"`
}

func importLegacy(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, d deps) int {
	if len(args) != 0 {
		fmt.Fprint(stderr, "vault import-legacy: takes no arguments; the key comes from TOKEN_ENCRYPTION_KEY\n")
		return 2
	}
	key := getenv(vault.EnvLegacyKey)
	if key == "" {
		fmt.Fprintf(stderr, "vault import-legacy: %s is not set\n", vault.EnvLegacyKey)
		return 2
	}
	if k, err := hex.DecodeString(strings.TrimSpace(key)); err != nil || len(k) != 32 {
		fmt.Fprintf(stderr, "vault import-legacy: %s must be 64 hex digits\n", vault.EnvLegacyKey)
		return 2
	}
	var cfg aws.Config
	if getenv(vault.EnvKMSKeyID) != "" {
		var err error
		if cfg, err = d.loadAWS(ctx); err != nil {
			fmt.Fprintf(stderr, "vault import-legacy: AWS configuration: %v\n", err)
			return 2
		}
	}
	v, err := vault.FromEnv(ctx, getenv, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "vault import-legacy: %v\n", err)
		return 2
	}

	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 0, 64<<10), 1<<20)
	out := json.NewEncoder(stdout)
	line, sealed, failed := 0, 0, 0
	for in.Scan() {
		line++
		if strings.TrimSpace(in.Text()) == "" {
			continue
		}
		var rec legacyIn
		o := legacyOut{Line: line}
		if err := json.Unmarshal(in.Bytes(), &rec); err != nil {
			o.Error = "not a JSON object with tenant, platform, purpose, record and value"
		} else {
			o.Tenant, o.Platform, o.Purpose, o.Record = rec.Tenant, rec.Platform, rec.Purpose, rec.Record
			o.Sealed, o.Error = importOne(ctx, v, key, rec)
		}
		if o.Error != "" {
			failed++
		} else {
			sealed++
		}
		if err := out.Encode(o); err != nil {
			fmt.Fprintf(stderr, "vault import-legacy: writing: %v\n", err)
			return 1
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(stderr, "vault import-legacy: reading line %d: %v\n", line+1, err)
		return 1
	}
	fmt.Fprintf(stderr, "vault import-legacy: %d sealed, %d failed\n", sealed, failed)
	if failed > 0 || ctx.Err() != nil {
		return 1
	}
	return 0
}

// importOne returns the envelope's text form, or an error message that is
// safe to print (it never holds the value).
func importOne(ctx context.Context, v *vault.Vault, key string, rec legacyIn) (string, string) {
	switch {
	case rec.Tenant == "" || rec.Platform == "" || rec.Purpose == "":
		return "", "tenant, platform and purpose are required"
	case !slices.Contains(vault.Purposes(), rec.Purpose):
		return "", fmt.Sprintf("unknown purpose %q (one of %s)", rec.Purpose, strings.Join(vault.Purposes(), ", "))
	case rec.Value == "":
		return "", "value is empty"
	}
	ec := vault.Context(rec.Tenant, rec.Platform, rec.Purpose, rec.Record)
	sealed, err := vault.ImportLegacy(ctx, v, key, rec.Value, ec)
	if err != nil {
		return "", err.Error()
	}
	return vault.EncodeString(sealed), ""
}
