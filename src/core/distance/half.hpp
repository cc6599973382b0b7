// IEEE 754 binary16 ("half") for the halfvec type and halfvec indexes: conversion to and from
// float, and distance kernels over half vectors (a scalar reference and SIMD versions chosen at
// run time, as for the float kernels in distance.hpp; PIRAMID_SIMD applies to both).
//
// Kernels widen each half to float and accumulate in float, so a halfvec distance equals the
// float distance of the widened vectors up to the order of the additions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/distance/distance.hpp"

namespace piramid::distance {

using half = uint16_t;  // the bits of a binary16 value

// Exact: every half is a float. A NaN keeps its sign and payload and comes out quiet (as F16C's
// vcvtph2ps makes it), so the SIMD to_float kernels agree with this bit for bit.
float half_to_float(half h);
// Round to nearest, ties to even (as F16C and the C standard's conversion do), independent of the
// floating-point rounding mode. Finite values of magnitude >= 65520 become infinity (the caller
// reports the range error); a NaN becomes a quiet NaN with its sign and the top 9 bits of its
// payload (as vcvtps2ph does); magnitudes up to 2^-25 become signed zero.
half float_to_half(float f);

inline constexpr float kHalfMax = 65504.0f;

// All take n >= 0 and unaligned pointers, read exactly n elements of each input (never past the
// end) and give 0 for n == 0. The sums are in float, in an order that depends on the ISA.
struct HalfKernels {
    Isa isa;
    float (*l2sq)(const half* a, const half* b, size_t n);  // sum (a-b)^2
    float (*dot)(const half* a, const half* b, size_t n);   // sum a*b
    float (*l1)(const half* a, const half* b, size_t n);    // sum |a-b|
    void (*dot_norms)(const half* a, const half* b, size_t n, float* ab, float* aa, float* bb);
    void (*to_float)(const half* in, float* out, size_t n);
    void (*from_float)(const float* in, half* out, size_t n);  // float_to_half on each
};

// The best half kernels this CPU supports (or PIRAMID_SIMD's choice when available).
const HalfKernels& half_best();
// The kernels for one ISA; nullptr when this build or CPU lacks it.
const HalfKernels* half_kernels_for(Isa isa);
const HalfKernels& half_scalar();

}  // namespace piramid::distance
