# make radio   runs the radio on the built-in demo catalogue
# make test    runs the whole test suite, with short fuzz runs
GO ?= go
FUZZTIME ?= 5s

.PHONY: radio test vet fuzz deps test-deps

radio: deps
	$(GO) run ./examples/radio

test: test-deps vet
	$(GO) test -count=1 ./...
	$(MAKE) fuzz

vet:
	$(GO) vet ./...

# Each fuzz target runs briefly; longer runs are `make fuzz FUZZTIME=10m`.
fuzz:
	@scripts/fuzz-all $(FUZZTIME)

deps:
	@scripts/install-deps build

test-deps:
	@scripts/install-deps test
	@cd examples/radio/browsertest && npm ci --no-audit --no-fund --silent
