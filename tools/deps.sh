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
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}

# What building and running the hypervisor needs.
SETWISE_RUN_PACKAGES=(cmake ninja-build git python3 gcc-aarch64-linux-gnu g++-aarch64-linux-gnu gcc-arm-linux-gnueabihf
                      qemu-system-arm device-tree-compiler)
# What the tests need besides: googletest, and clang with its sanitizer and
# libFuzzer runtimes.
SETWISE_TEST_PACKAGES=(g++ googletest libgtest-dev clang libclang-rt-14-dev)
