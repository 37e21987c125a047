// models/kernels/cuda/attn_tile.cuh — the warp-level core of the module's attention
// kernels (FlashAttention-2 style, mma.sync m16n8k16 bf16 on tensor cores).
//
// One warp owns 16 query rows. Q for those rows sits in registers as A fragments; a tile
// of kBc keys and values sits in shared memory in the swizzled layout of
// device_utils.cuh (rows = tokens, head_dim/8 chunks per row). WarpAttendTile folds that
// tile into the warp's running state with the online softmax:
//   S = Q K^T * scale * log2(e); masked entries -> -inf
//   m' = max(m, rowmax S);  P = exp2(S - m');  l = l * exp2(m - m') + rowsum P
//   O = O * exp2(m - m') + P V    (P rounded to bf16 for the tensor cores)
// Fragment ownership (lane = 4*g + q4): rows g and g + 8 of the warp's 16; state m[0], l[0]
// belong to row g and m[1], l[1] to row g + 8; l holds this thread's partial row sum (the
// four threads of a quad are summed once, at the end). O[n][0..1] are row g, columns
// 8n + 2*q4 + {0,1}; O[n][2..3] the same columns of row g + 8.
// Masking: column (key position) `col` is valid for row g iff col <= lim_lo and for row
// g + 8 iff col <= lim_hi; only applied when need_mask is set.
#ifndef SERVESIM_MODELS_KERNELS_CUDA_ATTN_TILE_CUH_
#define SERVESIM_MODELS_KERNELS_CUDA_ATTN_TILE_CUH_

#include "device_utils.cuh"

namespace servesim::kernels::cuda {

// Loads the A fragments of 16 rows starting at `row0` of a swizzled Q tile in smem.
template <int D>
__device__ __forceinline__ void LoadQFragments(uint32_t (&qf)[D / 16][4], const bf16* s_q,
                                               int row0) {
  const int lane = threadIdx.x & 31;
  const int r = row0 + (lane & 7) + (((lane >> 3) & 1) << 3);
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    Ldmatrix4(qf[kk], SmemAddr(s_q) + SwizzledOffset<D / 8>(r, kk * 2 + (lane >> 4)));
  }
}

template <int D, int kBc>
__device__ __forceinline__ void WarpAttendTile(const uint32_t (&qf)[D / 16][4], const bf16* s_k,
                                               const bf16* s_v, float (&o)[D / 8][4], float (&m)[2],
                                               float (&l)[2], float scale_log2, bool need_mask,
                                               int kv0, int lim_lo, int lim_hi) {
  static_assert(kBc % 16 == 0, "key tile must be a multiple of 16");
  constexpr int kChunks = D / 8;
  const int lane = threadIdx.x & 31;
  const int q4 = lane & 3;

  // S = Q K^T over the tile.
  float s[kBc / 8][4];
#pragma unroll
  for (int j = 0; j < kBc / 8; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
  const uint32_t k_base = SmemAddr(s_k);
  const int k_tok = (lane & 7) + ((lane >> 4) << 3);
  const int k_chunk = (lane >> 3) & 1;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
    for (int np = 0; np < kBc / 16; ++np) {
      uint32_t b[4];
      Ldmatrix4(b, k_base + SwizzledOffset<kChunks>(np * 16 + k_tok, kk * 2 + k_chunk));
      MmaBf16(s[2 * np], qf[kk], b[0], b[1]);
      MmaBf16(s[2 * np + 1], qf[kk], b[2], b[3]);
    }
  }

  // Scale (to log2 units), mask, running max over the quad.
  float mx0 = m[0], mx1 = m[1];
#pragma unroll
  for (int j = 0; j < kBc / 8; ++j) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      float v = s[j][e] * scale_log2;
      if (need_mask) {
        const int col = kv0 + 8 * j + 2 * q4 + (e & 1);
        if (col > (e < 2 ? lim_lo : lim_hi)) v = -INFINITY;
      }
      s[j][e] = v;
    }
    mx0 = fmaxf(mx0, fmaxf(s[j][0], s[j][1]));
    mx1 = fmaxf(mx1, fmaxf(s[j][2], s[j][3]));
  }
  mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
  mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
  mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
  mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
  // A row that has seen only masked keys keeps m = -inf; use 0 as its base so that
  // exp2(-inf - base) = 0 instead of NaN.
  const float base0 = mx0 == -INFINITY ? 0.0f : mx0;
  const float base1 = mx1 == -INFINITY ? 0.0f : mx1;
  const float alpha0 = FastExp2(m[0] - base0);
  const float alpha1 = FastExp2(m[1] - base1);
  m[0] = mx0;
  m[1] = mx1;
  float rs0 = 0.0f, rs1 = 0.0f;
