// tools/bench/event_queue_bench.cc — push+pop throughput of the event queue (README figure).
// A steady-state "hold" model: the queue holds N pending events; each step pops the earliest
// and schedules a new one a random delay later, as a simulation does.
#include <benchmark/benchmark.h>

#include "sim/core/event_queue.h"
#include "sim/core/rng.h"

namespace servesim {
namespace {

void BM_EventQueueHold(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  EventQueue q;
  Rng rng(1);
  std::int64_t counter = 0;
  for (std::size_t i = 0; i < pending; ++i) {
    q.schedule(static_cast<TimeNs>(rng.uniform_int(0, 1'000'000)), Phase::kCompletion,
               [&counter] { ++counter; });
  }
  TimeNs t = 0;
  EventQueue::Handler h;
  for (auto _ : state) {
    q.pop(t, h);
    h();
    q.schedule(t + static_cast<TimeNs>(rng.uniform_int(1, 1'000'000)),
               static_cast<Phase>(counter % kNumPhases), [&counter] { ++counter; });
  }
  state.SetItemsProcessed(state.iterations());  // one push + one pop per item
  benchmark::DoNotOptimize(counter);
}
BENCHMARK(BM_EventQueueHold)->Arg(64)->Arg(1024)->Arg(65536);

}  // namespace
}  // namespace servesim
