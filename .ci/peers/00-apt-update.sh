#!/usr/bin/env bash
# Refreshes the package index once, if any peer script will need it and it is older than a day.
set -euo pipefail
stamp=/var/lib/apt/periodic/braid-update-stamp
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
