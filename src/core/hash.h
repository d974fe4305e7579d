// XXH64 (Yann Collet's xxHash, 64-bit variant, seed 0 unless given): the checksum engine files keep
// for their metadata and each weight blob. Fast enough to check a model's weights as it loads
// (over 10 GB/s on one core), and a published algorithm, so other tools can check the files too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln {

uint64_t xxh64(const void* data, size_t size, uint64_t seed = 0);

}  // namespace kiln
