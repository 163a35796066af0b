// What kind of kernel a guest's kernel module holds, read from the image's
// own header. Two formats, nothing guessed:
//
//   ARM zImage (Linux arch/arm/boot/compressed/head.S, the words after the
//   eight-instruction start vector):
//
//     0x24  u32  magic 0x016f2818 (little-endian kernel)
//     0x28  u32  start: link address of the zImage, 0 if position-independent
//     0x2c  u32  end:   start + size of the zImage
//
//   An AArch32 vCPU runs it: SVC mode, MMU and caches off, r0 = 0,
//   r1 = ~0 (no machine number: the DTB describes the machine), r2 = DTB
//   (Linux Documentation/arch/arm/booting.rst).
//
//   arm64 Image (Linux Documentation/arch/arm64/booting.rst, "Call the
//   kernel image"), every field little-endian:
//
//     0x00  u32  code0          0x20  u64  res2
//     0x04  u32  code1          0x28  u64  res3
//     0x08  u64  text_offset    0x30  u64  res4
//     0x10  u64  image_size     0x38  u32  magic "ARM\x64" (0x644d5241)
//     0x18  u64  flags          0x3c  u32  res5 (PE header offset)
//
//   flags: bit 0 kernel endianness (1 = big), bits 2:1 page size
//   (0 unspecified, 1 4K, 2 16K, 3 64K), bit 3 placement (0: the 2 MiB
//   aligned base should be as close as possible to the start of RAM;
//   1: anywhere). An AArch64 vCPU runs it at EL1h with x0 = DTB.
//
// The blob is untrusted (a bootloader put whatever the user named there):
// every read is bounds-checked and byte-wise, so any alignment works.
#pragma once

#include <span>

#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::core {

enum class KernelKind : u8 {
    zimage_arm32, // ARM zImage: AArch32 vCPU in SVC mode
    image_arm64,  // arm64 Image: AArch64 vCPU at EL1h
};

inline constexpr u32 kZimageMagic = 0x016f2818;
inline constexpr u32 kZimageMagicSwapped = 0x18286f01; // a big-endian kernel's magic
inline constexpr usize kZimageMagicOffset = 0x24;
inline constexpr usize kZimageStartOffset = 0x28;
inline constexpr usize kZimageEndOffset = 0x2c;
inline constexpr usize kZimageHeaderSize = 0x30; // through `end`

inline constexpr u32 kArm64ImageMagic = 0x644d5241; // "ARM\x64"
inline constexpr usize kArm64TextOffsetOffset = 0x08;
inline constexpr usize kArm64ImageSizeOffset = 0x10;
inline constexpr usize kArm64FlagsOffset = 0x18;
inline constexpr usize kArm64MagicOffset = 0x38;
inline constexpr usize kArm64HeaderSize = 0x40;

// booting.rst: with image_size 0 (kernels before 3.17) text_offset is to be
// taken as 0x80000; the header field itself had no defined endianness.
inline constexpr u64 kArm64LegacyTextOffset = 0x80000;
// Nor do those kernels say how much memory they use past the end of the
// file (BSS, initial page tables, stack). U-Boot's booti assumes 16 MiB for
// them; setwise reserves the larger of that and the file rounded up to
// 2 MiB plus 2 MiB.
inline constexpr u64 kArm64LegacyMinimumSize = 16 * kMiB;
inline constexpr u64 kArm64LegacyMargin = 2 * kMiB;
// A text_offset at or above 2 MiB is rejected: booting.rst has the image
// placed text_offset bytes above a 2 MiB-aligned base, and every kernel
// ever built used an offset below 2 MiB (0x80000, randomised below 2 MiB,
// or 0 since Linux 5.8).
inline constexpr u64 kArm64MaxTextOffset = 2 * kMiB;

enum class Arm64PageSize : u8 { unspecified, k4, k16, k64 }; // flags bits 2:1

struct KernelImage {
    KernelKind kind = KernelKind::image_arm64;
    // Bytes of the blob that are the kernel, to be copied into guest RAM:
    // zImage end - start (an appended DTB or padding after it is not
    // copied); arm64 the whole blob.
    u64 copy_size = 0;
    // Bytes the kernel occupies from its load address as far as its header
    // says: arm64 max(image_size, blob size) — image_size includes BSS —
    // or the legacy estimate above; zImage copy_size. (A zImage's
    // decompressor needs more, beyond anything the header describes; the
    // domain builder places it with room to spare.)
    u64 memory_size = 0;

    // arm64 Image only; zero for a zImage.
    u64 text_offset = 0; // kArm64LegacyTextOffset for a legacy header
    u64 image_size = 0;  // the header's value: 0 in kernels before 3.17
    u64 flags = 0;
    bool legacy = false; // image_size was 0

    // zImage only; zero for an arm64 Image.
    u32 zimage_start = 0;
    u32 zimage_end = 0;

    constexpr bool aarch32() const { return kind == KernelKind::zimage_arm32; }
    constexpr Arm64PageSize page_size() const { return static_cast<Arm64PageSize>((flags >> 1) & 3); }
    // flags bit 3: the kernel may sit at any 2 MiB boundary of RAM.
    constexpr bool any_placement() const { return ((flags >> 3) & 1) != 0; }
    // "arm64 Image" or "ARM zImage".
    const char* kind_name() const;
};

const char* kernel_kind_name(KernelKind kind);

// Identifies `image`. Errors:
//   bad_magic        neither header's magic, or the blob is shorter than
//                    the header of the format (no guess either way)
//   unsupported      a big-endian kernel (zImage magic byte-swapped, or
//                    arm64 flags bit 0 set)
//   truncated        a zImage whose end - start exceeds the blob
//   invalid_argument a zImage whose end is not above its start; an arm64
//                    text_offset of 2 MiB or more
// The arm64 magic is checked first: a blob carrying both (the zImage magic
// would sit in the arm64 header's reserved res2) is an arm64 Image.
Result<KernelImage> detect_kernel(std::span<const u8> image);

} // namespace setwise::core
