// models/kernels/validate.cc — argument checks shared by every backend.
#include "validate.h"

#include <stdexcept>
#include <string>

namespace servesim::kernels {
namespace {

void Require(bool ok, const char* op, const std::string& what) {
  if (!ok) throw std::invalid_argument(std::string(op) + ": " + what);
}

void RequireTensor(const Tensor& t, DType dtype, int64_t min_elems, const char* op,
                   const char* name) {
  Require(!t.empty(), op, std::string(name) + " is empty");
  Require(t.dtype == dtype, op,
          std::string(name) + " has dtype " + std::string(DTypeName(t.dtype)) + ", expected " +
              std::string(DTypeName(dtype)));
  Require(t.elems >= min_elems, op,
          std::string(name) + " holds " + std::to_string(t.elems) + " elements, needs " +
              std::to_string(min_elems));
}

}  // namespace

void ValidateGemm(const GemmArgs& a) {
  const char* op = "gemm";
  Require(a.m > 0 && a.n > 0 && a.k > 0, op, "m, n, k must be positive");
  const DType in = a.a.dtype;
  Require(in == DType::kBF16 || in == DType::kF8E4M3 || in == DType::kF32, op,
          "operand dtype must be bf16, fp8_e4m3 or f32");
  const DType out = in == DType::kF32 ? DType::kF32 : DType::kBF16;
  RequireTensor(a.a, in, int64_t{a.m} * a.k, op, "a");
  RequireTensor(a.b, in, int64_t{a.n} * a.k, op, "b");
  RequireTensor(a.c, out, int64_t{a.m} * a.n, op, "c");
  if (in != DType::kF32) Require(a.k % 16 == 0 && a.n % 8 == 0, op, "k % 16 and n % 8 must be 0");
}

void ValidateRmsNorm(const RmsNormArgs& a) {
  const char* op = "rms_norm";
  Require(a.tokens > 0 && a.hidden > 0 && a.hidden % 8 == 0, op,
          "tokens > 0 and hidden a positive multiple of 8 required");
  const DType t = a.x.dtype;
  Require(t == DType::kBF16 || t == DType::kF32, op, "dtype must be bf16 or f32");
  const int64_t n = int64_t{a.tokens} * a.hidden;
  RequireTensor(a.x, t, n, op, "x");
  RequireTensor(a.out, t, n, op, "out");
  RequireTensor(a.weight, t, a.hidden, op, "weight");
  if (!a.residual.empty()) RequireTensor(a.residual, t, n, op, "residual");
}

void ValidateAct(const ActArgs& a) {
  const char* op = "act";
  Require(a.tokens > 0 && a.width > 0 && a.width % 8 == 0, op,
          "tokens > 0 and width a positive multiple of 8 required");
  const DType t = a.in.dtype;
  Require(t == DType::kBF16 || t == DType::kF32, op, "dtype must be bf16 or f32");
  RequireTensor(a.in, t, int64_t{a.tokens} * a.width * (a.gated ? 2 : 1), op, "in");
  RequireTensor(a.out, t, int64_t{a.tokens} * a.width, op, "out");
}

void ValidateRopeCache(const RopeCacheArgs& a) {
  const char* op = "rope_cache";
  Require(a.tokens > 0 && a.heads > 0 && a.kv_heads > 0, op, "tokens and heads must be positive");
  Require(a.head_dim % 16 == 0 && a.head_dim <= 256, op,
          "head_dim must be a multiple of 16, <= 256");
  Require(a.row_stride >= int64_t{a.heads + 2 * a.kv_heads} * a.head_dim && a.row_stride % 8 == 0,
          op, "row_stride must cover q,k,v and be a multiple of 8");
  RequireTensor(a.qkv, DType::kBF16,
                (a.tokens - 1) * a.row_stride + int64_t{a.heads + 2 * a.kv_heads} * a.head_dim, op,
                "qkv");
  RequireTensor(a.positions, DType::kI32, a.tokens, op, "positions");
  RequireTensor(a.slot_mapping, DType::kI32, a.tokens, op, "slot_mapping");
  RequireTensor(a.inv_freq, DType::kF32, a.head_dim / 2, op, "inv_freq");
  RequireTensor(a.k_cache, DType::kBF16, int64_t{kBlockTokens} * a.kv_heads * a.head_dim, op,
                "k_cache");
  RequireTensor(a.v_cache, DType::kBF16, a.k_cache.elems, op, "v_cache");
}

namespace {
void ValidateAttnCommon(const char* op, const Tensor& q, int64_t q_rows, int64_t q_row_stride,
                        const Tensor& k_cache, const Tensor& v_cache, const Tensor& block_table,
                        int64_t bt_rows, int max_blocks, int heads, int kv_heads, int head_dim,
                        float scale) {
  Require(head_dim == 64 || head_dim == 128, op, "head_dim must be 64 or 128");
  Require(heads > 0 && kv_heads > 0 && heads % kv_heads == 0, op,
          "heads must be a positive multiple of kv_heads");
  Require(q_row_stride >= int64_t{heads} * head_dim && q_row_stride % 8 == 0, op,
          "q_row_stride must cover the q heads and be a multiple of 8");
  Require(scale > 0.0f, op, "scale must be positive");
  Require(max_blocks > 0, op, "max_blocks_per_seq must be positive");
  RequireTensor(q, DType::kBF16, (q_rows - 1) * q_row_stride + int64_t{heads} * head_dim, op, "q");
  RequireTensor(k_cache, DType::kBF16, int64_t{kBlockTokens} * kv_heads * head_dim, op, "k_cache");
  RequireTensor(v_cache, DType::kBF16, k_cache.elems, op, "v_cache");
  RequireTensor(block_table, DType::kI32, bt_rows * max_blocks, op, "block_table");
}
}  // namespace

void ValidatePrefill(const PrefillArgs& a) {
  const char* op = "attn_prefill";
  Require(a.num_seqs > 0 && a.total_q > 0 && a.max_q_len > 0, op,
          "num_seqs, total_q, max_q_len must be positive");
  ValidateAttnCommon(op, a.q, a.total_q, a.q_row_stride, a.k_cache, a.v_cache, a.block_table,
                     a.num_seqs, a.max_blocks_per_seq, a.heads, a.kv_heads, a.head_dim, a.scale);
  RequireTensor(a.cu_seqlens_q, DType::kI32, a.num_seqs + 1, op, "cu_seqlens_q");
  RequireTensor(a.prior_lens, DType::kI32, a.num_seqs, op, "prior_lens");
  RequireTensor(a.out, DType::kBF16, int64_t{a.total_q} * a.heads * a.head_dim, op, "out");
  Require(a.variant >= 0 && a.variant <= 4, op, "variant must be in 0..4");
}

void ValidateDecode(const DecodeArgs& a) {
  const char* op = "attn_decode";
  Require(a.batch > 0 && a.max_context > 0, op, "batch and max_context must be positive");
  ValidateAttnCommon(op, a.q, a.batch, a.q_row_stride, a.k_cache, a.v_cache, a.block_table, a.batch,
                     a.max_blocks_per_seq, a.heads, a.kv_heads, a.head_dim, a.scale);
  Require(int64_t{a.max_blocks_per_seq} * kBlockTokens >= a.max_context, op,
          "block_table rows too short for max_context");
  RequireTensor(a.context_lens, DType::kI32, a.batch, op, "context_lens");
  RequireTensor(a.out, DType::kBF16, int64_t{a.batch} * a.heads * a.head_dim, op, "out");
  Require(a.num_splits >= 0 && a.num_splits <= 256, op, "num_splits must be in [0, 256]");
}

}  // namespace servesim::kernels
