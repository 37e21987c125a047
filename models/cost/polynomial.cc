// models/cost/polynomial.cc — `polynomial`: the fitted latency model of the DistServe simulator
// (ALGORITHMS.md §0; simdistserve/estimators/time_estimator.py), times in milliseconds. DistServe
// gives a pipeline stage's time, (a + b·Σl + c·Σl²)/PP + PP for a prefill over the prompt chunks l
// and (a + b·Σctx + c·B)/PP for a decode step (coefficients switch to the `decode_large_*` row when
// B >= decode_large_batch). An iteration cost here is the batch's latency through the whole
// pipeline — PP stages — so this model returns PP × the stage time:
//   prefill = a + b·Σl + c·Σl² + PP²   (the PP² is DistServe's +PP ms per stage; pipeline_overhead)
//   decode  = a + b·Σctx + c·B
// and an instance with PP pipeline slots starts a new micro-batch every latency / PP, so its
// throughput per slot is DistServe's stage time. With PP = 1 the two readings coincide. A mixed
// batch costs the sum. Defaults are DistServe's OPT-13B TP1 row on A100-80GB, so a pool of any
// other model, hardware or TP that gives none of the coefficients is a configuration error (its
// times would be OPT-13B's on an A100). Also the model of choice for tests that need exact,
// hand-checkable iteration times.
#include <cmath>

#include "models/cost/cost_model.h"

namespace servesim {
namespace {

class PolynomialCostModel final : public CostModel {
 public:
  PolynomialCostModel(ConfigNode& cfg, const Deployment& d) : pp_(d.pipeline_parallel) {
    bool given = false;
    for (const char* key :
         {"prefill_a_ms", "prefill_b_ms", "prefill_c_ms", "decode_a_ms", "decode_b_ms",
          "decode_c_ms", "decode_large_a_ms", "decode_large_b_ms", "decode_large_c_ms"}) {
      given = given || cfg.has(key);
    }
    const bool fitted = d.model != nullptr && d.hardware != nullptr && d.model->name == "opt-13b" &&
                        d.hardware->name == "a100-80g" && d.tensor_parallel == 1;
    if (!given && !fitted) {
      cfg.fail("impl",
               "the polynomial model's default coefficients are DistServe's fit for opt-13b TP 1 "
               "on a100-80g, not " +
                   (d.model ? d.model->name : std::string("?")) + " TP " +
                   std::to_string(d.tensor_parallel) + " on " +
                   (d.hardware ? d.hardware->name : std::string("?")) +
                   ": give this deployment's prefill_*_ms and decode_*_ms coefficients, or use "
                   "roofline or measured");
    }
    pa_ = cfg.get<double>("prefill_a_ms", 18.10, "prefill constant, ms", NonNegative());
    pb_ = cfg.get<double>("prefill_b_ms", 0.1019, "prefill ms per token", NonNegative());
    pc_ = cfg.get<double>("prefill_c_ms", 7.12e-6, "prefill ms per token squared (per prompt)",
                          NonNegative());
    da_ = cfg.get<double>("decode_a_ms", 19.93, "decode constant, ms", NonNegative());
    db_ = cfg.get<double>("decode_b_ms", 6.27e-4, "decode ms per context token", NonNegative());
    dc_ = cfg.get<double>("decode_c_ms", 0.0385, "decode ms per request", NonNegative());
    large_b_ = cfg.get<std::int64_t>(
        "decode_large_batch", 95, "batch size from which the large-batch row applies", AtLeast(1));
    la_ = cfg.get<double>("decode_large_a_ms", 7.17, "large-batch decode constant, ms",
                          NonNegative());
    lb_ = cfg.get<double>("decode_large_b_ms", 5.80e-4, "large-batch decode ms per context token",
                          NonNegative());
    lc_ = cfg.get<double>("decode_large_c_ms", 0.158, "large-batch decode ms per request",
                          NonNegative());
    pp_overhead_ = cfg.get<bool>("pipeline_overhead", true,
                                 "add PP ms to each prefill (DistServe's pipeline term)");
  }

  IterationCost estimate(const BatchShape& batch) const override {
    IterationCost c;
    const double pp = pp_;
    double prefill_ms = 0, decode_ms = 0;
    if (!batch.prefills.empty()) {
      double sum = 0, sum_sq = 0;
      for (const auto& s : batch.prefills) {
        sum += s.new_tokens;
        sum_sq += static_cast<double>(s.new_tokens) * s.new_tokens;
      }
      prefill_ms = pa_ + pb_ * sum + pc_ * sum_sq + (pp_overhead_ ? pp * pp : 0.0);
    }
    if (batch.decode_requests > 0) {
      const bool large = batch.decode_requests >= large_b_;
      const double ctx = static_cast<double>(batch.decode_context_tokens),
                   b = static_cast<double>(batch.decode_requests);
      decode_ms = large ? la_ + lb_ * ctx + lc_ * b : da_ + db_ * ctx + dc_ * b;
    }
    c.breakdown_ns[static_cast<int>(OpClass::kAttentionPrefill)] = prefill_ms * 1e6;
    c.breakdown_ns[static_cast<int>(OpClass::kAttentionDecode)] = decode_ms * 1e6;
    c.duration_ns = duration_from_ns((prefill_ms + decode_ms) * 1e6);
    return c;
  }

 private:
  int pp_;
  double pa_, pb_, pc_, da_, db_, dc_, la_, lb_, lc_;
  std::int64_t large_b_;
  bool pp_overhead_;
};

}  // namespace

SERVESIM_REGISTER(CostModel, PolynomialCostModel, "polynomial",
                  "DistServe's fitted model: prefill a+b·Σl+c·Σl², decode a+b·Σctx+c·B (ms); "
                  "defaults OPT-13B/A100")

}  // namespace servesim
