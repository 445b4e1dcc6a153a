# Switchboard's commands. `make dev` runs everything locally and offline;
# `make test` runs every test against the project's own DynamoDB Local.
SHELL := /bin/bash
GO ?= go
FUNCTIONS := oauth connections livestreams meetings stream-scheduler token-refresher deployments deploy-worker webhooks event-dispatcher
GOFLAGS_LAMBDA := -trimpath -ldflags "-s -w" -tags lambda.norpc
TEST_FLAGS ?= -count=1 -timeout 15m
FUZZTIME ?= 30s

.PHONY: all build test oauth-mock chromium a11y openapi-lint test-short lint dev invoke bench fuzz rewrap dynamodb-local clean

all: build

## build: every function as build/<name>/bootstrap (linux/arm64) and build/<name>.zip
build:
	@mkdir -p build
	@for fn in $(FUNCTIONS); do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o build/$$fn/bootstrap ./functions/$$fn || exit 1; \
	  $(GO) run ./infra/cmd/lambdazip build/$$fn/bootstrap build/$$fn.zip || exit 1; \
	  printf '%-18s %9s bytes bootstrap  %9s bytes zip\n' $$fn $$(stat -c %s build/$$fn/bootstrap) $$(stat -c %s build/$$fn.zip); \
	done

## dynamodb-local: fetch the emulator (pinned npm package, integrity checked) into .cache/
dynamodb-local:
	@./infra/dynamodb-local/fetch.sh

## oauth-mock: the OAuth mock's npm packages, exactly as package-lock.json pins them
oauth-mock:
	@if [ ! -f infra/oauth-mock/node_modules/.package-lock.json ] || \
	    [ infra/oauth-mock/package-lock.json -nt infra/oauth-mock/node_modules/.package-lock.json ]; then \
	  npm ci --prefix infra/oauth-mock --no-audit --no-fund; fi

## chromium: Chromium for the browser tests; missing, Debian's `chromium` package is installed with apt-get (as root or with passwordless sudo)
chromium:
	@./infra/chromium/ensure.sh

## a11y: axe-core for the browser tests' accessibility checks, exactly as infra/a11y/package-lock.json pins it
a11y:
	@if [ ! -f infra/a11y/node_modules/.package-lock.json ] || \
	    [ infra/a11y/package-lock.json -nt infra/a11y/node_modules/.package-lock.json ]; then \
	  npm ci --prefix infra/a11y --no-audit --no-fund; fi

## openapi-lint: the OpenAPI linter (@redocly/cli), exactly as infra/openapi-lint/package-lock.json pins it
openapi-lint:
	@if [ ! -f infra/openapi-lint/node_modules/.package-lock.json ] || \
	    [ infra/openapi-lint/package-lock.json -nt infra/openapi-lint/node_modules/.package-lock.json ]; then \
	  npm ci --prefix infra/openapi-lint --no-audit --no-fund; fi

## test: vet, then every test (unit, DynamoDB Local integration, template and contract checks, the connect page in headless Chromium)
test: dynamodb-local oauth-mock chromium a11y
	$(GO) vet ./...
	$(GO) run ./infra/cmd/with-dynamodb -- $(GO) test $(TEST_FLAGS) ./...

## lint: go vet, staticcheck (pinned as a go.mod tool), Redocly's lint of openapi.json (recommended-strict: no error, no warning), go.mod tidy, and cfn-lint on template.yaml (informational checks too) when cfn-lint is installed
lint: openapi-lint
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	cd infra/openapi-lint && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	  node node_modules/@redocly/cli/bin/cli.js lint ../../internal/httpapi/openapi.json --config redocly.yaml --format stylish
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	@if command -v cfn-lint >/dev/null 2>&1; then \
	  echo "cfn-lint --include-checks I template.yaml"; cfn-lint --include-checks I -- template.yaml; \
	else echo "cfn-lint is not installed: template.yaml not linted (pip install cfn-lint)"; fi

## dev: the local stack on 127.0.0.1:3000 (DynamoDB Local, gateway with JWT, schedules, stream); its banner lists the configuration, and `make dev ARGS=-config` only lists it
dev: dynamodb-local oauth-mock
	$(GO) run ./infra/cmd/dev $(ARGS)

## invoke: run one function's handler on an event, e.g. make invoke FN=connections EVENT=events/connections-list-platforms.json
invoke: dynamodb-local
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=events/<file>.json"; exit 2; }
	$(GO) run ./infra/cmd/invoke -fn "$(FN)" -event "$(EVENT)"

## bench: sizes, cold starts, round trips and warm latency into BENCHMARKS.md; fails when a budget fails
bench: dynamodb-local oauth-mock
	@set -e; started=$$(date +%s); \
	$(MAKE) --no-print-directory build; \
	mkdir -p build/bench/arm64/hello build/bench/host; \
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o build/bench/arm64/hello/bootstrap ./infra/bench/hello; \
	$(GO) run ./infra/cmd/lambdazip build/bench/arm64/hello/bootstrap build/bench/arm64/hello.zip; \
	for fn in $(FUNCTIONS) hello hellosdk; do \
	  src=./functions/$$fn; if [ $$fn = hello ] || [ $$fn = hellosdk ]; then src=./infra/bench/$$fn; fi; \
	  CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o build/bench/host/$$fn/bootstrap $$src; \
	done; \
	$(GO) build -o build/bench/hey github.com/rakyll/hey; \
	$(GO) run ./infra/bench/cmd/bench -build build -events events -out BENCHMARKS.md -started $$started

## fuzz: each fuzz target for FUZZTIME
fuzz: dynamodb-local
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$target"; \
	    $(GO) run ./infra/cmd/with-dynamodb -- $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## rewrap: move every stored envelope to a new key: make rewrap TO=<key arn> [TABLE=..] [CURSOR=..]
rewrap:
	@test -n "$(TO)" || { echo "usage: make rewrap TO=<kms key arn | local:...> [TABLE=name] [CURSOR=resume-cursor]"; exit 2; }
	$(GO) run ./infra/cmd/vault rewrap -to "$(TO)" $(if $(TABLE),-table $(TABLE)) $(if $(CURSOR),-cursor $(CURSOR))

clean:
	rm -rf build
