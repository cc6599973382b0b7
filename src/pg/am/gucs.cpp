// GUCs of the hnsw access method (hnsw.*).
#include "pg/guard.hpp"
#include "pg/module.hpp"

namespace piramid::pg {

void hnsw_define_gucs() {}

}  // namespace piramid::pg
