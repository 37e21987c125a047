// models/kernels/cuda/attn_decode.cu — decode attention (one query token per sequence)
// over the paged KV cache, grouped-query, split along the context (split-K) with a
// reduction pass.
//
// A block handles one (sequence, kv head, group of up to 16 query heads, context split).
// The query heads of the group are the 16 mma rows (rows past the group are zero and never
// stored), so K/V of a kv head are read once for all its query heads. Key/value tiles of
// 64 tokens stream through a 3-stage cp.async pipeline; warp w folds tokens 16w..16w+15
// of each tile into its own online-softmax state, and the 4 warp states are merged in
// shared memory at the end. With one split the block writes the normalised output; with
// several, each writes its partial output and log2-sum-exp to the workspace and
// DecodeReduceKernel merges them.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "attn_tile.cuh"
#include "launch.h"

namespace servesim::kernels::cuda {

void InitPrefillAttributes();  // attn_prefill.cu

namespace {

constexpr int kDecodeWarps = 4;
constexpr int kDecodeThreads = 32 * kDecodeWarps;
constexpr int kDecodeTile = 64;  // tokens per pipeline stage (16 per warp)
constexpr int kDecodeStages = 3;

template <int D>
constexpr int DecodeSmemBytes() {
  return 16 * D * 2 + 2 * kDecodeStages * kDecodeTile * D * 2;
}

struct DecodeParams {
  const bf16* q;
  const bf16* k_cache;
  const bf16* v_cache;
  const int32_t* block_table;
  const int32_t* context_lens;
  bf16* out;
  float* part_o;    // [batch, heads, splits, D]
  float* part_lse;  // [batch, heads, splits]
  int64_t q_row_stride;
  int max_blocks;
  int heads, kv_heads, group, row_groups;
  int splits, split_tokens;
  float scale_log2;
};

template <int D>
__global__ void __launch_bounds__(kDecodeThreads) DecodeKernel(const DecodeParams p) {
  constexpr int kChunks = D / 8;
  constexpr int kQBytes = 16 * D * 2;
  constexpr int kKvTileBytes = kDecodeTile * D * 2;
  const int split = blockIdx.x;
  const int kvh = blockIdx.y / p.row_groups;
  const int rg = blockIdx.y % p.row_groups;
  const int b = blockIdx.z;
  const int h0 = kvh * p.group + rg * 16;
  const int nrows = min(16, p.group - rg * 16);
  const int ctx = p.context_lens[b];
  const int begin = split * p.split_tokens;
  if (begin >= ctx) return;  // this split lies past the sequence; the reducer skips it
  const int end = min(ctx, begin + p.split_tokens);
  const int n_tiles = (end - begin + kDecodeTile - 1) / kDecodeTile;

  extern __shared__ __align__(128) unsigned char smem[];
  bf16* s_q = reinterpret_cast<bf16*>(smem);
  bf16* s_k = reinterpret_cast<bf16*>(smem + kQBytes);
  bf16* s_v = reinterpret_cast<bf16*>(smem + kQBytes + kDecodeStages * kKvTileBytes);
  const int32_t* block_row = p.block_table + int64_t{b} * p.max_blocks;
  const int tid = threadIdx.x;

  for (int i = tid; i < 16 * kChunks; i += kDecodeThreads) {
    const int r = i / kChunks, c = i % kChunks;
    const bool valid = r < nrows;
    const bf16* src = p.q + int64_t{b} * p.q_row_stride + (h0 + (valid ? r : 0)) * D + c * 8;
    CpAsync16(SmemAddr(s_q) + SwizzledOffset<kChunks>(r, c), src, valid);
  }
  CpAsyncCommit();
#pragma unroll
  for (int st = 0; st < kDecodeStages - 1; ++st) {
    if (st < n_tiles) {
      LoadKvTile<D, kDecodeTile>(s_k + st * kDecodeTile * D, s_v + st * kDecodeTile * D, p.k_cache,
                                 p.v_cache, block_row, begin + st * kDecodeTile, end, p.kv_heads,
                                 kvh, tid, kDecodeThreads);
    }
    CpAsyncCommit();
  }
  CpAsyncWait<kDecodeStages - 1>();
  __syncthreads();

  const int warp = tid >> 5, lane = tid & 31;
  uint32_t qf[D / 16][4];
  LoadQFragments<D>(qf, s_q, 0);
  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY};
  float l[2] = {0.0f, 0.0f};

