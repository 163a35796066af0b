#!/usr/bin/env bash
# tests/qemu/uboot_chain.sh: boot setwise on QEMU through U-Boot, as on a board.
#
#   uboot_chain.sh --work DIR --qemu QEMU [--fixed-image IMAGE] [tools/mkbootscr arguments] -- [QEMU arguments]
#
# --fixed-image IMAGE: boot a copy of the arm64 Image IMAGE whose header has
# flags bit 3 clear ("must sit at RAM base + text_offset"), instead of the
# --image given to mkbootscr: the case booti treats as not relocatable.
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
fixed=
while [ $# -gt 0 ]; do
    case "$1" in
        --work) work=$2; shift 2 ;;
        --qemu) qemu=$2; shift 2 ;;
        --fixed-image) fixed=$2; shift 2 ;;
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

if [ -n "$fixed" ]; then
    # The arm64 Image header's flags are the u64 at offset 0x18 (Linux's
    # Documentation/arm64/booting.rst); bit 3 set: "anywhere 2 MiB-aligned".
    python3 - "$fixed" "$work/setwise-fixed.bin" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
flags = struct.unpack_from("<Q", d, 0x18)[0]
struct.pack_into("<Q", d, 0x18, flags & ~8)
open(sys.argv[2], "wb").write(d)
print("uboot_chain.sh: Image flags %#x -> %#x" % (flags, flags & ~8))
PY
    mk+=(--image "$work/setwise-fixed.bin")
fi
rm -f "$work/disk.img"
"$ROOT/tools/mkbootscr" "${mk[@]}" -o "$work" --disk "$work/disk.img"
echo "uboot_chain.sh: booting U-Boot ($UBOOT_BIN) with $work/disk.img"
exec "$qemu" "$@" -bios "$UBOOT_BIN" \
    -drive if=none,file="$work/disk.img",format=raw,id=d0 -device virtio-blk-device,drive=d0
