package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func TestDevStartsTheStackAnswersAndShutsDownCleanly(t *testing.T) {
	t.Parallel()
	table := dynamotest.TableName()
	cache := t.TempDir()
	vars := map[string]string{"TABLE_NAME": table}
	logs := &servicetest.Logs{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := start(ctx, config{
		Addr: "127.0.0.1:0", CacheDir: cache, FirstRun: 50 * time.Millisecond,
		StreamSchedulerEvery: time.Minute, TokenRefresherEvery: 10 * time.Minute,
		Getenv: func(k string) string {
			if v, ok := vars[k]; ok {
				return v
			}
			return os.Getenv(k) // AWS_ENDPOINT_URL_DYNAMODB from dynamotest.Run
		},
		Log: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = s.Close(context.Background())
		}
		db := dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
		_, _ = db.DeleteTable(context.Background(), deleteTable(table))
	})
	t.Logf("started in %s", s.StartedIn)

	if s.Env.Table != table || s.Env.StartedDynamoDB {
		t.Fatalf("table %s, started its own DynamoDB %v", s.Env.Table, s.Env.StartedDynamoDB)
	}
	for _, f := range []string{"jwt-es256.pem", "local-kek.hex", "jwks.json"} {
		if _, err := os.Stat(filepath.Join(cache, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if code, raw := get(t, s.URL+"/health", ""); code != 200 {
		t.Errorf("GET /health: %d %s", code, raw)
	}
	code, raw := get(t, s.URL+"/platforms", s.Token)
	var platforms struct {
		Items []map[string]any `json:"items"`
	}
	if code != 200 || json.Unmarshal(raw, &platforms) != nil || len(platforms.Items) == 0 {
		t.Errorf("GET /platforms with the printed token: %d %s", code, raw)
	}
	if code, raw := get(t, s.URL+"/platforms", ""); code != 401 || !strings.Contains(string(raw), `"unauthenticated"`) {
		t.Errorf("GET /platforms without a token: %d %s", code, raw)
	}
	if code, raw := get(t, s.URL+"/openapi.json", ""); code != 200 || !json.Valid(raw) {
		t.Errorf("GET /openapi.json: %d", code)
	}
	// The schedules' first runs happen shortly after the start.
	deadline := time.Now().Add(10 * time.Second)
	for !(strings.Contains(logs.String(), "function=stream-scheduler") && strings.Contains(logs.String(), "function=token-refresher")) {
		if time.Now().After(deadline) {
			t.Fatalf("no first scheduled runs in the log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	var banner bytes.Buffer
	printBanner(&banner, s)
	if !strings.Contains(banner.String(), "curl -s -H \"Authorization: Bearer $TOKEN\" "+s.URL+"/platforms") ||
		!strings.Contains(banner.String(), s.Token) || !strings.Contains(banner.String(), "iss "+s.Key.Issuer) {
		t.Errorf("banner:\n%s", banner.String())
	}
	if kek := s.Env.Getenv("LOCAL_KEK"); kek == "" || strings.Contains(banner.String(), kek) {
		t.Errorf("LOCAL_KEK is unset or printed")
	}

	url := s.URL
	stopped := time.Now()
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed = true
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("Close took %s", d)
	}
	if _, err := http.Get(url + "/health"); err == nil {
		t.Error("the gateway still answers after Close")
	}
}

func TestTokensAndTheKEKSurviveARestart(t *testing.T) {
	t.Parallel()
	table := dynamotest.TableName()
	cache := t.TempDir()
	cfg := config{Addr: "127.0.0.1:0", CacheDir: cache, Log: io.Discard,
		Getenv: func(k string) string {
			if k == "TABLE_NAME" {
				return table
			}
			return os.Getenv(k)
		}}
	ctx := context.Background()
	first, err := start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	token, kek := first.Token, first.Env.Getenv("LOCAL_KEK")
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = second.Close(ctx)
		db := dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
		_, _ = db.DeleteTable(ctx, deleteTable(table))
	})
	if code, raw := get(t, second.URL+"/platforms", token); code != 200 {
		t.Fatalf("the first run's token after a restart: %d %s", code, raw)
	}
	if got := second.Env.Getenv("LOCAL_KEK"); got != kek {
		t.Fatal("LOCAL_KEK changed across a restart")
	}
}

func deleteTable(name string) *dynamodb.DeleteTableInput {
	return &dynamodb.DeleteTableInput{TableName: aws.String(name)}
}
