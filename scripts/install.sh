#!/usr/bin/env bash
# Installs everything the pipeline and its tests need, idempotently and quickly when present:
#   1. Debian's clickhouse-server 18.16 (Debian 12 has it; on Debian 13 it comes from the
#      Debian 12 archive, pinned low so nothing else is taken from there);
#   2. the Apache Kafka broker jars from Maven Central (stack/kafka/pom.xml -> stack/kafka/libs);
#   3. node_modules with `npm ci` when package-lock.json changed.
# Skip a step with SKIP_CLICKHOUSE=1 / SKIP_KAFKA=1 (e.g. when using external services).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
t0=$(date +%s)

install_clickhouse() {
  if command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/bin/clickhouse ]; then return; fi
  echo "[install] clickhouse-server (Debian package)"
  local ver; ver=$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 12)
  if [ "${ver%%[!0-9]*}" -ge 13 ] 2>/dev/null || grep -qi 'trixie\|forky\|sid' /etc/debian_version; then
    # Debian 13+ has no clickhouse-server: take it (and only the old libraries it needs) from bookworm.
    echo "deb http://deb.debian.org/debian bookworm main" | $SUDO tee /etc/apt/sources.list.d/bookworm-clickhouse.list >/dev/null
    $SUDO tee /etc/apt/preferences.d/bookworm-clickhouse >/dev/null <<'PIN'
Package: *
Pin: release n=bookworm
Pin-Priority: 100

Package: clickhouse-server clickhouse-client clickhouse-common clickhouse-common-static
Pin: release n=bookworm
Pin-Priority: 600
PIN
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clickhouse-server >/dev/null
  # The package may start a system instance on the default ports; the pipeline runs its own.
  ($SUDO service clickhouse-server stop || true) >/dev/null 2>&1
}

install_kafka() {
  local libs="$ROOT/stack/kafka/libs" stamp="$ROOT/stack/kafka/libs/.pom.sha"
  local sum; sum=$(sha256sum stack/kafka/pom.xml | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return; fi
  echo "[install] Kafka broker jars (Maven Central)"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -B -f stack/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime
  echo "$sum" > "$stamp"
}

install_node() {
  local stamp="node_modules/.lock.sha"
  local sum; sum=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return; fi
  echo "[install] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$sum" > "$stamp"
}

[ "${SKIP_CLICKHOUSE:-}" = 1 ] || install_clickhouse
[ "${SKIP_KAFKA:-}" = 1 ] || install_kafka
install_node
echo "[install] ready in $(( $(date +%s) - t0 ))s"
