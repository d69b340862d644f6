#!/usr/bin/env bash
# The whole test suite (README "Test"): installs what is missing, then runs vitest — unit tests,
# integration tests on the real Kafka and ClickHouse (started by the test setup unless
# KAFKA_BROKERS / CLICKHOUSE_URL are set), lint and type-check (scripts/static-checks.test.ts).
# Results are also written as JSON to .local/test-results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
mkdir -p .local
exec npx vitest run --reporter=default --reporter=json --outputFile.json=.local/test-results.json "$@"
