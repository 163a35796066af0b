# cmake -DKIND=zimage|image -DIMAGE=<file> -DMOVED=<file> -P check-image.cmake
#
# Refuses a guest image that is not position independent: MOVED is the same
# guest linked at another address, and must be byte for byte the same.
#
# Refuses a guest image whose boot header is not what setwise (and QEMU,
# and U-Boot) read: the zImage magic/start/end words at 0x24/0x28/0x2c, or
# the arm64 Image text_offset/image_size/flags/magic at 0x08/0x10/0x18/0x38,
# with the size fields equal to the file size.

# Little-endian word of `bytes` bytes at `offset`, as a decimal number.
function(read_le offset bytes out)
    file(READ ${IMAGE} hex OFFSET ${offset} LIMIT ${bytes} HEX)
    set(value 0)
    math(EXPR last "${bytes} - 1")
    foreach(i RANGE ${last} 0 -1)
        math(EXPR pos "${i} * 2")
        string(SUBSTRING "${hex}" ${pos} 2 byte)
        math(EXPR value "(${value} << 8) | 0x${byte}")
    endforeach()
    set(${out} ${value} PARENT_SCOPE)
endfunction()

function(expect what got want)
    if(NOT got EQUAL want)
        math(EXPR got_hex "${got}" OUTPUT_FORMAT HEXADECIMAL)
        math(EXPR want_hex "${want}" OUTPUT_FORMAT HEXADECIMAL)
        message(FATAL_ERROR "${IMAGE}: ${what} is ${got_hex}, want ${want_hex}")
    endif()
endfunction()

file(SHA256 ${IMAGE} image_hash)
file(SHA256 ${MOVED} moved_hash)
if(NOT image_hash STREQUAL moved_hash)
    message(FATAL_ERROR "${IMAGE} is not position independent: linked at another address it differs "
                        "(`cmp -l ${IMAGE} ${MOVED}` shows where; look for tables of pointers, "
                        "GOT entries, absolute literals)")
endif()

file(SIZE ${IMAGE} size)
if(KIND STREQUAL "zimage")
    read_le(36 4 magic)
    read_le(40 4 start)
    read_le(44 4 end)
    read_le(48 4 endian)
    expect("zImage magic (0x24)" ${magic} 0x016f2818)
    expect("zImage start (0x28)" ${start} 0)
    expect("zImage end (0x2c)" ${end} ${size})
    expect("zImage endianness flag (0x30)" ${endian} 0x04030201)
elseif(KIND STREQUAL "image")
    read_le(8 8 text_offset)
    read_le(16 8 image_size)
    read_le(24 8 flags)
    read_le(56 4 magic)
    expect("Image text_offset (0x08)" ${text_offset} 0)
    expect("Image image_size (0x10)" ${image_size} ${size})
    expect("Image flags (0x18)" ${flags} 0xa)
    expect("Image magic (0x38)" ${magic} 0x644d5241)
else()
    message(FATAL_ERROR "KIND must be zimage or image")
endif()
