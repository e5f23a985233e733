# A Makefile fragment for a CI job that tests against gostly mocks instead of a real third-party
# API. Include it from your Makefile (`include gostly.mk`) and run `make test-with-mocks`.
#
#   mocks.tar.gz      the library bundle, committed or fetched as a CI artifact
#                     (made with `gostly-transition --export mocks.tar.gz`)
#   APP_TEST          your test command; it reaches the API at $$API_BASE_URL

GOSTLY        ?= gostly
GOSTLY_BUNDLE ?= mocks.tar.gz
GOSTLY_DIR    ?= .gostly-ci
APP_TEST      ?= ./run-tests.sh
export GHOST_API_KEY ?= ci-$(shell od -An -N8 -tx8 /dev/urandom | tr -d ' ')

.PHONY: test-with-mocks refresh-mocks

test-with-mocks:
	rm -rf $(GOSTLY_DIR) && mkdir -p $(GOSTLY_DIR)
	$(GOSTLY) transition --data $(GOSTLY_DIR)/data --import $(GOSTLY_BUNDLE)
	$(GOSTLY) serve --data $(GOSTLY_DIR)/data --mode MOCK --listen 127.0.0.1:0 --control 127.0.0.1:0 \
	  2> $(GOSTLY_DIR)/serve.log & echo $$! > $(GOSTLY_DIR)/serve.pid
	for i in $$(seq 100); do grep -q 'proxy listening on' $(GOSTLY_DIR)/serve.log && break; sleep 0.1; done
	API_BASE_URL=http://$$(grep -o 'proxy listening on [0-9.:]*' $(GOSTLY_DIR)/serve.log | cut -d' ' -f4) \
	  $(APP_TEST); status=$$?; kill $$(cat $(GOSTLY_DIR)/serve.pid); exit $$status

# Re-record against the real upstream (needs UPSTREAM) and refresh the bundle.
refresh-mocks:
	rm -rf $(GOSTLY_DIR) && mkdir -p $(GOSTLY_DIR)
	$(GOSTLY) record --upstream $(UPSTREAM) --listen 127.0.0.1:0 -- $(APP_TEST) \
	  | $(GOSTLY) transition --data $(GOSTLY_DIR)/data -
	$(GOSTLY) transition --data $(GOSTLY_DIR)/data --export $(GOSTLY_BUNDLE) --force
