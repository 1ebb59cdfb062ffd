# The two commands in the README. Both install what is missing first.
.PHONY: run test

run: ## Build (release) and serve Aura on SQLite at http://127.0.0.1:3000
	bash scripts/run.sh

test: ## Format check, clippy, Rust tests on SQLite and PostgreSQL, Playwright
	bash scripts/test.sh
