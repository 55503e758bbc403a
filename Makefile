# The product's commands. Each one sets up whatever it needs first (scripts/stack/).
PYTHON ?= python3
STACK := $(PYTHON) scripts/stack

.PHONY: run run-scaled rolling-restart test setup api actions rasa train retrain bench lint lock clean help chat menu admin backup restore

# The username `make admin` creates (make admin ADMIN=alice).
ADMIN ?= admin
# `make run-scaled PROMETHEUS=1` also starts Prometheus beside the stack (as SCALED_PROMETHEUS=1 does).
PROMETHEUS ?=
# `make backup BACKUP_DIR=/srv/backups/x`, `make restore FROM=var/backups/x [FORCE=1]`; SCALED=1 for the scaled
# configuration (deploy/scaled.env), as `make run-scaled` reads it.
BACKUP_DIR ?=
FROM ?=
FORCE ?=
SCALED ?=
SCALED_FLAG = $(if $(filter 1 yes true,$(SCALED)),--scaled)

help:
	@echo "make run      set up what is missing and start API, action server and Rasa (Ctrl-C stops)"
	@echo "make run-scaled  the same on PostgreSQL and Redis, two processes of each behind HAProxy"
	@echo "               PROMETHEUS=1: and Prometheus with the alert rules on :9090 (PROMETHEUS_PORT)"
	@echo "make rolling-restart  replace each process of the running run-scaled in turn, dropping no message"
	@echo "make test     set up what is missing and run every test suite"
	@echo "make chat     talk to the bot as a WeChat resident in this terminal (needs make run)"
	@echo "make menu     install config/wechat_menu.yml on the platform (the simulator by default)"
	@echo "make admin    create the first staff administrator (ADMIN=name; password asked or ADMIN_PASSWORD)"
	@echo "make api | actions | rasa   start one service alone"
	@echo "make setup    environments, migrations and model, without starting anything"
	@echo "make train    train the Rasa model if config.yml, domain.yml or data/ changed"
	@echo "make retrain  train a candidate with the approved reviewed examples and check it (needs make run)"
	@echo "make backup   back up every database and the models into var/backups/<time> (BACKUP_DIR=, SCALED=1)"
	@echo "make restore FROM=dir   restore a backup into empty databases and migrate (FORCE=1 replaces data)"
	@echo "make bench    benchmarks; figures go to docs/benchmarks.md"
	@echo "make lint     ruff and mypy"
	@echo "make lock     re-resolve requirements/*.in into requirements/*.lock"

run:
	@$(STACK) serve all

# Two backends, two Rasa servers and two action servers behind HAProxy (deploy/haproxy.cfg), on the
# machine's PostgreSQL and Redis (deploy/scaled.env), on the same public ports (docs/deployment.md).
run-scaled:
	@$(if $(PROMETHEUS),SCALED_PROMETHEUS=$(PROMETHEUS) )$(STACK) serve scaled

# Every process of the running `make run-scaled` replaced one at a time, each drained from the balancer
# first and given traffic again once ready: no message is lost (docs/deployment.md, "Upgrading").
rolling-restart:
	@$(STACK) rolling-restart

test:
	@$(STACK) test

setup:
	@$(STACK) setup

api:
	@$(STACK) serve api

actions:
	@$(STACK) serve actions

rasa:
	@$(STACK) serve rasa

train:
	@$(STACK) train

# A candidate model: the repository's data and the reviewed examples approved in the console, trained at
# low priority on one core by the running backend's trainer, checked against the model in force; a
# supervisor rolls it out in the console (docs/bot.md, "Training, checking, rolling out").
retrain:
	@$(STACK) retrain

chat:
	@$(STACK) chat

menu:
	@$(STACK) menu

admin:
	@$(STACK) admin $(ADMIN)

# Every store that must not be lost and the served models, into one directory with its manifest
# (docs/deployment.md, "Backups and restore").
backup:
	@$(STACK) backup $(BACKUP_DIR) $(SCALED_FLAG)

restore:
	@$(STACK) restore $(FROM) $(if $(filter 1 yes true,$(FORCE)),--force) $(SCALED_FLAG)

bench:
	@$(STACK) bench

lint:
	@$(STACK) test lint

lock:
	@scripts/lock.sh

clean:
	rm -rf .venv var models results
