# U-Boot chain tests (docs/boards.md): QEMU starts Debian's U-Boot for QEMU
# (u-boot-qemu) as its firmware, with a virtio disk whose FAT partition holds
# the boot.scr that tools/mkbootscr made and the files it loads. U-Boot's
# distro boot finds boot.scr by itself; the script loads setwise and the
# guests, adds the dom0less nodes to QEMU's device tree with `fdt`, and
# starts setwise with booti, as on a board. tests/qemu/uboot_chain.sh builds
# the disk at test time (into <build>/qemu-logs/<name>.d) and execs QEMU; it
# installs the packages it needs itself (tools/deps.sh).
#
# Included at the end of tests/qemu/CMakeLists.txt, after tests.cmake, whose
# add_qemu_test this uses.

set(UBOOT_CHAIN ${CMAKE_CURRENT_SOURCE_DIR}/uboot_chain.sh)
get_filename_component(UBOOT_LINUX_GUESTS ${SETWISE_IMAGE_DIR}/../linux-guests ABSOLUTE)
# What tools/mkbootscr is told of the board: QEMU virt's RAM (-m 2G from 1 GiB)
# and the disk U-Boot reads.
# The device tree is mkbootscr's default, U-Boot's own (${fdtcontroladdr}):
# QEMU's.
set(UBOOT_BOARD --memory 0x40000000 2G --load "load virtio 0:1" --image ${SETWISE_IMAGE})
set(UBOOT_MACHINE -M virt,virtualization=on,gic-version=3 -cpu cortex-a57 -smp 4 -m 2G
                  -display none -monitor none -serial stdio -nodefaults)
# Where boot.scr puts setwise and the device tree (mkbootscr's layout: RAM
# start + 2 MiB, then a 2 MiB DTB slot); booti leaves setwise there (Image
# header flags bit 3).
set(UBOOT_BOOTED "setwise ${SETWISE_VERSION} .* entered at EL2, image at 0x40200000, DTB at 0x40400000")

# add_uboot_test(NAME <n> [TIMEOUT s] MKBOOTSCR <tools/mkbootscr args>... <add_qemu_test args>...)
# add_qemu_test runs ${QEMU_AARCH64} <QEMU args>: here that is the chain
# script, given mkbootscr's arguments, then `--`, then QEMU's.
function(add_uboot_test)
    cmake_parse_arguments(U "" "NAME;TIMEOUT" "MKBOOTSCR;EXPECT;REJECT;FINISH" ${ARGN})
    set(real_qemu ${QEMU_AARCH64})
    set(QEMU_AARCH64 ${UBOOT_CHAIN})
    add_qemu_test(NAME ${U_NAME} TIMEOUT ${U_TIMEOUT} NO_DEFAULT_FAIL
        REJECT "PANIC" "unexpected exception on CPU" "SCRIPT FAILED" "boot.scr stopped" "setwise\\) error:"
               ${U_REJECT}
        EXPECT "Found U-Boot script /boot.scr"
               "setwise: booti 0x40200000 - 0x40400000"
               "Using Device Tree in place at 0+40400000"
               "${UBOOT_BOOTED}"
               ${U_EXPECT}
        FINISH "${U_FINISH}"
        QEMU --work ${QEMU_LOG_DIR}/${U_NAME}.d --qemu ${real_qemu} ${UBOOT_BOARD} ${U_MKBOOTSCR}
             -- ${UBOOT_MACHINE})
endfunction()

# Timeouts: measured (QEMU 7.2 TCG, 2 cores) 2.4-2.6 s to power-off for the
# test guest, 12-13.6 s for Linux; three times that, plus room for the first
# run on a fresh machine, which installs the packages (apt-get update too)
# inside the test.

# The in-tree AArch64 test guest: quick.
add_uboot_test(NAME uboot_a64_guest TIMEOUT 150
    MKBOOTSCR --append "loglvl=info"
              --domain "name=guest,kernel=${SETWISE_IMAGE_DIR}/guest-a64.img,memory=64M,vcpus=2,vpl011"
    REJECT "GUEST [-a-z0-9]+: FAIL"
    EXPECT "guest: AArch64 arm64 Image, 2 vCPU"
           "GUEST a64: dtb 0x[0-9a-f]+ magic ok"
           "GUEST a64: cpu1 up"
           "GUEST a64: done"
    FINISH "all domains have ended: powering off")

# Debian 12's 32-bit Linux (tools/linux-guests armhf) to userspace, 2 vCPUs.
add_uboot_test(NAME uboot_linux32 TIMEOUT 240
    MKBOOTSCR --domain "name=linux32,kernel=${UBOOT_LINUX_GUESTS}/armhf/zImage,ramdisk=${UBOOT_LINUX_GUESTS}/armhf/initrd.cpio.gz,memory=512M,vcpus=2,vpl011,bootargs='console=ttyAMA0 setwise.test=poweroff'"
    REJECT "Kernel panic" "Internal error: Oops" "BUG: " "Unable to handle kernel" "failed to come online"
    EXPECT "SETWISE-LINUX-UP kernel=6\\.1\\.0-[0-9]+-armmp arch=armv7l cpus=2"
           "SETWISE-LINUX-POWEROFF"
           "linux32: ended \\(power off\\)"
    FINISH "all domains have ended: powering off")

# The Image header with flags bit 3 clear (a copy of setwise.bin): booti
# will not leave such an image where it is loaded, so mkbootscr puts it at
# RAM base + text_offset (0x40000000) and the DTB after it; setwise must run
# there as well as at 0x40200000.
set(real_qemu ${QEMU_AARCH64})
set(QEMU_AARCH64 ${UBOOT_CHAIN})
add_qemu_test(NAME uboot_a64_guest_fixed_image TIMEOUT 150 NO_DEFAULT_FAIL
    REJECT "PANIC" "unexpected exception on CPU" "SCRIPT FAILED" "boot.scr stopped" "setwise\\) error:"
           "GUEST [-a-z0-9]+: FAIL"
    EXPECT "Image flags 0xa -> 0x2"
           "Found U-Boot script /boot.scr"
           "setwise: booti 0x40000000 - 0x40200000"
           "setwise ${SETWISE_VERSION} .* entered at EL2, image at 0x40000000, DTB at 0x40200000"
           "GUEST a64: cpu1 up"
           "GUEST a64: done"
    FINISH "all domains have ended: powering off"
    QEMU --work ${QEMU_LOG_DIR}/uboot_a64_guest_fixed_image.d --qemu ${real_qemu} --fixed-image ${SETWISE_IMAGE}
         ${UBOOT_BOARD} --append "loglvl=info"
         --domain "name=guest,kernel=${SETWISE_IMAGE_DIR}/guest-a64.img,memory=64M,vcpus=2,vpl011"
         -- ${UBOOT_MACHINE})
set(QEMU_AARCH64 ${real_qemu})

# tools/mkbootscr itself, without QEMU: the layout, the script's commands,
# the disk, and an error for each kind of mistake (tests/qemu/mkbootscr_test.py).
add_test(NAME tools.mkbootscr COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/mkbootscr_test.py)
set_tests_properties(tools.mkbootscr PROPERTIES TIMEOUT 300 LABELS tools)
