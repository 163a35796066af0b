// The hypervisor's allocators, set up once by core::start(): physical frames
// (guest RAM, page tables) and the heap for small objects (domains, vCPUs).
// Lock order: heap -> frame allocator (docs/locking.md).
#pragma once

#include "mm/frame_allocator.hpp"
#include "mm/heap.hpp"

namespace setwise::core {

// Precondition: core::start() has set them up (true for everything that runs
// after the boot banner).
mm::FrameAllocator& frames();
mm::Heap& heap();

} // namespace setwise::core
