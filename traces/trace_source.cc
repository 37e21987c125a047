// traces/trace_source.cc — the workload factory (picks a registered TraceSource by "impl").
#include "traces/trace_source.h"

namespace servesim {

std::unique_ptr<TraceSource> make_trace_source(ConfigNode cfg, const TraceContext& ctx) {
  return Registry<TraceSource>::instance().create(cfg, "synthetic", ctx);
}

}  // namespace servesim
