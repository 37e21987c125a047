// traces/transforms/transform.h — a TraceTransform is a TraceSource that wraps another one and
// changes its stream: rescales time, cuts a window, keeps the first N, samples, truncates.
// Registered as kind "transform"; configured in a workload's `transforms` list, applied in
// list order (the first entry sees the reader's stream):
//   workload: {impl: azure, path: ..., transforms: [{impl: scale_rate, factor: 2}, {impl: first_n,
//   n: 1000}]}
//
// Contract: attach() is called exactly once, before the first next(). A transform keeps arrival
// order (never makes an arrival earlier than the previous one) and constant memory.
#pragma once

#include <memory>

#include "traces/trace_source.h"

namespace servesim {

class TraceTransform : public TraceSource {
 public:
  using Context = TraceContext;
  static constexpr const char* kKind = "transform";
  void attach(std::unique_ptr<TraceSource> inner) { inner_ = std::move(inner); }
  // A transform keeps or drops requests; it never invents clients.
  std::optional<std::vector<std::uint32_t>> known_clients() const override {
    return inner_->known_clients();
  }

 protected:
  std::unique_ptr<TraceSource> inner_;
};

}  // namespace servesim
