# Piramid: PGXS front door.
#   make              build piramid.so and the install script
#   make install      install into the PostgreSQL found by pg_config
#   make installcheck run pg_regress (sql/ + expected/), then the isolation specs
#                     (test/isolation/), against a running server
#   make test         everything, on a throwaway cluster (installs what it needs; see README)
#   make demo         build, start a throwaway cluster, load a small dataset, run a k-NN query
#   make stress       the differential oracle (test/oracle) with more seeds and larger tables

EXTENSION  = piramid
MODULE_big = piramid
EXTVERSION = 0.1.0

CORE_SRCS := $(sort $(shell find src/core -name '*.cpp'))
PG_SRCS   := $(sort $(shell find src/pg -name '*.cpp'))
OBJS       = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
SQL_FRAGMENTS := $(sort $(wildcard sql/fragments/*.sql))

# pg_regress tests: every sql/*.sql except the install script, in name order.
REGRESS = $(sort $(basename $(notdir $(filter-out sql/$(EXTENSION)--%,$(wildcard sql/*.sql)))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)
# isolation tests (pg_isolation_regress): test/isolation/specs/*.spec, expected output in
# test/isolation/expected/, results in output_iso/. `make installcheck` runs them after
# pg_regress; ISOLATION= skips them, REGRESS= runs only them.
ISOLATION = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=$(EXTENSION)

SHLIB_LINK += -lstdc++ -pthread -ldl
EXTRA_CLEAN = .deps build

# Debian's PostgreSQL is built with LLVM JIT; we do not ship bitcode for inlining.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

PG_INCLUDE_SERVER := $(shell $(PG_CONFIG) --includedir-server)

# [engine/gpu] Install the CUDA plugin next to piramid.so when CMake built it (nvcc present);
# piramid.so itself never links CUDA and loads the plugin with dlopen on first GPU use.
PIRAMID_CUDA_PLUGIN ?= build/cuda/piramid_cuda.so
install: install-cuda-plugin
.PHONY: install-cuda-plugin
install-cuda-plugin:
	@if [ -f '$(PIRAMID_CUDA_PLUGIN)' ]; then \
		echo 'installing the CUDA plugin $(PIRAMID_CUDA_PLUGIN)'; \
		$(INSTALL_SHLIB) '$(PIRAMID_CUDA_PLUGIN)' '$(DESTDIR)$(pkglibdir)/piramid_cuda.so'; \
	fi
PIRAMID_WERROR ?= -Werror
PIRAMID_CXXFLAGS = -std=c++20 -O2 -g -fPIC -pthread -Wall -Wextra $(PIRAMID_WERROR) \
	-fno-omit-frame-pointer -MMD -MP -MF .deps/$(subst /,__,$@).d -Isrc

# The pure core is compiled without any Postgres include path: it cannot see postgres.h.
src/core/%.o: src/core/%.cpp | .deps
	$(CXX) $(PIRAMID_CXXFLAGS) -c $< -o $@

# The glue includes the server headers as system headers (PG15's headers are not -Wextra clean
# in C++).
src/pg/%.o: src/pg/%.cpp | .deps
	$(CXX) $(PIRAMID_CXXFLAGS) -isystem $(PG_INCLUDE_SERVER) -c $< -o $@

$(DATA_built): $(SQL_FRAGMENTS)
	cat $^ > $@

-include $(wildcard .deps/*.d)

.deps:
	mkdir -p $@

.PHONY: test demo unit
test:
	bash test/run.sh

demo:
	bash scripts/demo.sh

unit:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2 && \
	ctest --test-dir build --output-on-failure

# The differential oracle (test/oracle/README.md) in --stress mode on a throwaway cluster;
# ORACLE_ARGS adds options, e.g. make stress ORACLE_ARGS='--seed 11 --seeds 3'.
.PHONY: stress
stress:
	bash -c 'source scripts/lib.sh && ensure_deps && build_and_install && trap stop_cluster EXIT && \
		start_cluster && /usr/bin/python3 test/oracle/oracle.py --stress $(ORACLE_ARGS)'
