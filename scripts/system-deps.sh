#!/usr/bin/env bash
# What `make test` needs that pip cannot install, from the OS packages (Debian names):
#   Java 17           openjdk-17-jre-headless   the Spark tests (pyspark starts a JVM)
#   PostgreSQL server postgresql                the PostgreSQL tests start their own server (initdb, pg_ctl)
#   Chromium          chromium                  the dashboard's browser tests (Playwright drives it)
# Run as root with apt-get, it installs what is missing; otherwise it stops at once and prints
# the exact command to run. It installs nothing that is already there.
set -euo pipefail

missing=()
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  missing+=(openjdk-17-jre-headless)
fi
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  missing+=(postgresql)
fi
if ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

install="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "${EUID}" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[system-deps] installing what pip cannot: ${missing[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "[system-deps] installed: ${missing[*]}"
else
  echo "[system-deps] error: make test needs ${missing[*]}, which pip cannot install. Run, as root:" >&2
  echo "    $install" >&2
  echo "then run make test again. (make build needs none of them.)" >&2
  exit 1
fi
