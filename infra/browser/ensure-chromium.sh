#!/usr/bin/env bash
# Makes sure Debian's chromium is on PATH for the browser tests of the
# hosted connect page (infra/e2e/connectpage_browser_test.go). Installs it
# from Debian's package registry when it is missing and this machine can
# (root with apt-get, as CI is); otherwise says what to do and leaves the
# tests to skip locally (they fail under CI=true).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing: installing Debian's chromium (apt-get install chromium)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  command -v chromium >/dev/null 2>&1 && exit 0
  echo "apt-get installed chromium but it is not on PATH" >&2; exit 1
fi
echo "chromium is not installed and cannot be installed here (needs root and apt-get): the browser tests will skip (sudo apt-get install chromium)" >&2
if [ "${CI:-}" = true ]; then exit 1; fi
exit 0
