/*
 * loglinear: log-linear attention (Guo, Yang, Goel, Xing, Dao, Kim, 2025).
 *
 * The plain-C API served by every backend (CPU, CUDA). No C++ types cross it,
 * so C callers and the JavaCPP-generated Java bindings use it unchanged.
 *
 * Conventions
 * - Every function returns an lla_status. On anything but LLA_OK,
 *   lla_last_error() returns a message (thread-local) naming the argument, the
 *   expected and the actual value. A rejected call writes nothing.
 * - Tensors are described by lla_tensor: pointer, dtype, device, shape and
 *   strides counted in elements (not bytes). Any non-negative strides are
 *   accepted as long as no two elements of an output alias; data must be
 *   aligned to its element size; a CPU tensor has device_index 0.
 * - A tensor the call writes (o, gradients, a final state) must not share
 *   memory with any other argument, so a state cannot be continued in place:
 *   pass distinct initial_state and final_state buffers.
 * - An optional tensor is absent when its ndim is 0 (a zero-initialised
 *   lla_tensor is absent). A present tensor with a NULL data pointer is an error.
 * - Shapes (docs/c-api.md, "Shapes"): q, k [B,T,G,K]; v, o [B,T,H,V];
 *   g, beta [B,T,H]; l [B,T,H,L]; cu_seqlens [N+1] int64 (then B == 1).
 *   State: levels [N,H,Ls,K,V], log_decay [N,H,Ls], position [N] int64, where
 *   N = B, or the number of sequences of cu_seqlens.
 * - All tensors of a call live on one device; the backend follows the device
 *   unless lla_config.backend pins one.
 *
 * Limits (a call beyond them is rejected with LLA_ERROR_INVALID_ARGUMENT before
 * anything is allocated or written; shapes count, not memory: a broadcast
 * with stride 0 is held to them too):
 * - K, V <= 8192; H <= 65536; L and state Ls <= 64;
 * - B * T <= 2^40 tokens per call (N <= 2^40 sequences per decode step);
 * - every position ends by 2^62: start position + tokens <= 2^62 for each
 *   sequence, and a decode step needs position <= 2^62 - 1;
 * - cu_seqlens holds at most T + 4096 sequences (empty ones included).
 * A call within them whose workspace would not fit size_t reports
 * LLA_ERROR_OUT_OF_MEMORY.
 *
 * Log decays: g = -inf (or any g below -10^4) is a full reset: nothing before
 * that token reaches a target at or after it, in every output and gradient
 * (it is applied as g = -10^4, whose decay is exactly 0; its dg is 0). NaN in
 * g is not checked (validation does not read g): it gives NaN outputs.
 *
 * Numerics: the CPU backend computes with subnormal floats flushed to zero
 * (FTZ/DAZ, restored after each call): results below float32's smallest
 * normal (~1.2e-38; float64: ~2.2e-308) are returned as 0. Their share of
 * any output is far below the rounding of the result.
 */
#ifndef LOGLINEAR_LOGLINEAR_H
#define LOGLINEAR_LOGLINEAR_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(LLA_BUILDING_LIBRARY)
#    define LLA_API __declspec(dllexport)
#  else
#    define LLA_API __declspec(dllimport)
#  endif
#else
#  define LLA_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* API version: bumped on any change to this header. */
#define LLA_VERSION_MAJOR 0
#define LLA_VERSION_MINOR 4
#define LLA_VERSION_PATCH 0
/* Tensors have at most this many dimensions. */
#define LLA_MAX_DIMS 5

typedef enum lla_status {
    LLA_OK = 0,
    LLA_ERROR_INVALID_ARGUMENT = 1, /* bad shape, dtype, stride, device, null pointer, level count, position */
    LLA_ERROR_UNSUPPORTED = 2,      /* valid request that this build or backend cannot serve */
    LLA_ERROR_OUT_OF_MEMORY = 3,    /* host or device allocation failed, or workspace too small */
    LLA_ERROR_BACKEND = 4,          /* the device runtime reported an error */
    LLA_ERROR_INTERNAL = 5          /* a bug in loglinear: please report it */
} lla_status;

typedef enum lla_dtype {
    LLA_DTYPE_FLOAT32 = 0,
    LLA_DTYPE_FLOAT64 = 1,
    LLA_DTYPE_BFLOAT16 = 2,
    LLA_DTYPE_FLOAT16 = 3,
    LLA_DTYPE_INT64 = 4
} lla_dtype;

typedef enum lla_device_type {
    LLA_DEVICE_CPU = 0,
    LLA_DEVICE_CUDA = 1
} lla_device_type;

typedef enum lla_backend {
    LLA_BACKEND_AUTO = 0, /* follow the tensors' device */
    LLA_BACKEND_CPU = 1,
    LLA_BACKEND_CUDA = 2
} lla_backend;

typedef enum lla_variant {
    LLA_VARIANT_MAMBA2 = 0,       /* log-linear Mamba-2 (docs/math.md, section 3) */
    LLA_VARIANT_GATED_DELTANET = 1 /* log-linear Gated DeltaNet (docs/math.md, section 4); needs beta */
} lla_variant;

