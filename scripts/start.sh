#!/usr/bin/env bash
# Brings the whole pipeline up (README "Start"): installs what is missing, starts the embedded
# Kafka + ClickHouse (unless KAFKA_BROKERS / CLICKHOUSE_URL are set), applies migrations, starts
# ingest, processors and api, and feeds the demo stream (DEMO=off to skip). Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${KAFKA_BROKERS:-}" ]; then export SKIP_KAFKA=1; fi
if [ -n "${CLICKHOUSE_URL:-}" ]; then export SKIP_CLICKHOUSE=1; fi
bash scripts/install.sh
exec npx tsx scripts/start.ts
