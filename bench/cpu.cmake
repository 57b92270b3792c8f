# lla_bench_cpu (bench/cpu_bench.cpp): the CPU backend for log-linear Mamba-2
# at B=1, H=4, K=V=64, float32, against the O(T^2) materialized reference
# (tests/native/reference, built here when the tests are off).
if(NOT TARGET lla_reference)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/native/reference ${CMAKE_CURRENT_BINARY_DIR}/reference)
endif()

add_executable(lla_bench_cpu ${CMAKE_CURRENT_LIST_DIR}/cpu_bench.cpp ${CMAKE_CURRENT_LIST_DIR}/sgemm_ceiling.cpp)
target_link_libraries(lla_bench_cpu PRIVATE loglinear lla_reference Threads::Threads)

# The in-run ceiling (sgemm_ceiling.h): OpenBLAS, for the bench only (Debian:
# libopenblas-dev; ci/setup-deps.sh installs it). openblas_config.h tells
# OpenBLAS's cblas.h from other BLAS packages'.
find_path(LLA_OPENBLAS_INCLUDE_DIR openblas_config.h
          PATH_SUFFIXES openblas-pthread openblas x86_64-linux-gnu/openblas-pthread x86_64-linux-gnu/openblas)
find_library(LLA_OPENBLAS_LIBRARY NAMES openblas)
if(LLA_OPENBLAS_INCLUDE_DIR AND LLA_OPENBLAS_LIBRARY)
  target_include_directories(lla_bench_cpu PRIVATE ${LLA_OPENBLAS_INCLUDE_DIR})
  target_link_libraries(lla_bench_cpu PRIVATE ${LLA_OPENBLAS_LIBRARY})
  target_compile_definitions(lla_bench_cpu PRIVATE LLA_BENCH_OPENBLAS)
  message(STATUS "lla_bench_cpu: sgemm ceiling through ${LLA_OPENBLAS_LIBRARY}")
else()
  message(STATUS "lla_bench_cpu: no OpenBLAS (libopenblas-dev), the sgemm ceiling is not measured")
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(lla_bench_cpu PRIVATE -Wall -Wextra)
endif()