#pragma unroll
  for (int j = 0; j < kBc / 8; ++j) {
    s[j][0] = FastExp2(s[j][0] - base0);
    s[j][1] = FastExp2(s[j][1] - base0);
    s[j][2] = FastExp2(s[j][2] - base1);
    s[j][3] = FastExp2(s[j][3] - base1);
    rs0 += s[j][0] + s[j][1];
    rs1 += s[j][2] + s[j][3];
  }
  l[0] = l[0] * alpha0 + rs0;
  l[1] = l[1] * alpha1 + rs1;
#pragma unroll
  for (int n = 0; n < D / 8; ++n) {
    o[n][0] *= alpha0;
    o[n][1] *= alpha0;
    o[n][2] *= alpha1;
    o[n][3] *= alpha1;
  }

  // O += P V. P's accumulator layout is exactly the A-fragment layout of the next mma.
  const uint32_t v_base = SmemAddr(s_v);
  const int v_tok = (lane & 7) + (((lane >> 3) & 1) << 3);
  const int v_chunk = lane >> 4;
#pragma unroll
  for (int t = 0; t < kBc / 16; ++t) {
    uint32_t a[4];
    a[0] = PackBf16(s[2 * t][0], s[2 * t][1]);
    a[1] = PackBf16(s[2 * t][2], s[2 * t][3]);
    a[2] = PackBf16(s[2 * t + 1][0], s[2 * t + 1][1]);
    a[3] = PackBf16(s[2 * t + 1][2], s[2 * t + 1][3]);
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t b[4];
      Ldmatrix4Trans(b, v_base + SwizzledOffset<kChunks>(t * 16 + v_tok, dp * 2 + v_chunk));
      MmaBf16(o[2 * dp], a, b[0], b[1]);
      MmaBf16(o[2 * dp + 1], a, b[2], b[3]);
    }
  }
}

// Variant of WarpAttendTile for a warp that owns kM x 16 query rows (rows row0 ..
// row0 + 16 kM - 1 of the swizzled Q tile s_q): every K and V fragment read from shared
// memory feeds kM mma instead of one, which halves (kM = 2) the shared-memory traffic per
// flop; Q fragments are re-read from shared memory at each 16-wide step of head_dim.
// State per m-tile mt: o[mt], m[mt], l[mt] as in WarpAttendTile (rows g and g + 8 of that
// m-tile); lim[mt][0..1] are the last visible key positions of those two rows.
template <int D, int kBc, int kM>
__device__ __forceinline__ void WarpAttendTileM(const bf16* s_q, int row0, const bf16* s_k,
                                                const bf16* s_v, float (&o)[kM][D / 8][4],
                                                float (&m)[kM][2], float (&l)[kM][2],
                                                float scale_log2, bool need_mask, int kv0,
                                                const int (&lim)[kM][2]) {
  static_assert(kBc % 16 == 0, "key tile must be a multiple of 16");
  constexpr int kChunks = D / 8;
  const int lane = threadIdx.x & 31;
  const int q4 = lane & 3;

  float s[kM][kBc / 8][4];
#pragma unroll
  for (int mt = 0; mt < kM; ++mt) {
#pragma unroll
    for (int j = 0; j < kBc / 8; ++j) s[mt][j][0] = s[mt][j][1] = s[mt][j][2] = s[mt][j][3] = 0.0f;
  }
  const uint32_t q_base = SmemAddr(s_q);
  const int q_row = row0 + (lane & 7) + (((lane >> 3) & 1) << 3);
  const uint32_t k_base = SmemAddr(s_k);
  const int k_tok = (lane & 7) + ((lane >> 4) << 3);
  const int k_chunk = (lane >> 3) & 1;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    uint32_t a[kM][4];
#pragma unroll
    for (int mt = 0; mt < kM; ++mt) {
      Ldmatrix4(a[mt], q_base + SwizzledOffset<kChunks>(q_row + 16 * mt, kk * 2 + (lane >> 4)));
    }
#pragma unroll
    for (int np = 0; np < kBc / 16; ++np) {
      uint32_t b[4];
      Ldmatrix4(b, k_base + SwizzledOffset<kChunks>(np * 16 + k_tok, kk * 2 + k_chunk));
#pragma unroll
      for (int mt = 0; mt < kM; ++mt) {
        MmaBf16(s[mt][2 * np], a[mt], b[0], b[1]);
        MmaBf16(s[mt][2 * np + 1], a[mt], b[2], b[3]);
      }
    }
  }

