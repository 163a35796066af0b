#include "core/kernel_image.hpp"

namespace setwise::core {

namespace {

// Little-endian reads at any alignment. Precondition: the bytes exist.
u32 le32(std::span<const u8> b, usize off) {
    return u32{b[off]} | u32{b[off + 1]} << 8 | u32{b[off + 2]} << 16 | u32{b[off + 3]} << 24;
}

u64 le64(std::span<const u8> b, usize off) { return u64{le32(b, off)} | u64{le32(b, off + 4)} << 32; }

Result<KernelImage> arm64_image(std::span<const u8> image) {
    KernelImage k;
    k.kind = KernelKind::image_arm64;
    k.flags = le64(image, kArm64FlagsOffset);
    k.image_size = le64(image, kArm64ImageSizeOffset);
    // booting.rst: flags bit 0 set is a big-endian kernel. (Kernels before
    // 3.17 left flags zero whatever their endianness; a big-endian one of
    // those passes here and fails in the guest.)
    if ((k.flags & 1) != 0) return Status::unsupported;
    const u64 file_size = image.size();
    if (k.image_size == 0) {
        k.legacy = true;
        k.text_offset = kArm64LegacyTextOffset;
        const u64 estimate = align_up(file_size, 2 * kMiB) + kArm64LegacyMargin;
        k.memory_size = estimate > kArm64LegacyMinimumSize ? estimate : kArm64LegacyMinimumSize;
    } else {
        k.text_offset = le64(image, kArm64TextOffsetOffset);
        if (k.text_offset >= kArm64MaxTextOffset) return Status::invalid_argument;
        k.memory_size = k.image_size > file_size ? k.image_size : file_size;
    }
    k.copy_size = file_size;
    return k;
}

Result<KernelImage> zimage(std::span<const u8> image) {
    KernelImage k;
    k.kind = KernelKind::zimage_arm32;
    k.zimage_start = le32(image, kZimageStartOffset);
    k.zimage_end = le32(image, kZimageEndOffset);
    if (k.zimage_end <= k.zimage_start) return Status::invalid_argument;
    const u64 size = k.zimage_end - k.zimage_start;
    if (size > image.size()) return Status::truncated;
    k.copy_size = size;
    k.memory_size = size;
    return k;
}

} // namespace

const char* kernel_kind_name(KernelKind kind) {
    switch (kind) {
    case KernelKind::zimage_arm32: return "ARM zImage";
    case KernelKind::image_arm64: return "arm64 Image";
    }
    return "unknown kernel";
}

const char* KernelImage::kind_name() const { return kernel_kind_name(kind); }

Result<KernelImage> detect_kernel(std::span<const u8> image) {
    if (image.size() >= kArm64HeaderSize && le32(image, kArm64MagicOffset) == kArm64ImageMagic) {
        return arm64_image(image);
    }
    if (image.size() >= kZimageHeaderSize) {
        const u32 magic = le32(image, kZimageMagicOffset);
        if (magic == kZimageMagic) return zimage(image);
        if (magic == kZimageMagicSwapped) return Status::unsupported;
    }
    return Status::bad_magic;
}

} // namespace setwise::core
