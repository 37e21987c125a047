// traces/trace_source.h — the workload interface: a stream of Requests in arrival order.
//
// Contract: next() fills `out` and returns true, or returns false at the end of the workload.
// Arrival times never decrease. Memory use must not grow with the length of the trace (the one
// documented exception: a file reader with `sort: true` loads its file to sort it).
// A malformed input row throws InputError("FILE:LINE: reason").
//
// Every workload mapping may carry `transforms: [{impl: NAME, ...}, ...]`: decorators applied in
// order to the source's stream (traces/transforms/transform.h; `servesim list transforms`).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/registry.h"
#include "traces/request.h"

namespace servesim {

struct TraceContext {
  std::uint64_t seed = 0;  // the run seed; sources derive their own named Rng streams from it
  std::string data_dir;    // root of the shared data folder (traces/, profiles/)
  // The longest context (prompt + output) the served model accepts (the cluster's
  // max_model_len), for the `truncate` transform. 0 = unknown (e.g. `servesim trace`).
  std::int64_t max_context_tokens = 0;
  // Receives one-line notes a source emits at the end of its stream (bad rows skipped,
  // requests truncated). Empty: the note goes to stderr as "servesim: workload: NOTE".
  std::function<void(const std::string&)> report;
};

// Delivers `note` through ctx.report (or stderr).
void report_note(const TraceContext& ctx, const std::string& note);

class TraceSource {
 public:
  using Context = TraceContext;
  static constexpr const char* kKind = "workload";
  virtual ~TraceSource() = default;
  virtual bool next(Request& out) = 0;
  // The client ids this source will produce, when it knows them before reading (generators);
  // nullopt when it cannot tell without reading everything (trace files).
  virtual std::optional<std::vector<std::uint32_t>> known_clients() const { return std::nullopt; }
};

// Creates the workload described by `cfg` ("impl" picks the registered source), wrapped in the
// transforms its `transforms` list names.
std::unique_ptr<TraceSource> make_trace_source(ConfigNode cfg, const TraceContext& ctx);

}  // namespace servesim
