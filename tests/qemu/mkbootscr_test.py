#!/usr/bin/env python3
"""Checks of tools/mkbootscr without QEMU: the layout, the script it writes,
the FAT disk, and one clear error (non-zero exit) for each kind of mistake.

Made-up files stand in for setwise and the kernels (only their headers and
sizes matter). Needs mkimage, mkfs.vfat and mtools: installed first through
tools/deps.sh, as tests/qemu/uboot_chain.sh does. Ends with "N passed,
N failed"; exits non-zero on any failure.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MKBOOTSCR = os.path.join(ROOT, "tools", "mkbootscr")
MiB = 1 << 20
results = []


def check(name, cond, detail=""):
    results.append(cond)
    print("%s: %s%s" % ("PASS" if cond else "FAIL", name, "" if cond or not detail else " -- " + detail))


def install_packages():
    lock = os.path.join(os.environ.get("TMPDIR", "/tmp"), "setwise-uboot-deps.lock")
    script = '. "%s/tools/deps.sh"; ( flock 9; setwise_install_packages "${SETWISE_UBOOT_PACKAGES[@]}" ) 9>"%s"' % (
        ROOT, lock)
    subprocess.run(["bash", "-c", script], check=True)


def arm64_image(path, size, image_size, flags=0xA):
    hdr = bytearray(64)
    struct.pack_into("<IIQQQ", hdr, 0, 0x14000010, 0, 0, image_size, flags)
    struct.pack_into("<I", hdr, 0x38, 0x644D5241)
    with open(path, "wb") as f:
        f.write(bytes(hdr) + bytes(size - 64))


def zimage(path, size):
    hdr = bytearray(0x30)
    struct.pack_into("<III", hdr, 0x24, 0x016F2818, 0, size)
    with open(path, "wb") as f:
        f.write(bytes(hdr) + bytes(size - 0x30))


def blob(path, size):
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b" + bytes(size - 2))


def mkbootscr(args, cwd):
    r = subprocess.run([sys.executable, MKBOOTSCR] + args, cwd=cwd, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    install_packages()
    with tempfile.TemporaryDirectory(prefix="mkbootscr-test-") as t:
        arm64_image(os.path.join(t, "setwise.bin"), 300 * 1024, 0xA1000)
        zimage(os.path.join(t, "zImage"), 5 * MiB + 123)
        blob(os.path.join(t, "initrd.cpio.gz"), 900 * 1024)
        os.mkdir(os.path.join(t, "a64"))
        arm64_image(os.path.join(t, "a64", "Image"), 3 * MiB, 20 * MiB, flags=0xA)
        blob(os.path.join(t, "a64", "initrd.cpio.gz"), 2 * MiB + 1)
        base = """[board]
