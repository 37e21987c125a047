// tests/event_queue_test.cc — the event core: ordering by (time, phase, sequence), cancel,
// run_until, and the Simulation's clock and named random streams.
#include "sim/core/event_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/core/simulation.h"

namespace servesim {
namespace {

TEST(EventQueue, OrdersByTimeThenPhaseThenInsertion) {
  Simulation sim(1);
  std::vector<std::string> log;
  auto note = [&](std::string s) { return [&log, s] { log.push_back(s); }; };
  sim.schedule_at(20, Phase::kArrival, note("t20-arrival"));
  sim.schedule_at(10, Phase::kSchedule, note("t10-schedule-a"));
  sim.schedule_at(10, Phase::kArrival, note("t10-arrival"));
  sim.schedule_at(10, Phase::kSchedule, note("t10-schedule-b"));
  sim.schedule_at(10, Phase::kCompletion, note("t10-completion"));
  sim.schedule_at(10, Phase::kSample, note("t10-sample"));
  sim.schedule_at(10, Phase::kControl, note("t10-control"));
  sim.schedule_at(5, Phase::kSample, note("t5-sample"));
  sim.run();
  const std::vector<std::string> want = {"t5-sample",   "t10-completion", "t10-arrival",
                                         "t10-control", "t10-schedule-a", "t10-schedule-b",
                                         "t10-sample",  "t20-arrival"};
  EXPECT_EQ(log, want);
  EXPECT_EQ(sim.now(), 20);
  EXPECT_EQ(sim.events_processed(), 8u);
}

TEST(EventQueue, SameTimeEventScheduledFromHandlerIsQueuedNotRunInline) {
  Simulation sim(1);
  std::vector<int> log;
  sim.schedule_at(0, Phase::kSchedule, [&] {
    log.push_back(1);
    sim.schedule_at(sim.now(), Phase::kCompletion,
                    [&] { log.push_back(3); });  // earlier phase, but later
    log.push_back(2);
  });
  sim.run();
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
}

TEST(EventQueue, CancelSkipsEventAndReportsState) {
  Simulation sim(1);
  int ran = 0;
  EventId a = sim.schedule_at(5, Phase::kArrival, [&] { ran += 1; });
  EventId b = sim.schedule_at(6, Phase::kArrival, [&] { ran += 10; });
  EXPECT_TRUE(sim.cancel(a));
  EXPECT_FALSE(sim.cancel(a));          // twice
  EXPECT_FALSE(sim.cancel(EventId{}));  // invalid handle
  EXPECT_EQ(sim.events_pending(), 1u);
  sim.run();
  EXPECT_EQ(ran, 10);
  EXPECT_FALSE(sim.cancel(b));  // already ran
  EXPECT_EQ(sim.events_processed(), 1u);
}

TEST(EventQueue, RecycledSlotDoesNotResurrectCancelledHandle) {
  EventQueue q;
  EventId a = q.schedule(1, Phase::kArrival, [] {});
  TimeNs t;
  EventQueue::Handler h;
  ASSERT_TRUE(q.pop(t, h));
  EventId b = q.schedule(2, Phase::kArrival, [] {});  // reuses a's slot
  EXPECT_EQ(a.slot, b.slot);
  EXPECT_FALSE(q.cancel(a));  // stale handle must not cancel b
  EXPECT_EQ(q.size(), 1u);
  EXPECT_TRUE(q.cancel(b));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_time(), kTimeNever);
}

TEST(EventQueue, RunUntilStopsAtBoundaryAndResumes) {
  Simulation sim(1);
  std::vector<TimeNs> seen;
  for (TimeNs t : {10, 20, 30, 40})
    sim.schedule_at(t, Phase::kArrival, [&, t] { seen.push_back(t); });
  sim.run_until(25);
  EXPECT_EQ(seen, (std::vector<TimeNs>{10, 20}));
  EXPECT_EQ(sim.now(), 25);
  sim.run_until(30);  // inclusive
  EXPECT_EQ(seen.size(), 3u);
  sim.run();
  EXPECT_EQ(seen.back(), 40);
}

TEST(EventQueue, StopEndsRunEarly) {
  Simulation sim(1);
  int ran = 0;
  sim.schedule_at(1, Phase::kArrival, [&] {
    ++ran;
    sim.stop();
  });
  sim.schedule_at(2, Phase::kArrival, [&] { ++ran; });
  sim.run();
  EXPECT_EQ(ran, 1);
  EXPECT_TRUE(sim.stopped());
}

TEST(EventQueue, SchedulingInThePastThrows) {
  Simulation sim(1);
  sim.schedule_at(10, Phase::kArrival, [&] {
    EXPECT_THROW(sim.schedule_at(9, Phase::kArrival, [] {}), std::logic_error);
  });
  sim.run();
  EventQueue q;
  EXPECT_THROW(q.schedule(-1, Phase::kArrival, [] {}), std::logic_error);
}

TEST(EventQueue, ManyRandomEventsComeOutSorted) {
  EventQueue q;
  Rng rng(7);
  for (int i = 0; i < 5000; ++i) {
    q.schedule(rng.uniform_int(0, 1000), static_cast<Phase>(rng.uniform_int(0, kNumPhases - 1)),
               [] {});
  }
  TimeNs prev = -1;
  TimeNs t;
  EventQueue::Handler h;
  int n = 0;
  while (q.pop(t, h)) {
    EXPECT_LE(prev, t);
    prev = t;
    ++n;
  }
  EXPECT_EQ(n, 5000);
}

TEST(Simulation, NamedStreamsAreIndependentAndReproducible) {
  Simulation a(42), b(42), c(43);
  const std::uint64_t a1 = a.rng("workload").next_u64();
  EXPECT_EQ(a1, b.rng("workload").next_u64());
  EXPECT_NE(a1, c.rng("workload").next_u64());
  EXPECT_NE(a1, a.rng("router").next_u64());
  // Drawing from one stream does not move another.
  Simulation d(42);
  d.rng("router").next_u64();
  EXPECT_EQ(a1, d.rng("workload").next_u64());
}

}  // namespace
}  // namespace servesim
