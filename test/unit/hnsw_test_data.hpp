// Shared helpers of the HNSW unit tests: TEXMEX readers, shared/data paths, random data.
#pragma once

#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/distance/distance.hpp"
#include "core/hnsw/builder.hpp"
#include "core/hnsw/insert.hpp"
#include "core/hnsw/search.hpp"

namespace piramid::hnsw {

using distance::Metric;

struct Vecs {
    size_t n = 0, dim = 0;
    std::vector<float> data;
    const float* row(size_t i) const { return data.data() + i * dim; }
};

inline bool read_fvecs(const std::string& path, Vecs& out, size_t limit = SIZE_MAX) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    out = Vecs{};
    int32_t d;
    while (out.n < limit && f.read(reinterpret_cast<char*>(&d), 4)) {
        out.dim = static_cast<size_t>(d);
        out.data.resize((out.n + 1) * out.dim);
        f.read(reinterpret_cast<char*>(out.data.data() + out.n * out.dim), 4 * d);
        ++out.n;
    }
    return out.n > 0;
}

inline bool read_ivecs(const std::string& path, std::vector<std::vector<int>>& out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    int32_t k;
    while (f.read(reinterpret_cast<char*>(&k), 4)) {
        std::vector<int> row(static_cast<size_t>(k));
        f.read(reinterpret_cast<char*>(row.data()), 4 * k);
        out.push_back(std::move(row));
    }
    return !out.empty();
}

inline void normalize(Vecs& v) {
    for (size_t i = 0; i < v.n; ++i) {
        float* r = v.data.data() + i * v.dim;
        double s = 0;
        for (size_t j = 0; j < v.dim; ++j) s += double(r[j]) * r[j];
        const float inv = s > 0 ? float(1.0 / std::sqrt(s)) : 0.0f;
        for (size_t j = 0; j < v.dim; ++j) r[j] *= inv;
    }
}

inline std::string data_path(const std::string& rel) {
    return std::string(PIRAMID_SHARED_DATA) + "/" + rel;
}

inline Vecs random_vecs(size_t n, size_t dim, uint64_t seed) {
    Vecs v;
    v.n = n;
    v.dim = dim;
    v.data.resize(n * dim);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    for (float& x : v.data) x = g(rng);
    return v;
}

inline Params params_for(size_t dim, Metric metric, int m = 16, int efc = 64) {
    Params p;
    p.dim = dim;
    p.metric = metric;
    p.m = m;
    p.ef_construction = efc;
    p.seed = 42;
    return p;
}

// Labels of all items at distance 0 from q that an iterative search of b's graph returns.
inline size_t labels_found_at_zero(Builder& b, const float* q) {
    Searcher<BuildGraph> s;
    s.start(b.graph(), q, b.entry_point(), b.max_level());
    std::vector<Candidate> out;
    size_t labels = 0;
    for (int i = 0; i < 1000 && !s.exhausted(); ++i) {
        s.next_batch(64, out);
        for (const Candidate& c : out)
            if (c.dist == 0.0f) labels += b.labels(c.id).size();
    }
    return labels;
}

}  // namespace piramid::hnsw