memory = 0x40000000 1G
load = load mmc 0:1
[hypervisor]
image = setwise.bin
bootargs = loglvl=info sw-tracking=off
[domain dom32]
kernel = zImage
ramdisk = initrd.cpio.gz
memory = 256M
vcpus = 2
bootargs = console=ttyAMA0 rdinit=/init
sw-tracking = off
vcpu1 = 2-3
[domain dom64]
kernel = a64/Image
ramdisk = a64/initrd.cpio.gz
memory = 128M
vpl011 = no
"""
        write(os.path.join(t, "good.ini"), base)
        out = os.path.join(t, "out")
        rc, so, se = mkbootscr(["good.ini", "-o", out, "--disk", os.path.join(out, "disk.img")], t)
        check("a good configuration succeeds", rc == 0, se)
        cmd = open(os.path.join(out, "boot.cmd")).read() if rc == 0 else ""
        expect = [
            "setenv fdt_high 0xffffffffffffffff",
            "fdt addr ${fdtcontroladdr}",
            "fdt move ${fdtcontroladdr} 0x40400000 0x200000",
            "fdt addr 0x40400000",
            "fdt resize 0x10000",
            "load mmc 0:1 0x40200000 setwise.bin || setenv sw_error 1",
            'setenv bootargs "loglvl=info sw-tracking=off"',
            'fdt set /chosen bootargs "loglvl=info sw-tracking=off"',
            "fdt mknode /chosen dom32",
            'fdt set /chosen/dom32 compatible "xen,domain"',
            "fdt set /chosen/dom32 \\#address-cells <0x2>",
            "fdt set /chosen/dom32 \\#size-cells <0x2>",
            "fdt set /chosen/dom32 memory <0x0 0x40000>",
            "fdt set /chosen/dom32 cpus <0x2>",
            "fdt set /chosen/dom32 vpl011",
            'fdt set /chosen/dom32 setwise,sw-tracking "off"',
            "load mmc 0:1 0x40600000 zImage || setenv sw_error 1",
            "setenv sw_d1_kernel_size 0x${filesize}",
            "fdt mknode /chosen/dom32 module@40600000",
            'fdt set /chosen/dom32/module@40600000 compatible "multiboot,kernel" "multiboot,module"',
            "fdt set /chosen/dom32/module@40600000 reg <0x0 0x40600000 0x0 ${sw_d1_kernel_size}>",
            'fdt set /chosen/dom32/module@40600000 bootargs "console=ttyAMA0 rdinit=/init"',
            # zImage of 5 MiB + 123 bytes takes a 6 MiB slot
            "load mmc 0:1 0x40c00000 dom32-initrd.cpio.gz || setenv sw_error 1",
            'fdt set /chosen/dom32/module@40c00000 compatible "multiboot,ramdisk" "multiboot,module"',
            "fdt set /chosen/dom32/module@40c00000 reg <0x0 0x40c00000 0x0 ${sw_d1_ramdisk_size}>",
            "fdt mknode /chosen/dom32 vcpu1",
            'fdt set /chosen/dom32/vcpu1 compatible "xen,vcpu"',
            "fdt set /chosen/dom32/vcpu1 id <0x1>",
            'fdt set /chosen/dom32/vcpu1 hard-affinity "2-3"',
            "fdt set /chosen/dom64 memory <0x0 0x20000>",
            "fdt set /chosen/dom64 cpus <0x1>",
            "load mmc 0:1 0x40e00000 Image || setenv sw_error 1",
            "load mmc 0:1 0x41200000 dom64-initrd.cpio.gz || setenv sw_error 1",
            "booti 0x40200000 - 0x40400000; fi",
        ]
        missing = [e for e in expect if e not in cmd.splitlines() and not any(
            line.endswith(e) for line in cmd.splitlines())]
        check("boot.cmd has every expected command", not missing, "missing: %r" % missing[:3])
        check("the order: DTB prepared, then setwise, domains, booti last",
              0 <= cmd.find("fdt resize") < cmd.find("setwise.bin ||") < cmd.find("mknode /chosen dom32")
              < cmd.find("mknode /chosen dom64") < cmd.rfind("booti"))
        check("dom64 has no vpl011 and no bootargs", "/chosen/dom64 vpl011" not in cmd
              and "dom64/module@40e00000 bootargs" not in cmd)
        check("no size is hard-coded in a reg", all("${sw_d" in l for l in cmd.splitlines() if " reg <" in l))
        addrs = [int(a, 16) for a in re.findall(r"^load mmc 0:1 (0x[0-9a-f]+)", cmd, re.M)]
        check("every file on a 2 MiB boundary", addrs and all(a % (2 * MiB) == 0 for a in addrs), repr(addrs))
        check("each load checks its size against its slot",
              cmd.count("if itest 0x${filesize} -gt") == len(addrs))
        with open(os.path.join(out, "boot.scr"), "rb") as f:
            h = f.read(64)
        check("boot.scr is a U-Boot script image (mkimage -T script)",
              struct.unpack(">I", h[:4])[0] == 0x27051956 and h[30] == 6 and h[29] == 22, h[:32].hex())
        lst = subprocess.run(["mdir", "-b", "-i", os.path.join(out, "disk.img") + "@@1M", "::"],
                             capture_output=True, text=True).stdout
        names = sorted(os.path.basename(x.strip()) for x in lst.split())
        check("the disk's FAT partition holds the script and every file",
              names == sorted(["boot.scr", "boot.cmd", "setwise.bin", "zImage", "dom32-initrd.cpio.gz",
                               "Image", "dom64-initrd.cpio.gz"]), repr(names))
        with open(os.path.join(out, "disk.img"), "rb") as f:
            mbr = f.read(512)
        check("the disk has an MBR with a bootable FAT32 partition from 1 MiB",
              mbr[510:] == b"\x55\xaa" and mbr[446] == 0x80 and mbr[450] == 0x0C
              and struct.unpack_from("<I", mbr, 454)[0] == 2048)

        # A DTB file instead of U-Boot's, TFTP, a directory on the medium.
        blob(os.path.join(t, "board.dtb"), 40 * 1024)
        write(os.path.join(t, "dtb.ini"), base.replace("load = load mmc 0:1",
                                                       "load = tftpb\ndtb = board.dtb\nprefix = sw/"))
        rc, so, se = mkbootscr(["dtb.ini", "-o", os.path.join(t, "out2"), "--copy"], t)
        cmd = open(os.path.join(t, "out2", "boot.cmd")).read() if rc == 0 else ""
        check("a DTB file is loaded into its slot and edited there",
              rc == 0 and "tftpb 0x40400000 sw/board.dtb || setenv sw_error 1" in cmd
              and "fdt move" not in cmd and "tftpb 0x40200000 sw/setwise.bin" in cmd, se)
        check("--copy puts the files under their boot names",
              all(os.path.isfile(os.path.join(t, "out2", n)) for n in
                  ("board.dtb", "zImage", "dom32-initrd.cpio.gz", "dom64-initrd.cpio.gz")))

        # Command-line only, tools/qemu-virt's --domain syntax.
        rc, so, se = mkbootscr(["--memory", "0x40000000", "2G", "--load", "load virtio 0:1", "--image",
                                "setwise.bin", "--domain",
                                "name=g,kernel=zImage,memory=64M,vcpus=1,vpl011,bootargs='a b'",
                                "-o", os.path.join(t, "out3")], t)
        cmd = open(os.path.join(t, "out3", "boot.cmd")).read() if rc == 0 else ""
        check("--domain SPEC works without a configuration file",
              rc == 0 and "fdt set /chosen/g vpl011" in cmd and 'bootargs "a b"' in cmd
              and "setenv bootargs\n" in cmd, se)

        def bad(name, ini, pattern, args=None):
            path = os.path.join(t, "bad.ini")
            write(path, ini)
            rc, so, se = mkbootscr((args or ["bad.ini"]) + ["-o", os.path.join(t, "bad")], t)
            check(name, rc == 1 and re.search(pattern, se) is not None and se.count("\n") <= 4,
                  "rc %d: %s" % (rc, se.strip()))

        bad("files that do not fit: an error saying by how much",
            base.replace("0x40000000 1G", "0x40000000 72M"),
            r"do not fit in the board's RAM(.|\n)*the layout needs \[0x40200000, 0x41600000\): 14 MiB past "
            r"the limit 0x40800000")
        bad("a typo in a key is an error", base.replace("vcpus = 2", "vcpu = 2"), r"\[domain dom32\]: vcpu: unknown key")
        bad("an unknown section is an error", base + "[dom0]\nkernel = x\n", r"unknown section \[dom0\]")
        bad("a missing file is an error", base.replace("a64/Image", "a64/Nope"), r"domain dom64: kernel: .*Nope: no such file")
        bad("a quote in bootargs is an error", base.replace("rdinit=/init", 'x="y"'), r"cannot be passed through a U-Boot script")
        bad("memory that is not a size", base.replace("memory = 128M", "memory = lots"), r"'lots' is not a size")
        bad("too many vCPUs", base.replace("vcpus = 2", "vcpus = 17"), r"vcpus 17: 1 to 16")
        bad("affinity of a vCPU the domain lacks", base.replace("vcpu1 = 2-3", "vcpu2 = 2-3"), r"vcpu2: the domain has 2 vCPUs")
        bad("a domain name that is not a node name", base.replace("[domain dom64]", "[domain dom 64]"), r"node name")
        bad("a hypervisor that is not an arm64 Image", base.replace("image = setwise.bin", "image = zImage"),
            r"not an arm64 Image")
        bad("no RAM given", base.replace("memory = 0x40000000 1G\n", ""), r"no RAM given")
        bad("RAM not 2 MiB aligned", base.replace("0x40000000 1G", "0x40001000 1G"), r"not 2 MiB aligned")
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
