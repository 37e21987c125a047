// traces/distributions.h — the two building blocks of generated workloads:
//  * ArrivalProcess: when the next request arrives (registered kind "arrival");
//  * LengthDistribution: how many tokens a prompt or an output has (kind "length").
// Both are seeded by the caller's Rng, so every stream is reproducible.
#pragma once

#include <cstdint>
#include <memory>

#include "sim/core/registry.h"
#include "sim/core/rng.h"
#include "traces/trace_source.h"

namespace servesim {

class ArrivalProcess {
 public:
  using Context = TraceContext;
  static constexpr const char* kKind = "arrival";
  virtual ~ArrivalProcess() = default;
  // The arrival time following one at `prev_ns` (the first call gets prev_ns = 0).
  virtual TimeNs next_arrival_ns(TimeNs prev_ns, Rng& rng) = 0;
  // Long-run mean rate in requests per second (for reports and capacity scaling).
  virtual double mean_rate_per_s() const = 0;
};

class LengthDistribution {
 public:
  using Context = TraceContext;
  static constexpr const char* kKind = "length";
  virtual ~LengthDistribution() = default;
  // A token count >= 1.
  virtual std::int32_t sample(Rng& rng) = 0;
  virtual double mean() const = 0;
};

std::unique_ptr<ArrivalProcess> make_arrival_process(ConfigNode cfg, const TraceContext& ctx);
std::unique_ptr<LengthDistribution> make_length_distribution(ConfigNode cfg, const TraceContext& ctx);
// Reads `parent.key`, which is either a mapping ({impl: lognormal, ...}) or a plain number
// (shorthand for {impl: fixed, value: N}); absent means fixed `default_tokens`.
std::unique_ptr<LengthDistribution> make_length_distribution(ConfigNode& parent, std::string_view key,
                                                             std::int64_t default_tokens, const TraceContext& ctx);

}  // namespace servesim
