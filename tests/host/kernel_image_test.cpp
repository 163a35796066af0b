// core/kernel_image: hand-built zImage and arm64 Image headers at their
// exact offsets (Linux arch/arm/boot/compressed/head.S and
// Documentation/arch/arm64/booting.rst), every truncation below a header,
// big-endian kernels, legacy image_size 0 and malformed fields.
#include "core/kernel_image.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace setwise::core {
namespace {

void put32(std::vector<u8>& b, usize off, u32 v) {
    for (usize i = 0; i < 4; ++i) b[off + i] = static_cast<u8>(v >> (8 * i));
}

void put64(std::vector<u8>& b, usize off, u64 v) {
    put32(b, off, static_cast<u32>(v));
    put32(b, off + 4, static_cast<u32>(v >> 32));
}

// A zImage of `total` bytes whose header says [start, end).
std::vector<u8> zimage(usize total, u32 start, u32 end) {
    std::vector<u8> b(total, 0);
    // The eight-word start vector is `mov r0, r0` (0xe1a00000) in real
    // images; filling it keeps the test image close to one.
    for (usize off = 0; off < 0x20 && off + 4 <= total; off += 4) put32(b, off, 0xe1a00000);
    put32(b, 0x24, 0x016f2818);
    put32(b, 0x28, start);
    put32(b, 0x2c, end);
    return b;
}

// An arm64 Image of `total` bytes.
std::vector<u8> arm64(usize total, u64 text_offset, u64 image_size, u64 flags) {
    std::vector<u8> b(total, 0);
    put32(b, 0x00, 0x91005a4d); // code0: "MZ" + add x13, x18, #0x16, as EFI-stub kernels have
    put32(b, 0x04, 0x14000000); // code1: b stext
    put64(b, 0x08, text_offset);
    put64(b, 0x10, image_size);
    put64(b, 0x18, flags);
    b[0x38] = 'A';
    b[0x39] = 'R';
    b[0x3a] = 'M';
    b[0x3b] = 0x64;
    return b;
}

TEST(KernelImage, HeaderConstantsMatchTheDocumentedLayout) {
    EXPECT_EQ(kZimageMagicOffset, 0x24u);
    EXPECT_EQ(kZimageStartOffset, 0x28u);
    EXPECT_EQ(kZimageEndOffset, 0x2cu);
    EXPECT_EQ(kArm64TextOffsetOffset, 0x08u);
    EXPECT_EQ(kArm64ImageSizeOffset, 0x10u);
    EXPECT_EQ(kArm64FlagsOffset, 0x18u);
    EXPECT_EQ(kArm64MagicOffset, 0x38u);
    EXPECT_EQ(kArm64HeaderSize, 64u);
    // "ARM\x64" read as a little-endian word.
    const u8 magic[4] = {'A', 'R', 'M', 0x64};
    EXPECT_EQ(u32{magic[0]} | u32{magic[1]} << 8 | u32{magic[2]} << 16 | u32{magic[3]} << 24, kArm64ImageMagic);
}

TEST(KernelImage, ZimagePositionIndependent) {
    const auto b = zimage(0x5000, 0, 0x4800); // 0x800 bytes of appended data after it
    auto r = detect_kernel(b);
    ASSERT_TRUE(r.ok()) << status_name(r.status());
    const KernelImage& k = r.value();
    EXPECT_EQ(k.kind, KernelKind::zimage_arm32);
    EXPECT_TRUE(k.aarch32());
    EXPECT_EQ(k.zimage_start, 0u);
    EXPECT_EQ(k.zimage_end, 0x4800u);
    EXPECT_EQ(k.copy_size, 0x4800u);
    EXPECT_EQ(k.memory_size, 0x4800u);
    EXPECT_EQ(k.text_offset, 0u);
    EXPECT_EQ(k.image_size, 0u);
    EXPECT_STREQ(k.kind_name(), "ARM zImage");
}

TEST(KernelImage, ZimageWithLinkAddress) {
    const auto b = zimage(0x1000, 0x80008000, 0x80008800);
    auto r = detect_kernel(b);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().zimage_start, 0x80008000u);
    EXPECT_EQ(r.value().zimage_end, 0x80008800u);
    EXPECT_EQ(r.value().copy_size, 0x800u);
}

