#!/usr/bin/env bash
# Builds the Java client into build/classes (and build/wbpay-client.jar) with
# javac, JDK 11 or later, no third-party jars; with --test also the test
# program into build/test-classes. Installs a JDK when javac is missing
# (needs root). Never commit build/.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v javac >/dev/null 2>&1; then
  echo "build.sh: javac missing, installing default-jdk-headless"
  apt-get update -q && apt-get install -y -q default-jdk-headless
fi
rm -rf build/classes build/test-classes
mkdir -p build/classes
javac --release 11 -Xlint:all -Werror -encoding UTF-8 -d build/classes $(find src -name '*.java')
jar --create --file build/wbpay-client.jar -C build/classes .
echo "built build/wbpay-client.jar"
if [ "${1:-}" = "--test" ]; then
  mkdir -p build/test-classes
  javac --release 11 -Xlint:all -Werror -encoding UTF-8 -cp build/classes -d build/test-classes $(find test -name '*.java')
  echo "built build/test-classes"
fi
