# Strata's build and test entry points. `make test` is what CI runs.

GO ?= go

.PHONY: test build deps vet fmt-check bench-s3

build:
	$(GO) build -o bin/strata ./cmd/strata

# deps installs the system packages the tests need (Debian), only when absent.
deps:
	@./scripts/deps.sh

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# test runs the whole suite: formatting, vet, and every package's tests.
test: deps fmt-check vet
	$(GO) test -count=1 -timeout 12m ./...

bench-s3:
	./bench/s3.sh
