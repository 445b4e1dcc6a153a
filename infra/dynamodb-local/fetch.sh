#!/usr/bin/env bash
# Fetches DynamoDB Local (the official emulator) from the npm package that
# carries it, checks the tarball against a pinned integrity hash, and unpacks
# only emulator/ into the git-ignored cache. Idempotent: does nothing when the
# jar is already there.
set -euo pipefail

VERSION=2.9.30
# npm's dist.integrity for amplify-dynamodb-simulator@2.9.30
INTEGRITY='sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=='

root=$(cd "$(dirname "$0")/../.." && pwd)
dest=${DYNAMODB_LOCAL_DIR:-$root/.cache/dynamodb-local}
jar=$dest/emulator/DynamoDBLocal.jar

if [ -f "$jar" ]; then
  exit 0
fi

command -v npm >/dev/null || { echo "fetch.sh: npm is needed to fetch DynamoDB Local" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch.sh: java (17+) is needed to run DynamoDB Local" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm pack "amplify-dynamodb-simulator@$VERSION" --silent >/dev/null 2>&1 ) \
  || { echo "fetch.sh: npm pack amplify-dynamodb-simulator@$VERSION failed" >&2; exit 1; }
tgz=$(ls "$work"/amplify-dynamodb-simulator-*.tgz)

got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "fetch.sh: integrity mismatch for amplify-dynamodb-simulator@$VERSION" >&2
  echo "  want $INTEGRITY" >&2
  echo "  got  $got" >&2
  exit 1
fi

mkdir -p "$dest.tmp"
tar -xzf "$tgz" -C "$dest.tmp" --strip-components=1 package/emulator
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "DynamoDB Local $VERSION unpacked into $dest/emulator"
