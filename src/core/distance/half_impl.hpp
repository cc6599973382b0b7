// Internal to src/core/distance: the per-ISA half-precision kernel tables.
#pragma once

#include "core/distance/half.hpp"

namespace piramid::distance::detail {

// Each returns its table when this build has the ISA, nullptr otherwise. They do not look at the
// CPU: half_kernels_for() checks that before handing a table out.
const HalfKernels* half_avx2_table();    // AVX2 + FMA + F16C
const HalfKernels* half_avx512_table();  // AVX-512 F + BW + VL
const HalfKernels* half_neon_table();

}  // namespace piramid::distance::detail
