// models/kernels/cuda/attn_prefill.cu — causal, grouped-query prefill attention over the
// paged KV cache, variable sequence lengths in one launch (cu_seqlens), prior context for
// chunked prefill. FlashAttention-2 style: a block owns kBr = 16 * kWarps query rows of one
// head of one sequence, streams key/value tiles of kBc tokens through a kStages-deep
// cp.async pipeline, and each warp folds every tile into its 16 rows (attn_tile.cuh).
//
// Grid: x = query head (fastest, so the heads of one kv group run side by side and share
// K/V in L2), y = query tile (reversed: the longest causal rows start first), z = sequence.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "attn_tile.cuh"
#include "launch.h"

namespace servesim::kernels::cuda {
namespace {

struct PrefillParams {
  const bf16* q;
  const bf16* k_cache;
  const bf16* v_cache;
  const int32_t* block_table;
  const int32_t* cu_seqlens_q;
  const int32_t* prior_lens;
  bf16* out;
  int64_t q_row_stride;
  int max_blocks;
  int heads, kv_heads;
  float scale_log2;
};

template <int D, int kWarps, int kM, int kBc, int kStages>
struct PrefillConfig {
  static constexpr int kWarpRows = 16 * kM;
  static constexpr int kBr = kWarpRows * kWarps;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kQBytes = kBr * D * 2;
  static constexpr int kKvTileBytes = kBc * D * 2;
  static constexpr int kSmemBytes = kQBytes + 2 * kStages * kKvTileBytes;
};

// kM = 1: each warp keeps its 16 rows of Q in registers (WarpAttendTile).
// kM > 1: each warp owns 16 kM rows and re-reads Q from shared memory (WarpAttendTileM),
// sharing every K/V fragment among its kM row tiles.
template <int D, int kWarps, int kM, int kBc, int kStages>
__global__ void __launch_bounds__(32 * kWarps) PrefillKernel(const PrefillParams p) {
  using Cfg = PrefillConfig<D, kWarps, kM, kBc, kStages>;
  constexpr int kBr = Cfg::kBr;
  constexpr int kChunks = D / 8;
  const int head = blockIdx.x;
  const int tile = gridDim.y - 1 - blockIdx.y;
  const int seq = blockIdx.z;
  const int q_start = p.cu_seqlens_q[seq];
  const int q_len = p.cu_seqlens_q[seq + 1] - q_start;
  const int row0 = tile * kBr;
  if (row0 >= q_len) return;
  const int prior = p.prior_lens[seq];
  const int kv_len = prior + q_len;
  const int kvh = head / (p.heads / p.kv_heads);
  const int kv_end = prior + min(row0 + kBr, q_len);  // keys this block needs: [0, kv_end)
  const int n_tiles = (kv_end + kBc - 1) / kBc;

  extern __shared__ __align__(128) unsigned char smem[];
  bf16* s_q = reinterpret_cast<bf16*>(smem);
  bf16* s_k = reinterpret_cast<bf16*>(smem + Cfg::kQBytes);
  bf16* s_v = reinterpret_cast<bf16*>(smem + Cfg::kQBytes + kStages * Cfg::kKvTileBytes);
  const int32_t* block_row = p.block_table + int64_t{seq} * p.max_blocks;
  const int tid = threadIdx.x;

  // Q tile (rows past q_len zero-filled).
  for (int i = tid; i < kBr * kChunks; i += Cfg::kThreads) {
    const int r = i / kChunks, c = i % kChunks;
    const bool valid = row0 + r < q_len;
    const bf16* src =
        p.q + int64_t{q_start + (valid ? row0 + r : 0)} * p.q_row_stride + head * D + c * 8;
    CpAsync16(SmemAddr(s_q) + SwizzledOffset<kChunks>(r, c), src, valid);
  }
  CpAsyncCommit();
#pragma unroll
  for (int st = 0; st < kStages - 1; ++st) {
    if (st < n_tiles) {
      LoadKvTile<D, kBc>(s_k + st * kBc * D, s_v + st * kBc * D, p.k_cache, p.v_cache, block_row,
                         st * kBc, kv_len, p.kv_heads, kvh, tid, Cfg::kThreads);
    }
    CpAsyncCommit();
  }
  CpAsyncWait<kStages - 1>();  // the Q group is complete
  __syncthreads();

  const int warp = tid >> 5, lane = tid & 31;
  const int g = lane >> 2;
  const int warp_row0 = row0 + warp * Cfg::kWarpRows;  // first row of this warp in the sequence
  const int warp_min_lim = prior + warp_row0;          // last key its first row may see
  const int warp_max_lim = warp_min_lim + Cfg::kWarpRows - 1;

  uint32_t qf[kM == 1 ? D / 16 : 1][4];
  if constexpr (kM == 1) LoadQFragments<D>(qf, s_q, warp * 16);
  float o[kM][D / 8][4];
  float m[kM][2], l[kM][2];
  int lim[kM][2];
#pragma unroll
  for (int mt = 0; mt < kM; ++mt) {
#pragma unroll
    for (int n = 0; n < D / 8; ++n) o[mt][n][0] = o[mt][n][1] = o[mt][n][2] = o[mt][n][3] = 0.0f;
    m[mt][0] = m[mt][1] = -INFINITY;
    l[mt][0] = l[mt][1] = 0.0f;
    lim[mt][0] = warp_min_lim + 16 * mt + g;
    lim[mt][1] = lim[mt][0] + 8;
  }

  for (int t = 0; t < n_tiles; ++t) {
    const int next = t + kStages - 1;
    if (next < n_tiles) {
      const int st = next % kStages;
      LoadKvTile<D, kBc>(s_k + st * kBc * D, s_v + st * kBc * D, p.k_cache, p.v_cache, block_row,
                         next * kBc, kv_len, p.kv_heads, kvh, tid, Cfg::kThreads);
    }
    CpAsyncCommit();
    CpAsyncWait<kStages - 1>();  // tile t has landed
    __syncthreads();
    const int st = t % kStages;
    const int kv0 = t * kBc;
    if (kv0 <= warp_max_lim) {  // otherwise every key of the tile is in this warp's future
      const bool need_mask = kv0 + kBc - 1 > warp_min_lim;
      if constexpr (kM == 1) {
        WarpAttendTile<D, kBc>(qf, s_k + st * kBc * D, s_v + st * kBc * D, o[0], m[0], l[0],
                               p.scale_log2, need_mask, kv0, lim[0][0], lim[0][1]);
      } else {
        WarpAttendTileM<D, kBc, kM>(s_q, warp * Cfg::kWarpRows, s_k + st * kBc * D,
                                    s_v + st * kBc * D, o, m, l, p.scale_log2, need_mask, kv0, lim);
      }
    }
    __syncthreads();  // the stage is refilled in a later iteration
  }

  // Normalise and store rows < q_len.
  const int q4 = lane & 3;
#pragma unroll
  for (int mt = 0; mt < kM; ++mt) {
    float l0 = l[mt][0], l1 = l[mt][1];
    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const float inv0 = 1.0f / l0, inv1 = 1.0f / l1;
    const int r_lo = warp_row0 + 16 * mt + g, r_hi = r_lo + 8;
    bf16* out_lo = p.out + (int64_t{q_start + r_lo} * p.heads + head) * D;
    bf16* out_hi = p.out + (int64_t{q_start + r_hi} * p.heads + head) * D;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      const int col = 8 * n + 2 * q4;
      if (r_lo < q_len) {
        *reinterpret_cast<uint32_t*>(out_lo + col) =
            PackBf16(o[mt][n][0] * inv0, o[mt][n][1] * inv0);
      }
      if (r_hi < q_len) {
        *reinterpret_cast<uint32_t*>(out_hi + col) =
            PackBf16(o[mt][n][2] * inv1, o[mt][n][3] * inv1);
      }
    }
  }
}

template <int D, int kWarps, int kM, int kBc, int kStages>
void SetPrefillAttributes() {
  using Cfg = PrefillConfig<D, kWarps, kM, kBc, kStages>;
  Check(cudaFuncSetAttribute(PrefillKernel<D, kWarps, kM, kBc, kStages>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes),
        "prefill smem attribute");
}

template <int D, int kWarps, int kM, int kBc, int kStages>
std::string Launch(const PrefillArgs& a, const PrefillParams& p, cudaStream_t stream) {
  using Cfg = PrefillConfig<D, kWarps, kM, kBc, kStages>;
  const dim3 grid(a.heads, (a.max_q_len + Cfg::kBr - 1) / Cfg::kBr, a.num_seqs);
  if (grid.y > 65535u || grid.z > 65535u) {
    throw std::invalid_argument("attn_prefill: grid too large");
  }
  PrefillKernel<D, kWarps, kM, kBc, kStages><<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(p);
  Check(cudaGetLastError(), "attn_prefill launch");
  return "flash_prefill_paged_bf16_d" + std::to_string(D) + "_br" + std::to_string(Cfg::kBr) +
         "_w" + std::to_string(kWarps) + "_bc" + std::to_string(kBc) + "_s" +
         std::to_string(kStages);
}

}  // namespace

