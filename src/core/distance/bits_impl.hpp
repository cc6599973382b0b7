// Internal to src/core/distance: the per-ISA bit-vector kernel tables.
#pragma once

#include "core/distance/bits.hpp"

namespace piramid::distance::detail {

// Each returns its table when this build has the ISA, nullptr otherwise. They do not look at the
// CPU: bits_kernels_for() checks that before handing a table out.
const BitKernels* bits_avx2_table();    // AVX2 (nibble lookup with vpshufb) + POPCNT
const BitKernels* bits_avx512_table();  // AVX-512 F + BW + VPOPCNTDQ
const BitKernels* bits_neon_table();
// The POPCNT-on-64-bit-words variant (tagged kAvx2; needs only POPCNT), measured against the
// AVX2 lookup by the micro-benchmark. Not handed out by bits_kernels_for().
const BitKernels* bits_popcnt64_table();

}  // namespace piramid::distance::detail
