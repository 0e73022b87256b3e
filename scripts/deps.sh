#!/usr/bin/env bash
# Installs the Debian packages Strata's tests need, when they are missing.
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail

need=()
# command -> package
for pair in curl:curl chromium:chromium ffmpeg:ffmpeg; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing test dependencies: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
