// models/kernels/bench/cli.h — the command line of `servesim-kernels`, as a function so
// that tests drive it in-process.
//
//   servesim-kernels profile    [shape] [--tp N] [--backend cpu|cuda] [--out FILE] [knobs]
//   servesim-kernels check      [--backend cpu|cuda] [--out FILE] [--seed N] [--quick]
//   servesim-kernels attn-bench [shape] [--backend ...] [--out FILE] [--quick]
//   servesim-kernels ceilings   [--backend ...] [--out FILE] [--quick]
//   servesim-kernels models
// shape: --model NAME, and/or --hidden --heads --kv-heads --head-dim --ffn --gated 0|1
//        --vocab [--name NAME] (flags override the table's fields).
// Returns the process exit status: 0 success, 1 failed checks, 2 usage or runtime error.
#ifndef SERVESIM_MODELS_KERNELS_BENCH_CLI_H_
#define SERVESIM_MODELS_KERNELS_BENCH_CLI_H_

#include <ostream>
#include <string>
#include <vector>

namespace servesim::kernels {

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_BENCH_CLI_H_