TEST(KernelImage, ZimageExactlyTheBlob) {
    const auto b = zimage(0x30, 0, 0x30); // nothing but the header
    auto r = detect_kernel(b);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().copy_size, 0x30u);
}

TEST(KernelImage, ZimageLongerThanTheBlobIsTruncated) {
    EXPECT_EQ(detect_kernel(zimage(0x1000, 0, 0x1001)).status(), Status::truncated);
    EXPECT_EQ(detect_kernel(zimage(0x1000, 0x1000, 0x3000)).status(), Status::truncated);
}

TEST(KernelImage, ZimageEndNotAboveStartIsInvalid) {
    EXPECT_EQ(detect_kernel(zimage(0x1000, 0, 0)).status(), Status::invalid_argument);
    EXPECT_EQ(detect_kernel(zimage(0x1000, 0x8000, 0x8000)).status(), Status::invalid_argument);
    EXPECT_EQ(detect_kernel(zimage(0x1000, 0x8000, 0x7000)).status(), Status::invalid_argument);
}

TEST(KernelImage, BigEndianZimageIsUnsupported) {
    auto b = zimage(0x1000, 0, 0x1000);
    // A big-endian kernel stores the same word with its bytes reversed.
    b[0x24] = 0x01;
    b[0x25] = 0x6f;
    b[0x26] = 0x28;
    b[0x27] = 0x18;
    EXPECT_EQ(detect_kernel(b).status(), Status::unsupported);
}

TEST(KernelImage, EveryTruncatedZimageHeaderIsBadMagic) {
    const auto full = zimage(0x30, 0, 0x30);
    ASSERT_TRUE(detect_kernel(full).ok());
    for (usize n = 0; n < kZimageHeaderSize; ++n) {
        const std::span<const u8> part(full.data(), n);
        EXPECT_EQ(detect_kernel(part).status(), Status::bad_magic) << "length " << n;
    }
}

TEST(KernelImage, Arm64Modern) {
    const u64 flags = 0xa; // 4K pages, anywhere in RAM
    const auto b = arm64(0x2000, 0, 0x1f0000, flags);
    auto r = detect_kernel(b);
    ASSERT_TRUE(r.ok()) << status_name(r.status());
    const KernelImage& k = r.value();
    EXPECT_EQ(k.kind, KernelKind::image_arm64);
    EXPECT_FALSE(k.aarch32());
    EXPECT_EQ(k.text_offset, 0u);
    EXPECT_EQ(k.image_size, 0x1f0000u);
    EXPECT_EQ(k.flags, flags);
    EXPECT_FALSE(k.legacy);
    EXPECT_EQ(k.page_size(), Arm64PageSize::k4);
    EXPECT_TRUE(k.any_placement());
    EXPECT_EQ(k.copy_size, 0x2000u);
    EXPECT_EQ(k.memory_size, 0x1f0000u); // image_size covers BSS beyond the file
    EXPECT_EQ(k.zimage_start, 0u);
    EXPECT_EQ(k.zimage_end, 0u);
    EXPECT_STREQ(k.kind_name(), "arm64 Image");
}

TEST(KernelImage, Arm64FieldsAreLittleEndianAtTheirOffsets) {
    const auto b = arm64(0x100, 0x80000, 0x0102030405060708, 0x4);
    auto r = detect_kernel(b);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().text_offset, 0x80000u);
    EXPECT_EQ(r.value().image_size, 0x0102030405060708u);
    EXPECT_EQ(r.value().page_size(), Arm64PageSize::k16);
    EXPECT_FALSE(r.value().any_placement());
}

TEST(KernelImage, Arm64PageSizes) {
    const Arm64PageSize expected[] = {Arm64PageSize::unspecified, Arm64PageSize::k4, Arm64PageSize::k16,
                                      Arm64PageSize::k64};
    for (u64 field = 0; field < 4; ++field) {
        auto r = detect_kernel(arm64(0x100, 0, 0x1000, field << 1));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.value().page_size(), expected[field]) << field;
    }
}

TEST(KernelImage, Arm64FileLargerThanImageSize) {
    // A bootloader may pass a range larger than the kernel proper.
    auto r = detect_kernel(arm64(0x3000, 0, 0x2000, 0x2));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().memory_size, 0x3000u);
    EXPECT_EQ(r.value().copy_size, 0x3000u);
}

