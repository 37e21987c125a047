// models/kernels/bench/check.h — correctness of a backend's kernels against the CPU
// reference, on fresh random inputs at several shapes per operation.
//
// For each case: inputs are drawn on the backend under test (a fresh seed per tensor),
// copied byte for byte to the reference backend, outputs are poisoned with NaN on both
// sides, the operation runs on both, and every output is compared as
//   rel_err = ||out - ref||_2 / ||ref||_2   (in double, over all elements)
// A case passes iff rel_err < tol and every output element is finite (an unwritten
// element stays NaN, and NaN never passes). tol is 1e-2 for bf16/fp8 operands and 1e-4
// for f32. Cache writes are also checked for stray writes: slots not addressed by the
// slot mapping must still hold the poison.
#ifndef SERVESIM_MODELS_KERNELS_BENCH_CHECK_H_
#define SERVESIM_MODELS_KERNELS_BENCH_CHECK_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "op_bench.h"

namespace servesim::kernels {

struct CheckResult {
  std::string op;
  std::string kernel;
  std::string dtype;
  std::string shape;  // human-readable case description
  double rel_err = 0.0;
  double tol = 0.0;
  bool finite = true;  // no NaN/inf in the checked outputs
  bool pass = false;
  std::string error;  // exception text when the case could not run
};

struct CheckOptions {
  uint64_t seed = 0;   // 0: draw one from std::random_device
  bool quick = false;  // small shapes only (CPU-vs-CPU smoke runs)
  std::ostream* log = nullptr;
};

// Relative L2 error of out against ref; *finite is false when any out or ref is not finite.
double RelError(const std::vector<float>& out, const std::vector<float>& ref, bool* finite);

// Draws opt.seed first when it is 0 (so the caller can record it).
std::vector<CheckResult> RunChecks(Backend& under_test, Backend& reference, CheckOptions& opt);
Json ChecksToJson(const std::vector<CheckResult>& results, uint64_t seed);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_BENCH_CHECK_H_