void InitPrefillAttributes() {
  SetPrefillAttributes<128, 4, 1, 64, 3>();
  SetPrefillAttributes<128, 8, 1, 64, 2>();
  SetPrefillAttributes<128, 4, 2, 64, 2>();
  SetPrefillAttributes<128, 4, 2, 32, 3>();
  SetPrefillAttributes<64, 4, 1, 64, 3>();
  SetPrefillAttributes<64, 4, 2, 64, 2>();
}

std::string LaunchPrefill(const PrefillArgs& a, int sm_count, cudaStream_t stream) {
  PrefillParams p;
  p.q = static_cast<const bf16*>(a.q.data);
  p.k_cache = static_cast<const bf16*>(a.k_cache.data);
  p.v_cache = static_cast<const bf16*>(a.v_cache.data);
  p.block_table = static_cast<const int32_t*>(a.block_table.data);
  p.cu_seqlens_q = static_cast<const int32_t*>(a.cu_seqlens_q.data);
  p.prior_lens = static_cast<const int32_t*>(a.prior_lens.data);
  p.out = static_cast<bf16*>(a.out.data);
  p.q_row_stride = a.q_row_stride;
  p.max_blocks = a.max_blocks_per_seq;
  p.heads = a.heads;
  p.kv_heads = a.kv_heads;
  p.scale_log2 = a.scale * 1.4426950408889634f;
  int variant = a.variant;
  if (variant == 0) {
    // 128-row tiles (4 warps x 32 rows) halve the K/V traffic per query row but need
    // enough blocks to fill the machine; 64-row tiles when there would be under ~2 waves.
    const int64_t blocks128 = int64_t{a.heads} * a.num_seqs * ((a.max_q_len + 127) / 128);
    variant = blocks128 >= 2 * int64_t{sm_count} ? 3 : 1;
  }
  if (a.head_dim == 64) {
    return variant == 1 ? Launch<64, 4, 1, 64, 3>(a, p, stream)
                        : Launch<64, 4, 2, 64, 2>(a, p, stream);
  }
  if (variant == 2) return Launch<128, 8, 1, 64, 2>(a, p, stream);
  if (variant == 3) return Launch<128, 4, 2, 64, 2>(a, p, stream);
  if (variant == 4) return Launch<128, 4, 2, 32, 3>(a, p, stream);
  return Launch<128, 4, 1, 64, 3>(a, p, stream);
}

}  // namespace servesim::kernels::cuda
