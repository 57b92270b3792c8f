# lla_bench_cpu (bench/cpu_bench.cpp): the CPU backend for log-linear Mamba-2
# at B=1, H=4, K=V=64, float32, against the O(T^2) materialized reference
# (tests/native/reference, built here when the tests are off).
if(NOT TARGET lla_reference)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/native/reference ${CMAKE_CURRENT_BINARY_DIR}/reference)
endif()

add_executable(lla_bench_cpu ${CMAKE_CURRENT_LIST_DIR}/cpu_bench.cpp)
target_link_libraries(lla_bench_cpu PRIVATE loglinear lla_reference Threads::Threads)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(lla_bench_cpu PRIVATE -Wall -Wextra)
endif()
