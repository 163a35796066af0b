#!/usr/bin/env bash
# tests/qemu/uboot_chain.sh: boot setwise on QEMU through U-Boot, as on a board.
#
#   uboot_chain.sh --work DIR --qemu QEMU [tools/mkbootscr arguments] -- [QEMU arguments]
#
# Installs what it needs (tools/deps.sh, SETWISE_UBOOT_PACKAGES), runs
# tools/mkbootscr with the given arguments plus `-o DIR --disk DIR/disk.img`
# (boot.cmd, boot.scr and an MBR disk with one FAT32 partition holding them and
# the files), then execs QEMU with the given arguments plus Debian's U-Boot for
# QEMU as firmware and the disk as a virtio-mmio block device. U-Boot's distro
# boot finds boot.scr on it by itself. The uboot_* QEMU tests run this through
# run_qemu_test.py (tests/qemu/uboot.cmake).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UBOOT_BIN=${SETWISE_UBOOT_BIN:-/usr/lib/u-boot/qemu_arm64/u-boot.bin}

work=
qemu=qemu-system-aarch64
while [ $# -gt 0 ]; do
    case "$1" in
        --work) work=$2; shift 2 ;;
        --qemu) qemu=$2; shift 2 ;;
        *) break ;;
    esac
done
[ -n "$work" ] || { echo "uboot_chain.sh: --work DIR is required" >&2; exit 2; }
mk=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    mk+=("$1")
    shift
done
[ $# -gt 0 ] && shift # the --
mkdir -p "$work"

# Two tests may start at once: one apt-get at a time.
. "$ROOT/tools/deps.sh"
(
    flock 9
    setwise_install_packages "${SETWISE_UBOOT_PACKAGES[@]}"
) 9>"${TMPDIR:-/tmp}/setwise-uboot-deps.lock"
[ -f "$UBOOT_BIN" ] || { echo "uboot_chain.sh: $UBOOT_BIN missing (package u-boot-qemu)" >&2; exit 1; }

rm -f "$work/disk.img"
"$ROOT/tools/mkbootscr" "${mk[@]}" -o "$work" --disk "$work/disk.img"
echo "uboot_chain.sh: booting U-Boot ($UBOOT_BIN) with $work/disk.img"
exec "$qemu" "$@" -bios "$UBOOT_BIN" \
    -drive if=none,file="$work/disk.img",format=raw,id=d0 -device virtio-blk-device,drive=d0
