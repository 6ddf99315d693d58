#!/usr/bin/env bash
# Peers of backends-native's TapNetCard tests: ip (bridge, veth, netns, tuntap), ping and nc in the
# namespace, and python3 for the namespace's UDP echo service.
set -euo pipefail
missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
command -v nc >/dev/null 2>&1 || missing+=(netcat-openbsd)
command -v python3 >/dev/null 2>&1 || missing+=(python3-minimal)
if [ "${#missing[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
