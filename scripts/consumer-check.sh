#!/usr/bin/env bash
# The README's "In your project", checked: `mvn install -DskipTests -pl java -am` puts io.reskern:reskern in the local
# Maven repository, then tests/consumer/ (a project with nothing but that dependency) is built and run with plain
# `java -cp`: the jar's own native libraries load from inside the jar (not from target/classes, as in the reactor's
# tests), a Predictor built from the dependency alone classifies, and the CLI's libraries (optional) are not on its
# classpath. Run by .ci/run after bin/test (~1 min).
# Extra Maven arguments are passed to both builds (e.g. -o, -Dmaven.repo.local=DIR, -Dreskern.cuda=OFF).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
echo "[consumer] mvn install -pl java -am"
mvn -B -q install -DskipTests -pl java -am "$@"
work="$(mktemp -d "${TMPDIR:-/tmp}/reskern-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r tests/consumer/. "$work/"
cd "$work"
echo "[consumer] a fresh project depending on io.reskern:reskern: build"
mvn -B -q package "$@"
mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory=lib "$@"
echo "[consumer] dependencies: $(ls lib | tr '\n' ' ')"
if ls lib | grep -E '^(picocli|xchart|progressbar|jline)' >/dev/null; then
  echo "[consumer] FAILED: the CLI's libraries reached a library user's classpath (they are optional in java/pom.xml)"; exit 1
fi
echo "[consumer] run (java -cp the jar and its dependencies)"
out="$(java -cp "target/classes:lib/*" demo.App 2>&1)" || { echo "$out"; echo "[consumer] FAILED"; exit 1; }
echo "$out" | tail -1
echo "$out" | grep -q "^consumer ok: " || { echo "$out"; echo "[consumer] FAILED"; exit 1; }
echo "[consumer] ok"