#pragma unroll
  for (int mt = 0; mt < kM; ++mt) {
    float mx0 = m[mt][0], mx1 = m[mt][1];
#pragma unroll
    for (int j = 0; j < kBc / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        float v = s[mt][j][e] * scale_log2;
        if (need_mask) {
          const int col = kv0 + 8 * j + 2 * q4 + (e & 1);
          if (col > lim[mt][e >> 1]) v = -INFINITY;
        }
        s[mt][j][e] = v;
      }
      mx0 = fmaxf(mx0, fmaxf(s[mt][j][0], s[mt][j][1]));
      mx1 = fmaxf(mx1, fmaxf(s[mt][j][2], s[mt][j][3]));
    }
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
    const float base0 = mx0 == -INFINITY ? 0.0f : mx0;
    const float base1 = mx1 == -INFINITY ? 0.0f : mx1;
    const float alpha0 = FastExp2(m[mt][0] - base0);
    const float alpha1 = FastExp2(m[mt][1] - base1);
    m[mt][0] = mx0;
    m[mt][1] = mx1;
    float rs0 = 0.0f, rs1 = 0.0f;
#pragma unroll
    for (int j = 0; j < kBc / 8; ++j) {
      s[mt][j][0] = FastExp2(s[mt][j][0] - base0);
      s[mt][j][1] = FastExp2(s[mt][j][1] - base0);
      s[mt][j][2] = FastExp2(s[mt][j][2] - base1);
      s[mt][j][3] = FastExp2(s[mt][j][3] - base1);
      rs0 += s[mt][j][0] + s[mt][j][1];
      rs1 += s[mt][j][2] + s[mt][j][3];
    }
    l[mt][0] = l[mt][0] * alpha0 + rs0;
    l[mt][1] = l[mt][1] * alpha1 + rs1;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      o[mt][n][0] *= alpha0;
      o[mt][n][1] *= alpha0;
      o[mt][n][2] *= alpha1;
      o[mt][n][3] *= alpha1;
    }
  }

  const uint32_t v_base = SmemAddr(s_v);
  const int v_tok = (lane & 7) + (((lane >> 3) & 1) << 3);
  const int v_chunk = lane >> 4;
#pragma unroll
  for (int t = 0; t < kBc / 16; ++t) {
    uint32_t a[kM][4];
#pragma unroll
    for (int mt = 0; mt < kM; ++mt) {
      a[mt][0] = PackBf16(s[mt][2 * t][0], s[mt][2 * t][1]);
      a[mt][1] = PackBf16(s[mt][2 * t][2], s[mt][2 * t][3]);
      a[mt][2] = PackBf16(s[mt][2 * t + 1][0], s[mt][2 * t + 1][1]);
      a[mt][3] = PackBf16(s[mt][2 * t + 1][2], s[mt][2 * t + 1][3]);
    }
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t b[4];
      Ldmatrix4Trans(b, v_base + SwizzledOffset<kChunks>(t * 16 + v_tok, dp * 2 + v_chunk));
#pragma unroll
      for (int mt = 0; mt < kM; ++mt) {
        MmaBf16(o[mt][2 * dp], a[mt], b[0], b[1]);
        MmaBf16(o[mt][2 * dp + 1], a[mt], b[2], b[3]);
      }
    }
  }
}

// Issues cp.async copies of `rows` cache rows (positions pos0 .. pos0+rows-1 of one
// sequence, one kv head) into a swizzled smem tile; positions >= valid_end are zero-filled.
// All threads of the block call it with the same arguments; thread `tid` of `nthreads`
// copies chunks tid, tid + nthreads, ...
template <int D, int kRows>
__device__ __forceinline__ void LoadKvTile(bf16* s_k, bf16* s_v, const bf16* k_cache,
                                           const bf16* v_cache, const int32_t* block_row, int pos0,
                                           int valid_end, int kv_heads, int kvh, int tid,
                                           int nthreads) {
  constexpr int kChunks = D / 8;
  const uint32_t k_base = SmemAddr(s_k), v_base = SmemAddr(s_v);
  for (int i = tid; i < kRows * kChunks; i += nthreads) {
    const int r = i / kChunks, c = i % kChunks;
    const int pos = pos0 + r;
    const bool valid = pos < valid_end;
    int64_t off = 0;
    if (valid) {
      const int64_t block = __ldg(block_row + pos / 16);
      off = ((block * 16 + (pos & 15)) * kv_heads + kvh) * D + c * 8;
    }
    const uint32_t so = SwizzledOffset<kChunks>(r, c);
    CpAsync16(k_base + so, k_cache + off, valid);
    CpAsync16(v_base + so, v_cache + off, valid);
  }
}

}  // namespace servesim::kernels::cuda

#endif  // SERVESIM_MODELS_KERNELS_CUDA_ATTN_TILE_CUH_
