# kubelab.cluster developer entry points. `make setup` then `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
COLLECTION_LINK := $(VENV)/collections/ansible_collections/kubelab/cluster
SANITY_DIR ?= build/sanity
SANITY_ROOT := $(SANITY_DIR)/ansible_collections/kubelab/cluster
# e.g. SANITY_ARGS='--test validate-modules plugins/modules/kubeadm_init.py'
SANITY_ARGS ?=
SANITY_PYTHON ?= $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# The smoke scenario first, then the others by name.
MOLECULE_SCENARIOS ?= default $(filter-out default,$(notdir $(wildcard molecule/*)))
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)
# Molecule platforms read the node image from here (see .config/molecule/config.yml).
export KUBELAB_NODE_IMAGE ?= $(shell scripts/build-node-image.sh --print-name)

.PHONY: help system-deps pip-bootstrap setup test lint yamllint ansible-lint sanity unit collection molecule docker node-image build bench lab lab-destroy lab-check clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	@# kmock left requirements.txt; an older venv still has it and its pytest plugin fails to load.
	$(BIN)/pip uninstall --quiet --yes kmock 2>/dev/null || true
	touch $@

# galaxy-importer in a venv of its own (under .venv, ignored like it): it pins attrs<24, flake8<7
# and ansible-lint<=26.10.1, which must not hold back the tools above. ansible and ansible-lint
# at our pins so its lint resolves the collections galaxy.yml depends on.
GALAXY_IMPORTER := galaxy-importer==0.4.44
IMPORTER_VENV := $(VENV)/importer
$(IMPORTER_VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(IMPORTER_VENV)
	$(IMPORTER_VENV)/bin/pip install --quiet --upgrade pip
	$(IMPORTER_VENV)/bin/pip install --quiet $(GALAXY_IMPORTER) $$(grep -E '^(ansible|ansible-core|ansible-lint)==' requirements.txt)
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

# ansible-test downloads a pip bootstrap script from a host CI cannot reach; put an
# offline stand-in in its cache (tests/sanity/get_pip_offline.py says how it works).
PIP_BOOTSTRAP = $(HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(shell sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" $(VENV)/lib/python*/site-packages/ansible_test/_internal/python_requirements.py | head -n1)).py

pip-bootstrap: $(VENV)/.installed
	@mkdir -p $(HOME)/.ansible/test/cache
	@cmp -s tests/sanity/get_pip_offline.py $(PIP_BOOTSTRAP) || cp tests/sanity/get_pip_offline.py $(PIP_BOOTSTRAP)

system-deps:
	scripts/install-system-deps.sh

setup: system-deps $(VENV)/.installed $(IMPORTER_VENV)/.installed $(COLLECTION_LINK) pip-bootstrap ## Install everything (venv, pinned tools, collection link)
	@$(BIN)/ansible-galaxy collection list kubelab.cluster 2>/dev/null | grep -q kubelab.cluster
	@echo "setup done: kubelab.cluster resolves from $(COLLECTION_LINK)"

test: lint sanity unit collection molecule lab-check ## Every check: lint, sanity, unit, collection build, molecule, the local lab

lint: yamllint ansible-lint ## yamllint and ansible-lint (production profile)

yamllint:
	$(BIN)/yamllint --strict .

ansible-lint:
	$(BIN)/ansible-lint --offline --strict

sanity: ## ansible-test sanity on a copy under build/sanity/ansible_collections/kubelab/cluster
	rm -rf $(SANITY_DIR) && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard -z | xargs -0 -I{} sh -c 'if test -e "{}"; then printf "%s\0" "{}"; fi' | tar --null -T - -cf - | tar -C $(SANITY_ROOT) -xf -
	cd $(SANITY_ROOT) && git init -q && git add -A && \
	  $(BIN)/ansible-test sanity --venv --python $(SANITY_PYTHON) --color no $(SANITY_ARGS)

unit: ## pytest on parsers, modules, filters and role metadata
	$(BIN)/pytest -q tests/unit

molecule: docker node-image ## Molecule scenarios in Docker (MOLECULE_SCENARIOS="default node ...")
	@# Each scenario's time in the log: where CI's time goes.
	for s in $(MOLECULE_SCENARIOS); do start=$$(date +%s); $(BIN)/molecule test -s $$s; \
	  echo "molecule: $$s passed in $$(( $$(date +%s) - start )) s"; done

docker: ## Start a Docker engine if none answers
	scripts/ensure-docker.sh

node-image: docker ## Build the local Debian 12 systemd node image (reused when present)
	scripts/build-node-image.sh

collection: $(IMPORTER_VENV)/.installed ## Build the tarball, install it offline, ansible-doc every plugin, galaxy-importer
	KUBELAB_IMPORTER_VENV=$(IMPORTER_VENV) scripts/check-collection-build.sh

build: ## Build the collection tarball
	$(BIN)/ansible-galaxy collection build --force --output-path build/

BENCH_ARCHIVE_MB ?= 0
BENCH_WORKERS ?= 2
bench: docker node-image ## Benchmark the lab (BENCH_WORKERS=N): site.yml cold/rerun/add one worker vs the walkthrough's shell commands
	KUBELAB_BENCH_ARCHIVE_MB=$(BENCH_ARCHIVE_MB) KUBELAB_BENCH_WORKERS=$(BENCH_WORKERS) scripts/bench.sh

# The local lab (playbooks/local_lab.yml): three node containers built by site.yml. Offline (the test repository,
# whose kubeadm, kubelet and kubectl are TEST DOUBLES) unless this machine reaches pkgs.k8s.io; LAB_OFFLINE=true|false decides.
LAB_NAME ?= kubelab-lab
# Asked once, when a lab target first needs it (this memoizes the recursive variable).
ifeq ($(origin LAB_OFFLINE),undefined)
LAB_OFFLINE = $(eval LAB_OFFLINE := $(shell curl -fsS --max-time 5 -o /dev/null https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key \
  2>/dev/null && echo false || echo true))$(LAB_OFFLINE)
endif
LAB_PLAYBOOK = $(BIN)/ansible-playbook -i inventory/local_lab/hosts.yml -e kubelab_lab_name=$(LAB_NAME)

lab: docker node-image ## Start the local 3-node lab in Docker and build the cluster on it (LAB_OFFLINE=true: test doubles)
	@if [ "$(LAB_OFFLINE)" = true ]; then echo "make lab: pkgs.k8s.io is out of reach (or LAB_OFFLINE=true): the offline test repository," \
	  "whose kubeadm, kubelet and kubectl are TEST DOUBLES, not Kubernetes"; fi
	$(LAB_PLAYBOOK) -e kubelab_lab_offline=$(LAB_OFFLINE) playbooks/local_lab.yml

lab-destroy: ## Remove the local lab: its containers, network, volumes (by label kubelab.lab) and build/<lab name>
	$(LAB_PLAYBOOK) playbooks/local_lab_destroy.yml

lab-check: docker node-image ## CI: make lab, a rerun with 0 changed, make lab-destroy, nothing left behind
	KUBELAB_LAB_NAME=$(LAB_NAME) KUBELAB_LAB_OFFLINE=$(LAB_OFFLINE) scripts/check-local-lab.sh

clean:
	rm -rf build .pytest_cache .hypothesis
