#!/usr/bin/env bash
# Installs the Debian packages skymesh needs, only those that are missing (idempotent):
# Debian's python3.11 (the Triton Python backend stub embeds this libpython), venv, Java for
# Kafka, Maven to resolve Kafka's jars, and Go to build the OpenAPI generator (an older Go
# than it needs fetches the newer toolchain itself: skymesh/openapi.py), Node.js and npm for the
# web application, and Chromium for its browser tests.
set -euo pipefail

packages=(python3.11 python3.11-venv libpython3.11 maven postgresql chromium)
command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jre-headless)
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || packages+=(golang-go)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing system packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
