#!/usr/bin/env bash
# Makes sure a Chromium for the browser tests (internal/browsertest) is on
# PATH. Missing, it installs Debian's `chromium` package with apt-get, as root
# or through passwordless sudo: nothing is downloaded from anywhere else.
# Without a way to install it, it fails under CI (CI set, e.g. CI=true: the
# browser tests must run there) and otherwise only warns: the browser tests
# then skip, saying so.
set -euo pipefail

# The names the browser tests look for, in this order (browsertest.ExecNames).
names=(chromium chromium-browser)

found() {
  local n
  for n in "${names[@]}"; do
    if command -v "$n" >/dev/null 2>&1; then
      echo "chromium: $(command -v "$n")"
      return 0
    fi
  done
  return 1
}

found && exit 0

install=(apt-get install -y --no-install-recommends chromium)
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n DEBIAN_FRONTEND=noninteractive) # sudo resets the environment
else
  echo "chromium: not on PATH, and installing it needs root: ${install[*]}" >&2
  case "${CI:-}" in
    "" | false | 0) ;;
    *) exit 1 ;; # under CI the browser tests must run
  esac
  echo "chromium: the browser tests will be skipped" >&2
  exit 0
fi

echo "chromium: not on PATH; installing Debian's package: ${install[*]}"
"${as_root[@]}" apt-get update
"${as_root[@]}" "${install[@]}"
if ! found; then
  echo "chromium: apt-get installed the package but no ${names[*]} is on PATH" >&2
  exit 1
fi
