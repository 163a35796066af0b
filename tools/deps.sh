# Sourced by tools/test and tools/run: install the Debian 12 packages setwise
# needs, only those missing, with apt-get --no-install-recommends.

setwise_install_packages() {
    local missing=()
    local p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setwise: installing ${missing[*]}" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "setwise: missing packages (${missing[*]}) and not root; install them first" >&2
            return 1
        fi
    fi
    # Foreign architectures (tools/linux-guests adds armhf/arm64) bring more
    # indexes; one that fails (a mirror mid-sync) must not stop the install,
    # which says itself whether a package is missing.
    $sudo apt-get update -qq || echo "setwise: apt-get update reported errors; installing anyway" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}

# What building and running the hypervisor needs.
SETWISE_RUN_PACKAGES=(cmake ninja-build git python3 gcc-aarch64-linux-gnu g++-aarch64-linux-gnu gcc-arm-linux-gnueabihf
                      qemu-system-arm device-tree-compiler)
# What the tests need besides: googletest, and clang with its sanitizer and
# libFuzzer runtimes.
SETWISE_TEST_PACKAGES=(g++ googletest libgtest-dev clang libclang-rt-14-dev)
# What tools/linux-guests needs to build the Linux guests' initramfs (apt,
# dpkg-deb, tar and gzip are part of every Debian system).
SETWISE_LINUX_GUEST_PACKAGES=(cpio)
# What booting through U-Boot needs (tools/mkbootscr, tools/run --uboot, the
# uboot_* QEMU tests): mkimage, QEMU's U-Boot build (u-boot.bin for
# qemu_arm64), and the FAT tools that build the boot disk without root.
SETWISE_UBOOT_PACKAGES=(u-boot-tools u-boot-qemu mtools dosfstools)