typedef enum lla_math_mode {
    LLA_MATH_DEFAULT = 0,    /* CPU: exact; GPU: fastest mode within the dtype's tolerance (docs/numerics.md) */
    LLA_MATH_EXACT_FP32 = 1, /* float32 inputs on GPU: no TF32 (tolerance 1e-5, docs/numerics.md) */
    LLA_MATH_ALLOW_TF32 = 2  /* float32 inputs on GPU: TF32 tensor cores (tolerance 3e-3, docs/numerics.md) */
} lla_math_mode;

typedef struct lla_tensor {
    void* data;
    int32_t dtype;        /* lla_dtype */
    int32_t device_type;  /* lla_device_type */
    int32_t device_index; /* CUDA ordinal; 0 for CPU */
    int32_t ndim;         /* 0 = absent (optional tensors only) */
    int64_t shape[LLA_MAX_DIMS];
    int64_t strides[LLA_MAX_DIMS]; /* in elements */
} lla_tensor;

typedef struct lla_config {
    int32_t variant;     /* lla_variant */
    int32_t backend;     /* lla_backend */
    int32_t math_mode;   /* lla_math_mode */
    int32_t num_threads; /* CPU worker threads; 0 = all hardware threads */
    double scale;        /* multiplies every q.k; default 1.0 */
} lla_config;

/* Inputs of one call. beta only for GATED_DELTANET; cu_seqlens optional. */
typedef struct lla_inputs {
    lla_tensor q, k, v, g, l, beta;
    lla_tensor cu_seqlens;
} lla_inputs;

/*
 * Recurrent state of N sequences, ready for target position[i].
 * levels [N,H,Ls,K,V] float32 (float64 when the inputs are float64); level 0 is
 * always zero; Ls >= bit_length(position) + 1 for every sequence, extra levels
 * are zero.
 * log_decay [N,H,Ls], optional: when present, the state is
 * exp(log_decay[l]) * levels[l] (the "decode" form: a decode step then rewrites
 * only the level it merges); when absent, levels are the canonical state of
 * docs/state-layout.md ("The canonical layout"). lla_state_convert turns one
 * form into the other.
 */
typedef struct lla_state {
    lla_tensor levels;
    lla_tensor log_decay;
    lla_tensor position;
} lla_state;

/*
 * Gradients, each of its input's shape and dtype; dbeta only for GATED_DELTANET.
 * d_initial_state, optional: dLoss/d of the canonical value of initial_state's
 * levels, [N,H,Ls,K,V] with Ls and dtype of initial_state.levels (level 0 and
 * the levels empty at the sequence's position get zero). It needs an
 * initial_state, in either form; the gradient is that of its canonical value.
 */
typedef struct lla_gradients {
    lla_tensor dq, dk, dv, dg, dl, dbeta;
    lla_tensor d_initial_state;
} lla_gradients;

/* Version of the library actually loaded (may differ from the header's). */
LLA_API int32_t lla_version_major(void);
LLA_API int32_t lla_version_minor(void);
LLA_API int32_t lla_version_patch(void);
LLA_API const char* lla_version_string(void);

/* Message of the last failed call on this thread ("" after success). */
LLA_API const char* lla_last_error(void);
/* Name of a status code, e.g. "LLA_ERROR_INVALID_ARGUMENT". */
LLA_API const char* lla_status_name(int32_t status);

/* A zero-initialised config with scale 1.0, MAMBA2, AUTO backend. */
LLA_API lla_config lla_config_default(void);
/* Fill *out as a dense row-major (C order) tensor of the given shape. */
LLA_API lla_status lla_tensor_make_contiguous(lla_tensor* out, void* data, int32_t dtype,
                                              int32_t device_type, int32_t device_index,
                                              int32_t ndim, const int64_t* shape);

/* 1 when this build has the backend and a usable device for it, else 0. */
LLA_API int32_t lla_backend_available(int32_t backend);

/*
 * The instruction set of the CPU backend's kernels in this process:
 * "x86-64-v4" (AVX-512), "x86-64-v3" (AVX2 + FMA), "x86-64" (SSE2), or
 * "portable" (builds for other CPUs). The widest this CPU runs, unless the
 * environment variable LLA_CPU_ISA names one ("x86-64-v4" or "avx512",
 * "x86-64-v3" or "avx2", "x86-64" or "baseline"); it is read once, at the
 * first call that needs it (docs/cpu.md). NULL when LLA_CPU_ISA names an
 * unknown path or one this CPU cannot run: lla_last_error() says which, and
 * every CPU forward, backward and decode step fails with that message.
 */
LLA_API const char* lla_cpu_isa(void);

/*
 * Workspace: scratch memory on the tensors' device, caller-owned. Pass
 * workspace = NULL to let the library allocate (and free) what it needs.
 * The backward size covers a call with d_final_state and d_initial_state.
 */
LLA_API lla_status lla_forward_workspace_size(const lla_config* config, const lla_inputs* inputs,
                                              const lla_state* initial_state,
                                              size_t* workspace_bytes);
