// models/cost/measured.h — the `measured` cost model: the operators of iteration.h priced from
// measured kernel tables (profile_data.h), the roofline wherever the tables do not reach.
//
// Scenario configuration (under cluster.cost_model):
//   impl: measured
//   profiles: [PATH, …]        files or folders; a relative path is looked up under the
//                              scenario's data_dir first, then the current directory
//   attention_kernel: auto     aiconfigurator kernel_source to keep (auto: FA3 when present)
//   comm_impl: fastest         all-reduce implementation (fastest: the quickest present at each
//                              size, e.g. vLLM custom all-reduce vs NCCL), or one impl name
//   device_check: true         every table must come from the deployment's GPU
//   extrapolation: anchored    outside the measured range: roofline anchored to the nearest
//                              measured point (anchored) or the plain roofline (roofline)
//   + every `roofline` parameter (fallbacks and the per-iteration overhead).
//
// Per deployment the model fixes once what does not change between iterations — the (k, n) of
// each GEMM, the head configuration of attention, the widths of elementwise kernels, the TP
// group size — so an estimate only interpolates along token count, batch size and context:
//   GEMM         m = tokens (MoE experts: tokens per active expert); n above the table's
//                largest n is split into equal column blocks (an exact decomposition).
//   prefill      S segments with N new tokens and P causal pairs in all → one varlen call of S
//                sequences: without prior context (or when the table has none) each of
//                L = (√(1 + 8P/S) − 1)/2 tokens (same pairs per sequence); otherwise N/S new
//                tokens after p̄ prior with the same pairs.
//   decode       B requests, Σctx → B sequences of Σctx/B context.
//   attention head configurations absent from a table are interpolated over (KV heads, query
//   heads) when the table brackets them, else folded onto a present one with the same query/KV
//   ratio (kv/f KV heads, batch × f: the same work), else extrapolated (anchored).
//   elementwise  add_norm from add_rms_norm, else rms_norm + add; rope; act (gated or not).
//   comm         all_reduce at gpus = tp; all_gather for the logits; send_recv for PP.
// Embedding gather and sampling are always roofline (µs-scale) and do not set a fallback bit.
// fallback_mask bit c is set when any operator of class c used the roofline (no table, or a
// coordinate outside the table's range).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "models/cost/profile_data.h"
#include "models/cost/roofline.h"

namespace servesim {

struct MeasuredOptions {
  ImportOptions import;
  std::string comm_impl = "fastest";
  bool device_check = true;
  bool anchored = true;
};

// Resolves a profile path: absolute as is; relative under data_dir if it exists there, else
// relative to the current directory. Throws ConfigError naming the places tried.
std::string resolve_profile_path(const std::string& path, const std::string& data_dir);

class MeasuredCostModel final : public CostModel {
 public:
  MeasuredCostModel(ConfigNode& cfg, const Deployment& d);
  // Throws ConfigError when device_check fails.
  MeasuredCostModel(const Deployment& d, std::shared_ptr<const ProfileTables> tables,
                    const RooflineParams& p, const MeasuredOptions& o);

  IterationCost estimate(const BatchShape& batch) const override;
  IterationCost explain(const BatchShape& batch, OpTimes* detail) const override;
  // ns of one call of `op` (the Pricer of iteration.h). Ops whose price is a function of one
  // whole count below kMemoCounts — a GEMM of its m, an elementwise kernel of its tokens, a
  // collective of its tokens or sequences — are memoised in this object (a table per op, grown
  // to the largest count seen): the same inputs give the same bits, so results are unchanged.
  // Hence, like every cost model, an object serves one simulation (thread) at a time; the
  // instances of a pool share it.
  double price(Op op, const IterationShape& s, bool* fell_back) const;

  // Which table serves each operator class for this deployment ("" when the roofline does),
  // e.g. "gemm bf16 (12,345 points)"; for `servesim estimate`.
  std::vector<std::string> coverage() const;
  const ProfileTables& tables() const { return *tables_; }
  const RooflineCostModel& roofline() const { return roof_; }

 private:
  double price_uncached(Op op, const IterationShape& s, bool* fell_back) const;
  // The count that alone determines `op`'s price, or -1 when the price depends on more (or the
  // count is not a whole number below kMemoCounts).
  double memo_count(Op op, const IterationShape& s) const;
  static constexpr std::int64_t kMemoCounts = 16384;
  struct MemoEntry {
    double ns = 0;
    bool known = false;
    bool fell_back = false;
  };
  mutable std::array<std::vector<MemoEntry>, kNumOps> memo_;

  struct GemmView {
    LogGrid::View view;
    double n = 0, k = 0, pieces = 1;
  };
  struct AttnView {
    LogGrid::View view;
    const LogGrid* grid = nullptr;
    double fold = 1;                          // batch multiplier of head folding
    bool has_prior = false;                   // prefill table varies prior context
    RooflineCostModel::AttentionShape shape;  // folded shape (reference for anchoring)
  };
  struct ElemView {
    LogGrid::View view;
    double width = 0;
  };
  struct CommView {
    LogGrid::View view;
    int gpus = 0;
  };

  void bind();
  double gemm_ns(Op op, const IterationShape& s, bool* fb) const;
  double prefill_ns(const IterationShape& s, bool* fb) const;
  double decode_ns(const IterationShape& s, bool* fb) const;
  double elem_ns(const ElemView& v, double tokens, double bytes_per_token_unit, bool* fb) const;
  double comm_ns(const std::vector<CommView>& views, double bytes, int kind, bool* fb) const;
  AttnView bind_attention(const std::map<AttnKey, LogGrid>& grids, bool prefill) const;

  Deployment d_;
  RooflineCostModel roof_;
  MeasuredOptions o_;
  std::shared_ptr<const ProfileTables> tables_;
  ShardDims dims_;
  std::string gemm_dtype_;
  std::array<GemmView, kNumOps> gemm_{};
  AttnView prefill_, decode_;
  ElemView add_norm_, norm_, add_, rope_, act_;
  std::vector<CommView> allreduce_, allgather_, send_;
};

}  // namespace servesim