  for (int t = 0; t < n_tiles; ++t) {
    const int next = t + kDecodeStages - 1;
    if (next < n_tiles) {
      const int st = next % kDecodeStages;
      LoadKvTile<D, kDecodeTile>(s_k + st * kDecodeTile * D, s_v + st * kDecodeTile * D, p.k_cache,
                                 p.v_cache, block_row, begin + next * kDecodeTile, end, p.kv_heads,
                                 kvh, tid, kDecodeThreads);
    }
    CpAsyncCommit();
    CpAsyncWait<kDecodeStages - 1>();
    __syncthreads();
    const int st = t % kDecodeStages;
    const int kv0 = begin + t * kDecodeTile + warp * 16;
    if (kv0 < end) {
      const int offset = (st * kDecodeTile + warp * 16) * D;
      WarpAttendTile<D, 16>(qf, s_k + offset, s_v + offset, o, m, l, p.scale_log2, kv0 + 15 >= end,
                            kv0, end - 1, end - 1);
    }
    __syncthreads();
  }
  CpAsyncWait<0>();
  __syncthreads();

  // Merge the four warp states. The K/V stage buffers are free now.
  float* s_o = reinterpret_cast<float*>(smem + kQBytes);  // [warp][16][D]
  float* s_m = s_o + kDecodeWarps * 16 * D;               // [warp][16]
  float* s_l = s_m + kDecodeWarps * 16;                   // [warp][16]
  float l0 = l[0], l1 = l[1];
  l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
  l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
  l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
  l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
  const int g = lane >> 2, q4 = lane & 3;
#pragma unroll
  for (int n = 0; n < D / 8; ++n) {
    const int col = 8 * n + 2 * q4;
    float* lo = s_o + (warp * 16 + g) * D + col;
    float* hi = s_o + (warp * 16 + g + 8) * D + col;
    lo[0] = o[n][0];
    lo[1] = o[n][1];
    hi[0] = o[n][2];
    hi[1] = o[n][3];
  }
  if (q4 == 0) {
    s_m[warp * 16 + g] = m[0];
    s_m[warp * 16 + g + 8] = m[1];
    s_l[warp * 16 + g] = l0;
    s_l[warp * 16 + g + 8] = l1;
  }
  __syncthreads();
  for (int idx = tid; idx < nrows * D; idx += kDecodeThreads) {
    const int r = idx / D, d = idx % D;
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < kDecodeWarps; ++w) mx = fmaxf(mx, s_m[w * 16 + r]);
    float sum_l = 0.0f, acc = 0.0f;
#pragma unroll
    for (int w = 0; w < kDecodeWarps; ++w) {
      const float wt = exp2f(s_m[w * 16 + r] - mx);  // 0 for a warp that saw no key
      sum_l += s_l[w * 16 + r] * wt;
      acc += s_o[(w * 16 + r) * D + d] * wt;
    }
    const int64_t bh = int64_t{b} * p.heads + h0 + r;
    if (p.splits == 1) {
      p.out[bh * D + d] = __float2bfloat16_rn(acc / sum_l);
    } else {
      p.part_o[(bh * p.splits + split) * D + d] = acc / sum_l;
      if (d == 0) p.part_lse[bh * p.splits + split] = mx + log2f(sum_l);
    }
  }
}

template <int D>
__global__ void __launch_bounds__(D) DecodeReduceKernel(const DecodeParams p) {
  const int h = blockIdx.x, b = blockIdx.y, d = threadIdx.x;
  const int ctx = p.context_lens[b];
  const int n = min(p.splits, (ctx + p.split_tokens - 1) / p.split_tokens);
  const int64_t bh = int64_t{b} * p.heads + h;
  const float* lse = p.part_lse + bh * p.splits;
  float mx = -INFINITY;
  for (int s = 0; s < n; ++s) mx = fmaxf(mx, lse[s]);
  float sum_w = 0.0f, acc = 0.0f;
  for (int s = 0; s < n; ++s) {
    const float w = exp2f(lse[s] - mx);
    sum_w += w;
    acc += w * p.part_o[(bh * p.splits + s) * D + d];
  }
  p.out[bh * D + d] = __float2bfloat16_rn(acc / sum_w);
}