LLA_API lla_status lla_backward_workspace_size(const lla_config* config, const lla_inputs* inputs,
                                               const lla_state* initial_state,
                                               size_t* workspace_bytes);

/*
 * Forward: o = attention(inputs), continuing from initial_state (NULL: fresh
 * sequences at position 0). When final_state is not NULL, it receives the
 * state ready for each sequence's next token, in the canonical form (its
 * log_decay must be absent; lla_state_convert makes the decode form). stream: a cudaStream_t for the
 * CUDA backend (NULL = default stream), ignored on the CPU. CUDA calls are
 * asynchronous with respect to the host unless stated otherwise.
 */
LLA_API lla_status lla_forward(const lla_config* config, const lla_inputs* inputs,
                               const lla_state* initial_state, const lla_tensor* o,
                               const lla_state* final_state, void* workspace,
                               size_t workspace_bytes, void* stream);

/*
 * Backward: gradients of a scalar loss with respect to the inputs, given
 * d_o = dLoss/do. dq, dk are summed over the heads of each group. The same
 * initial_state as the forward must be passed (its contribution is recomputed).
 * d_final_state, optional (NULL or ndim 0: zero): dLoss/d of the final state
 * that the same call's forward exports, canonical form, [N,H,Ls,K,V] in the
 * state dtype with Ls >= bit_length(final position) + 1 (extra levels, level 0
 * and levels empty at the final position are ignored). With it and
 * grads->d_initial_state, a long sequence trains segment by segment
 * (docs/state-layout.md, "Training across segments").
 */
LLA_API lla_status lla_backward(const lla_config* config, const lla_inputs* inputs,
                                const lla_state* initial_state, const lla_tensor* d_o,
                                const lla_tensor* d_final_state, const lla_gradients* grads,
                                void* workspace, size_t workspace_bytes, void* stream);

/*
 * Decode step: one token for each of N sequences, in place on state.
 * token shapes: q, k [N,G,K]; v [N,H,V]; g, beta [N,H]; l [N,H,L]
 * (cu_seqlens must be absent); o [N,H,V]. The state may be in either form; in
 * the decode form (log_decay present) only the merged level is rewritten.
 */
LLA_API lla_status lla_decode_step(const lla_config* config, const lla_inputs* token,
                                   const lla_state* state, const lla_tensor* o, void* stream);

/* Copy src into dst, converting between the canonical and the decode form. */
LLA_API lla_status lla_state_convert(const lla_config* config, const lla_state* src,
                                     const lla_state* dst, void* stream);

/* Wait for all work queued on stream (no-op on the CPU). */
LLA_API lla_status lla_synchronize(int32_t backend, void* stream);

/*
 * Memory of CUDA devices, for callers without a CUDA runtime of their own (the
 * Java API uses these). A build without the CUDA backend, or a machine without
 * a usable device, answers LLA_ERROR_UNSUPPORTED with the reason, except where
 * stated. Copies take the direction from the pointers (host, device, or
 * managed memory: CUDA's unified addressing).
 */
/* CUDA devices the backend can use: 0 without the CUDA backend or a device. */
LLA_API int32_t lla_cuda_device_count(void);
/* *ptr = `bytes` of uninitialised memory of CUDA device device_index
 * (cudaMalloc; 256-byte aligned). bytes = 0 gives *ptr = NULL. */
LLA_API lla_status lla_cuda_malloc(int32_t device_index, size_t bytes, void** ptr);
/* Frees memory from lla_cuda_malloc (or cudaMalloc); NULL is a no-op. Waits
 * for the work queued on the device that may still use it. */
LLA_API lla_status lla_cuda_free(void* ptr);
/* Copies `bytes` from src to dst, ordered after the work queued on stream
 * (NULL: the default stream), and returns when the copy is complete. Without
 * the CUDA backend, both are host memory and this is memcpy. */
LLA_API lla_status lla_memcpy(void* dst, const void* src, size_t bytes, void* stream);
/* The same copy queued on stream, returning before it completes: src and dst
 * must stay valid (and host memory untouched) until lla_synchronize(stream). */
LLA_API lla_status lla_memcpy_async(void* dst, const void* src, size_t bytes, void* stream);
/* Sets `bytes` of CUDA memory at ptr to the byte `value`, ordered on stream
 * (NULL: the default stream), and returns when done. */
LLA_API lla_status lla_cuda_memset(void* ptr, int32_t value, size_t bytes, void* stream);
/* Where ptr points: LLA_DEVICE_CUDA and the ordinal for device memory (and
 * managed memory: its preferred device, else 0), LLA_DEVICE_CPU and 0 for
 * anything else (pageable or pinned host memory, or any pointer in a build
 * without the CUDA backend). Never fails for a non-NULL out-pointer pair. */
LLA_API lla_status lla_pointer_device(const void* ptr, int32_t* device_type, int32_t* device_index);

#ifdef __cplusplus
}
#endif

#endif /* LOGLINEAR_LOGLINEAR_H */
