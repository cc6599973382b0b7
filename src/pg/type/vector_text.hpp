// The text form vector and halfvec share: '[' decimal numbers separated by ',' ']', with
// whitespace around each token. One parser for both types; each type passes its name, limits
// and element checks, so the messages stay the type's own (pgvector's).
#pragma once

extern "C" {
#include "postgres.h"
}

namespace piramid::pg {

// The whitespace Postgres' own array and record parsers accept.
inline bool text_is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
inline const char* skip_text_space(const char* p) {
    while (text_is_space(*p)) ++p;
    return p;
}

struct VectorTextType {
    const char* name;                      // "vector", "halfvec": in every message
    int max_dim;                           // the type's dimension limit
    void (*check_dim_range)(int64 dim);    // raises the type's dimension errors
    void (*check_nonfinite)(bool is_nan);  // raises the type's NaN / infinity error
    // The largest magnitude the element type holds, as a float4: decimals whose float4 is at
    // least this are "out of range for type <name>" (HUGE_VALF: only float4 overflow is).
    float limit;
};

// Room parse_vector_text needs for lit: one element per comma plus one, at most max_dim.
int vector_text_capacity(const char* lit, const VectorTextType& t);

// Parses lit into out (vector_text_capacity floats; each a correctly rounded float4 of its
// decimal) and returns the dimensions. Raises 22P02 "invalid input syntax for type <name>" (with
// a DETAIL where pgvector has one) for malformed text, the type's NaN / infinity error for words
// like "nan" and "inf", 22003 for values beyond `limit`, and the type's dimension errors. Postgres
// calls (ereport).
int parse_vector_text(const char* lit, const VectorTextType& t, float* out);

}  // namespace piramid::pg
