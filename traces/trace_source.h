// traces/trace_source.h — the workload interface: a stream of Requests in arrival order.
//
// Contract: next() fills `out` and returns true, or returns false at the end of the workload.
// Arrival times never decrease. Memory use must not grow with the length of the trace.
// A malformed input row throws InputError("FILE:LINE: reason").
#pragma once

#include <cstdint>
#include <string>

#include "sim/core/registry.h"
#include "traces/request.h"

namespace servesim {

struct TraceContext {
  std::uint64_t seed = 0;   // the run seed; sources derive their own named Rng streams from it
  std::string data_dir;     // root of the shared data folder (traces/, profiles/)
};

class TraceSource {
 public:
  using Context = TraceContext;
  static constexpr const char* kKind = "workload";
  virtual ~TraceSource() = default;
  virtual bool next(Request& out) = 0;
};

// Creates the workload described by `cfg` ("impl" picks the registered source).
std::unique_ptr<TraceSource> make_trace_source(ConfigNode cfg, const TraceContext& ctx);

}  // namespace servesim