template <int D>
std::string Launch(const DecodeArgs& a, const DecodePlan& plan, DecodeParams p,
                   cudaStream_t stream) {
  const dim3 grid(plan.splits, a.kv_heads * p.row_groups, a.batch);
  if (grid.y > 65535u || grid.z > 65535u)
    throw std::invalid_argument("attn_decode: grid too large");
  DecodeKernel<D><<<grid, kDecodeThreads, DecodeSmemBytes<D>(), stream>>>(p);
  Check(cudaGetLastError(), "attn_decode launch");
  std::string name = "paged_decode_bf16_d" + std::to_string(D) + "_t64_s3";
  if (plan.splits > 1) {
    DecodeReduceKernel<D><<<dim3(a.heads, a.batch), D, 0, stream>>>(p);
    Check(cudaGetLastError(), "attn_decode reduce launch");
    name += "_splitk" + std::to_string(plan.splits) + "+reduce";
  }
  return name;
}

}  // namespace

void InitKernelAttributes() {
  InitPrefillAttributes();
  Check(cudaFuncSetAttribute(DecodeKernel<128>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             DecodeSmemBytes<128>()),
        "decode smem attribute");
  Check(cudaFuncSetAttribute(DecodeKernel<64>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             DecodeSmemBytes<64>()),
        "decode smem attribute");
}

DecodePlan PlanDecode(const DecodeArgs& a, int sm_count) {
  const int group = a.heads / a.kv_heads;
  const int row_groups = (group + 15) / 16;
  const int64_t blocks = int64_t{a.batch} * a.kv_heads * row_groups;
  const int tiles = (a.max_context + kDecodeTile - 1) / kDecodeTile;
  int splits = 1;
  if (a.num_splits > 0) {
    splits = std::min(a.num_splits, tiles);
  } else if (blocks < 2 * int64_t{sm_count}) {
    // Too few blocks for the machine: split the context, keeping >= 4 tiles per split.
    const int64_t want = (4 * int64_t{sm_count} + blocks - 1) / blocks;
    splits = static_cast<int>(std::clamp<int64_t>(std::min<int64_t>(want, tiles / 4), 1, 128));
  }
  DecodePlan plan;
  plan.split_tokens = ((tiles + splits - 1) / splits) * kDecodeTile;
  plan.splits = (a.max_context + plan.split_tokens - 1) / plan.split_tokens;
  plan.workspace_elems =
      plan.splits > 1 ? int64_t{a.batch} * a.heads * plan.splits * (a.head_dim + 1) : 0;
  return plan;
}

std::string LaunchDecode(const DecodeArgs& a, const DecodePlan& plan, float* workspace,
                         cudaStream_t stream) {
  DecodeParams p;
  p.q = static_cast<const bf16*>(a.q.data);
  p.k_cache = static_cast<const bf16*>(a.k_cache.data);
  p.v_cache = static_cast<const bf16*>(a.v_cache.data);
  p.block_table = static_cast<const int32_t*>(a.block_table.data);
  p.context_lens = static_cast<const int32_t*>(a.context_lens.data);
  p.out = static_cast<bf16*>(a.out.data);
  p.part_o = workspace;
  p.part_lse = workspace == nullptr
                   ? nullptr
                   : workspace + int64_t{a.batch} * a.heads * plan.splits * a.head_dim;
  p.q_row_stride = a.q_row_stride;
  p.max_blocks = a.max_blocks_per_seq;
  p.heads = a.heads;
  p.kv_heads = a.kv_heads;
  p.group = a.heads / a.kv_heads;
  p.row_groups = (p.group + 15) / 16;
  p.splits = plan.splits;
  p.split_tokens = plan.split_tokens;
  p.scale_log2 = a.scale * 1.4426950408889634f;
  if (plan.splits > 1 && workspace == nullptr) {
    throw std::invalid_argument("attn_decode: split plan needs a workspace");
  }
  return a.head_dim == 64 ? Launch<64>(a, plan, p, stream) : Launch<128>(a, plan, p, stream);
}

}  // namespace servesim::kernels::cuda
