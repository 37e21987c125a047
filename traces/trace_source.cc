// traces/trace_source.cc — the workload factory: picks a registered TraceSource by "impl" and
// wraps it in the transforms of its `transforms` list.
#include "traces/trace_source.h"

#include <cstdio>

#include "traces/transforms/transform.h"

namespace servesim {

void report_note(const TraceContext& ctx, const std::string& note) {
  if (ctx.report) {
    ctx.report(note);
  } else {
    std::fprintf(stderr, "servesim: workload: %s\n", note.c_str());
  }
}

std::unique_ptr<TraceSource> make_trace_source(ConfigNode cfg, const TraceContext& ctx) {
  std::unique_ptr<TraceSource> source =
      Registry<TraceSource>::instance().create(cfg, "synthetic", ctx);
  for (ConfigNode t : cfg.child_list("transforms")) {
    if (!t.has("impl"))
      t.fail("impl", "required key is missing (which transform; servesim list transforms)");
    std::unique_ptr<TraceTransform> wrapper =
        Registry<TraceTransform>::instance().create(t, "", ctx);
    wrapper->attach(std::move(source));
    source = std::move(wrapper);
  }
  return source;
}

}  // namespace servesim
