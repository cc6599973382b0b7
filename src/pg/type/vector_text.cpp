#include "pg/type/vector_text.hpp"

extern "C" {
#include "utils/builtins.h"
}

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace piramid::pg {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// pgvector's message for a malformed literal, with a DETAIL that says what is wrong (or none).
[[noreturn]] void bad_syntax(const VectorTextType& t, const char* literal,
                             const char* detail = nullptr) {
    if (detail != nullptr)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type %s: \"%s\"", t.name, literal),
                        errdetail("%s", detail)));
    ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                    errmsg("invalid input syntax for type %s: \"%s\"", t.name, literal)));
    pg_unreachable();
}

[[noreturn]] void out_of_range(const VectorTextType& t, const char* start, const char* end) {
    ereport(ERROR,
            (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
             errmsg("\"%s\" is out of range for type %s", pnstrdup(start, end - start), t.name)));
    pg_unreachable();
}

// Scans one number of the JSON-like form [+-] digits [. digits] [(e|E) [+-] digits] (a bare
// ".5" or "5." is accepted too, as float4 input does). Returns the end of the number or nullptr
// when p does not start one. The grammar is a strict subset of what strtof accepts, so strtof
// consumes exactly the scanned characters; anything strtof alone would take (hex floats, "inf"
// spelled inside a number) is rejected here first.
const char* scan_number(const char* p) {
    if (*p == '+' || *p == '-') ++p;
    int digits = 0;
    while (is_digit(*p)) {
        ++p;
        ++digits;
    }
    if (*p == '.') {
        ++p;
        while (is_digit(*p)) {
            ++p;
            ++digits;
        }
    }
    if (digits == 0) return nullptr;
    if (*p == 'e' || *p == 'E') {
        const char* q = p + 1;
        if (*q == '+' || *q == '-') ++q;
        if (!is_digit(*q)) return nullptr;
        while (is_digit(*q)) ++q;
        p = q;
    }
    return p;
}

// The decimal text [start, end) as float4 with one rounding (strtof's). Beyond t.limit is an
// error; values below the smallest subnormal round to (signed) zero, as strtof rounds them.
float decimal_to_float4(const VectorTextType& t, const char* start, const char* end,
                        const char* literal) {
    // std::from_chars rounds exactly like strtof (one correctly rounded step) but is several
    // times faster, which matters for 768-d query literals. It reports both overflow and
    // underflow as out of range: that rare case falls back to strtof to tell them apart.
    const char* first = (*start == '+') ? start + 1 : start;
    float v = 0.0f;
    const auto res = std::from_chars(first, end, v, std::chars_format::general);
    if (res.ec != std::errc() || res.ptr != end) {
        char* stop = nullptr;
        errno = 0;
        v = std::strtof(start, &stop);
        // Cannot happen for scanned input; report it as a syntax error rather than trust it.
        if (stop != end) bad_syntax(t, literal);
        if (errno == ERANGE && std::isinf(v)) out_of_range(t, start, end);
    }
    if (std::fabs(v) >= t.limit) out_of_range(t, start, end);
    return v;
}

// Reports a NaN / Infinity spelled as a word inside a literal, or a syntax error for any other
// word. p points at the word (after an optional sign).
[[noreturn]] void bad_word(const VectorTextType& t, const char* literal, const char* p) {
    // As strtof (pgvector's parser) reads them: a word that starts with "nan" or "inf" is a NaN
    // or an infinity ("[infinit]" and "[nanx]" too), refused as such before the junk after it.
    if (pg_strncasecmp(p, "nan", 3) == 0) t.check_nonfinite(true);
    if (pg_strncasecmp(p, "inf", 3) == 0) t.check_nonfinite(false);
    bad_syntax(t, literal);
}

}  // namespace

int vector_text_capacity(const char* lit, const VectorTextType& t) {
    int64 commas = 0;
    for (const char* c = lit; *c != '\0'; ++c) commas += (*c == ',');
    return static_cast<int>(Min(commas + 1, int64{t.max_dim}));
}

int parse_vector_text(const char* lit, const VectorTextType& t, float* out) {
    const char* p = skip_text_space(lit);
    if (*p != '[') bad_syntax(t, lit, "Vector contents must start with \"[\".");
    p = skip_text_space(p + 1);
    int dim = 0;
    if (*p == ']') {
        ++p;
    } else {
        for (;;) {
            p = skip_text_space(p);
            if (*p == '\0') bad_syntax(t, lit, "Unexpected end of input.");
            // pgvector counts before it reads: a 16,001st element is too many whatever it is.
            if (dim == t.max_dim) t.check_dim_range(int64{dim} + 1);
            const char* start = p;
            const char* end = scan_number(p);
            if (end == nullptr) {
                const char* w = (*p == '+' || *p == '-') ? p + 1 : p;
                if (is_alpha(*w)) bad_word(t, lit, w);
                bad_syntax(t, lit);
            }
            out[dim++] = decimal_to_float4(t, start, end, lit);
            p = skip_text_space(end);
            if (*p == ',') {
                ++p;
                continue;
            }
            if (*p == ']') {
                ++p;
                break;
            }
            if (*p == '\0') bad_syntax(t, lit, "Unexpected end of input.");
            bad_syntax(t, lit);
        }
    }
    t.check_dim_range(dim);  // "[]x": no dimensions is the error, as in pgvector
    p = skip_text_space(p);
    if (*p != '\0') bad_syntax(t, lit, "Junk after closing right brace.");
    return dim;
}

}  // namespace piramid::pg
