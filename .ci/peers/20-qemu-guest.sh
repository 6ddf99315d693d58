#!/usr/bin/env bash
# Real-guest peers (testkit dev.braid.testkit.guest): QEMU 7.2 with SeaBIOS/qboot and the PCI option
# ROMs (seabios, ipxe-qemu are hard dependencies of qemu-system-x86), busybox-static for the guest's
# initramfs, and a Debian guest kernel unpacked (never installed: no initramfs-tools, no bootloader)
# under $BRAID_GUEST_DIR (default /opt/braid-guest): vmlinuz, the ELF vmlinux cut out of it (booted
# through PVH, saving the in-guest decompression under TCG), and lib/modules/<version>/.
set -euo pipefail

need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
# qemu-storage-daemon (perf BlkLoadGeneratorTest, perf/vhost-blk-compare.sh); a dependency of qemu-system-x86.
command -v qemu-storage-daemon >/dev/null 2>&1 || need+=(qemu-system-common)
[ -x /bin/busybox ] && dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
# Dynamically linked tools copied into the guest with their libraries (testkit HostBinary):
# fio with verify (vhost-user GuestFioTest), sg_reset for a LUN reset from the guest (GuestScsiTest).
command -v fio >/dev/null 2>&1 || need+=(fio)
command -v sg_reset >/dev/null 2>&1 || need+=(sg3-utils)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)   # "standard", not "required": a slim image lacks it
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

guest_dir=${BRAID_GUEST_DIR:-/opt/braid-guest}
if [ ! -f "$guest_dir/vmlinux" ] || ! ls -d "$guest_dir"/lib/modules/*/kernel >/dev/null 2>&1; then
  # The versioned package that linux-image-amd64 points at, e.g. linux-image-6.1.0-50-amd64.
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
  [ -n "$pkg" ] || { echo "20-qemu-guest: cannot resolve the package behind linux-image-amd64" >&2; exit 1; }
  work=$(mktemp -d) && chmod 0777 "$work"   # apt-get download runs as _apt
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download -qq "$pkg" >/dev/null)
  dpkg-deb -x "$work"/"$pkg"_*.deb "$work/root"
  rm -rf "$guest_dir.new" && mkdir -p "$guest_dir.new/lib"
  cp "$work"/root/boot/vmlinuz-* "$guest_dir.new/vmlinuz"
  mv "$work/root/lib/modules" "$guest_dir.new/lib/modules"
  # The bzImage's payload is xz: cut it out at the first xz magic and decompress it to the ELF vmlinux.
  offset=$(LC_ALL=C grep -obUaP -m1 '\xfd7zXZ\x00' "$guest_dir.new/vmlinuz" | head -1 | cut -d: -f1 || true)
  [ -n "$offset" ] || { echo "20-qemu-guest: no xz payload in $pkg's bzImage" >&2; exit 1; }
  tail -c +"$((offset + 1))" "$guest_dir.new/vmlinuz" | xz -dc --single-stream > "$guest_dir.new/vmlinux" 2>/dev/null || true
  head -c 4 "$guest_dir.new/vmlinux" | grep -q 'ELF' || { echo "20-qemu-guest: no ELF vmlinux in $pkg's bzImage" >&2; exit 1; }
  rm -rf "$guest_dir" && mv "$guest_dir.new" "$guest_dir"
fi
