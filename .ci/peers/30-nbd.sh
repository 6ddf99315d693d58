#!/usr/bin/env bash
# NBD servers for backends-native's NbdBlockCard tests: qemu-nbd (qemu-utils) and nbdkit with its
# memory plugin and error/delay filters (all in Debian's nbdkit package).
set -euo pipefail
missing=()
command -v qemu-nbd >/dev/null 2>&1 || missing+=(qemu-utils)
command -v nbdkit >/dev/null 2>&1 || missing+=(nbdkit)
if [ "${#missing[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
