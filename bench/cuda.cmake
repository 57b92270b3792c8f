# lla_bench_cuda (bench/cuda_bench.cu): the CUDA backend at the anchor shapes
# of docs/benchmarks.md. Included from bench/CMakeLists.txt when LLA_CUDA is ON. It links the
# public library, and the backend's static library for the decode kernels
# timed without the public call's validation (lla::cuda::decode_step), which
# needs the core's error and tensor-check objects beside it.
add_executable(lla_bench_cuda
  ${CMAKE_CURRENT_LIST_DIR}/cuda_bench.cu
  ${PROJECT_SOURCE_DIR}/native/src/core/error.cpp
  ${PROJECT_SOURCE_DIR}/native/src/core/tensor_check.cpp)
target_include_directories(lla_bench_cuda PRIVATE ${PROJECT_SOURCE_DIR}/native/src)
target_link_libraries(lla_bench_cuda PRIVATE loglinear loglinear_cuda CUDA::cudart_static)
set_target_properties(lla_bench_cuda PROPERTIES CUDA_ARCHITECTURES "90a;80")
