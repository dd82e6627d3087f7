#!/usr/bin/env bash
# Builds bin/WbPay.dll (and, with --test, bin/WbPayTest.exe) with Mono's mcs
# (its default profile, 4.5; Debian ships no reference assemblies for -sdk). Installs the Debian packages when
# mcs is missing (needs root). Never commit bin/.
set -euo pipefail
cd "$(dirname "$0")"
pkgs="mono-mcs libmono-system-net-http4.0-cil libmono-system-runtime-serialization4.0-cil"
if ! command -v mcs >/dev/null 2>&1; then
  echo "build.sh: mcs missing, installing $pkgs"
  apt-get update -q && apt-get install -y -q $pkgs
fi
mkdir -p bin
mcs -nologo -target:library -langversion:5 -optimize+ -warnaserror+ -nowarn:1591 -doc:bin/WbPay.xml \
  -r:System.dll -r:System.Net.Http.dll -out:bin/WbPay.dll src/*.cs
echo "built bin/WbPay.dll"
if [ "${1:-}" = "--test" ]; then
  mcs -nologo -target:exe -warnaserror+ -r:bin/WbPay.dll -r:System.dll -r:System.Net.Http.dll \
    -out:bin/WbPayTest.exe test/*.cs
  echo "built bin/WbPayTest.exe"
fi