TEST(KernelImage, Arm64LegacyHeaderWithoutImageSize) {
    // Before Linux 3.17: image_size 0, text_offset to be taken as 0x80000
    // whatever the field says.
    auto r = detect_kernel(arm64(0x1000, 0x12345, 0, 0));
    ASSERT_TRUE(r.ok()) << status_name(r.status());
    EXPECT_TRUE(r.value().legacy);
    EXPECT_EQ(r.value().image_size, 0u);
    EXPECT_EQ(r.value().text_offset, 0x80000u);
    EXPECT_EQ(r.value().memory_size, 16 * kMiB); // small file: U-Boot's 16 MiB assumption
    EXPECT_EQ(r.value().copy_size, 0x1000u);

    // A file near 16 MiB: rounded up to 2 MiB plus a 2 MiB margin.
    auto big = detect_kernel(arm64(15 * kMiB + 1, 0, 0, 0));
    ASSERT_TRUE(big.ok());
    EXPECT_EQ(big.value().memory_size, 18 * kMiB);
}

TEST(KernelImage, BigEndianArm64IsUnsupported) {
    EXPECT_EQ(detect_kernel(arm64(0x100, 0, 0x1000, 0x1)).status(), Status::unsupported);
    EXPECT_EQ(detect_kernel(arm64(0x100, 0, 0x1000, 0xb)).status(), Status::unsupported);
}

TEST(KernelImage, Arm64TextOffsetOfTwoMiBIsInvalid) {
    EXPECT_TRUE(detect_kernel(arm64(0x100, 2 * kMiB - kPageSize, 0x1000, 0)).ok());
    EXPECT_EQ(detect_kernel(arm64(0x100, 2 * kMiB, 0x1000, 0)).status(), Status::invalid_argument);
    EXPECT_EQ(detect_kernel(arm64(0x100, ~u64{0}, 0x1000, 0)).status(), Status::invalid_argument);
}

TEST(KernelImage, EveryTruncatedArm64HeaderIsBadMagic) {
    const auto full = arm64(0x40, 0, 0x1000, 0x2);
    ASSERT_TRUE(detect_kernel(full).ok());
    for (usize n = 0; n < kArm64HeaderSize; ++n) {
        const std::span<const u8> part(full.data(), n);
        EXPECT_EQ(detect_kernel(part).status(), Status::bad_magic) << "length " << n;
    }
}

TEST(KernelImage, AnythingElseIsBadMagic) {
    EXPECT_EQ(detect_kernel({}).status(), Status::bad_magic);
    EXPECT_EQ(detect_kernel(std::vector<u8>(4096, 0)).status(), Status::bad_magic);
    EXPECT_EQ(detect_kernel(std::vector<u8>(4096, 0xff)).status(), Status::bad_magic);

    // An ELF file, a gzip stream, a uImage: not guessed at.
    std::vector<u8> elf(4096, 0);
    elf[0] = 0x7f;
    elf[1] = 'E';
    elf[2] = 'L';
    elf[3] = 'F';
    EXPECT_EQ(detect_kernel(elf).status(), Status::bad_magic);
    std::vector<u8> gz(4096, 0);
    gz[0] = 0x1f;
    gz[1] = 0x8b;
    EXPECT_EQ(detect_kernel(gz).status(), Status::bad_magic);
    std::vector<u8> uimage(4096, 0);
    put32(uimage, 0, 0x56190527); // 0x27051956 big-endian
    EXPECT_EQ(detect_kernel(uimage).status(), Status::bad_magic);

    // The magics one byte off their offsets.
    std::vector<u8> z(4096, 0);
    put32(z, 0x25, 0x016f2818);
    EXPECT_EQ(detect_kernel(z).status(), Status::bad_magic);
    std::vector<u8> a(4096, 0);
    put32(a, 0x39, 0x644d5241);
    EXPECT_EQ(detect_kernel(a).status(), Status::bad_magic);
}

TEST(KernelImage, Arm64MagicWinsOverZimageMagic) {
    auto b = arm64(0x100, 0, 0x1000, 0);
    put32(b, 0x24, 0x016f2818); // in res2
    auto r = detect_kernel(b);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().kind, KernelKind::image_arm64);
}

TEST(KernelImage, KindNames) {
    EXPECT_STREQ(kernel_kind_name(KernelKind::zimage_arm32), "ARM zImage");
    EXPECT_STREQ(kernel_kind_name(KernelKind::image_arm64), "arm64 Image");
}

} // namespace
} // namespace setwise::core
