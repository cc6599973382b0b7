// GUCs of the GPU engine (piramid.gpu*). Filled in by the GPU worker work.
#include "pg/guard.hpp"
#include "pg/module.hpp"

namespace piramid::pg {

void gpu_define_gucs() {}

}  // namespace piramid::pg
