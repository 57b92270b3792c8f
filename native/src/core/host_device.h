// LLA_HD marks the small functions that host code and CUDA kernels share
// (level arithmetic, log-decay rules, tile geometry): host and device
// inline under nvcc, plain inline in the host-only build.
#pragma once

#if defined(__CUDACC__)
#define LLA_HD __host__ __device__ __forceinline__
#else
#define LLA_HD inline
#endif
