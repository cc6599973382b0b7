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
EXTVERSION = 0.3.0

CORE_SRCS := $(sort $(shell find src/core -name '*.cpp'))
PG_SRCS   := $(sort $(shell find src/pg -name '*.cpp'))
OBJS       = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# Earlier versions' install scripts as shipped (CREATE EXTENSION piramid VERSION '0.1.0') and
# the upgrade scripts between shipped versions (ALTER EXTENSION piramid UPDATE): tracked, never
# regenerated. sql/upgrade.sql checks that an upgrade gives exactly a fresh install's objects.
DATA = sql/$(EXTENSION)--0.1.0.sql sql/$(EXTENSION)--0.1.0--0.2.0.sql sql/$(EXTENSION)--0.2.0.sql
SQL_FRAGMENTS := $(sort $(wildcard sql/fragments/*.sql))
# The upgrade from the last shipped version to this one, generated while this version is being
# made (frozen when it ships): its head (sql/fragments/upgrade/), then the fragments new in this
# version, those numbered 40 and up (halfvec, bit distances, sparsevec, their hnsw opclasses).
PREV_VERSION = 0.2.0
UPGRADE_HEAD = sql/fragments/upgrade/$(PREV_VERSION)--$(EXTVERSION).sql
UPGRADE_FRAGMENTS := $(sort $(wildcard sql/fragments/[4-9]*.sql))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--$(PREV_VERSION)--$(EXTVERSION).sql

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

# [engine/gpu] The CUDA plugin, cuda/piramid_cuda.so: built by `make` when nvcc is on PATH
# (NVCC= or PIRAMID_CUDA=OFF skips it) and installed next to piramid.so by `make install`.
# piramid.so itself never links CUDA; it loads the plugin with dlopen on first GPU use. The CUDA
# runtime is linked statically and only the versioned entry point is exported (cuda/exports.map),
# as in cuda/CMakeLists.txt (the CMake build the unit tests use).
NVCC ?= $(shell command -v nvcc 2>/dev/null)
PIRAMID_CUDA ?= AUTO
PIRAMID_CUDA_PLUGIN = cuda/piramid_cuda.so
PIRAMID_CUDA_ARCHS ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
	-gencode arch=compute_90,code=compute_90
EXTRA_CLEAN += $(PIRAMID_CUDA_PLUGIN)
ifneq ($(PIRAMID_CUDA),OFF)
ifneq ($(NVCC),)
all: $(PIRAMID_CUDA_PLUGIN)
$(PIRAMID_CUDA_PLUGIN): cuda/plugin.cu cuda/exports.map $(wildcard src/core/engine/*.h src/core/engine/*.hpp)
	$(NVCC) -std=c++17 -O2 -shared $(PIRAMID_CUDA_ARCHS) -cudart static --expt-relaxed-constexpr \
		-Xcompiler -fPIC,-fvisibility=hidden -Isrc \
		-Xlinker --version-script=cuda/exports.map -Xlinker --exclude-libs,ALL -Xlinker -z,defs \
		-o $@ $< -lpthread -ldl -lrt
else
all: cuda-plugin-note
endif
endif
.PHONY: cuda-plugin-note install-cuda-plugin
cuda-plugin-note:
	@echo 'piramid: nvcc not found on PATH: building without the CUDA plugin (CPU engine only)'
install: install-cuda-plugin
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

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_FRAGMENTS)
	cat $^ | sed 's/@EXTENSION@/$(EXTENSION)/g' > $@
sql/$(EXTENSION)--$(PREV_VERSION)--$(EXTVERSION).sql: $(UPGRADE_HEAD) $(UPGRADE_FRAGMENTS)
	cat $^ | sed 's/@EXTENSION@/$(EXTENSION)/g' > $@

# The opt-in alias: piramid installed under the name "vector", for applications and ORMs that
# run CREATE EXTENSION vector. Both files are generated from piramid's (same objects, same
# library); `make install-vector-alias` installs them, plain `make install` never does (it would
# overwrite a pgvector installation's vector.control: the target refuses to unless FORCE=1).
ALIAS_DIR = build-alias
ALIAS_FILES = $(ALIAS_DIR)/vector.control $(ALIAS_DIR)/vector--$(EXTVERSION).sql \
	$(ALIAS_DIR)/vector--$(PREV_VERSION)--$(EXTVERSION).sql
ALIAS_MARK = piramid installed as vector
EXTRA_CLEAN += $(ALIAS_DIR)
all: $(ALIAS_FILES)
$(ALIAS_DIR)/vector--$(EXTVERSION).sql: $(SQL_FRAGMENTS) | $(ALIAS_DIR)
	cat $^ | sed 's/@EXTENSION@/vector/g' > $@
$(ALIAS_DIR)/vector--$(PREV_VERSION)--$(EXTVERSION).sql: $(UPGRADE_HEAD) $(UPGRADE_FRAGMENTS) | $(ALIAS_DIR)
	cat $^ | sed 's/@EXTENSION@/vector/g' > $@
$(ALIAS_DIR)/vector.control: $(EXTENSION).control | $(ALIAS_DIR)
	sed -e "s/^comment = '/comment = '$(ALIAS_MARK): /" -e '1s/.*/# $(ALIAS_MARK) (generated from $(EXTENSION).control)/' $< > $@
$(ALIAS_DIR):
	mkdir -p $@
.PHONY: install-vector-alias uninstall-vector-alias
install-vector-alias: $(ALIAS_FILES) installdirs
	@f='$(DESTDIR)$(datadir)/extension/vector.control'; \
	if [ -f "$$f" ] && ! grep -q '$(ALIAS_MARK)' "$$f" && [ -z '$(FORCE)' ]; then \
		echo "$$f exists and is not piramid's (pgvector?): not overwriting it (FORCE=1 does)"; \
		exit 1; \
	fi
	$(INSTALL_DATA) $(ALIAS_FILES) '$(DESTDIR)$(datadir)/extension/'
uninstall-vector-alias:
	rm -f '$(DESTDIR)$(datadir)/extension/vector.control' \
		'$(DESTDIR)$(datadir)/extension/vector--$(EXTVERSION).sql' \
		'$(DESTDIR)$(datadir)/extension/vector--$(PREV_VERSION)--$(EXTVERSION).sql'

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

# Debian packages (debian/, scripts/build-deb.sh): build-deb/postgresql-15-piramid*_*.deb
.PHONY: deb
deb:
	bash scripts/build-deb.sh
