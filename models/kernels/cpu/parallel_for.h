// models/kernels/cpu/parallel_for.h — a minimal fork-join loop for the CPU reference.
// Contract: fn(i) is called exactly once for every i in [0, n), from up to
// `max_threads` threads (hardware concurrency by default); returns after all calls end.
// fn must not throw.
#ifndef SERVESIM_MODELS_KERNELS_CPU_PARALLEL_FOR_H_
#define SERVESIM_MODELS_KERNELS_CPU_PARALLEL_FOR_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace servesim::kernels {

template <typename Fn>
void ParallelFor(int64_t n, Fn&& fn, int max_threads = 0) {
  if (n <= 0) return;
  int threads =
      max_threads > 0 ? max_threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp<int64_t>(std::min<int64_t>(threads, n), 1, 64);
  if (threads == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    for (int64_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
}

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_CPU_PARALLEL_FOR_H_
