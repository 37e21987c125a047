// sim/cli/cmd_merge.cc — `servesim merge OUT.db IN.db...`: copies every run of the inputs into
// OUT under new run ids (sim/metrics/merge.h), atomically; `--resume` skips runs already merged
// from the same input (by path and run id), so a merge can be repeated as shards arrive.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/metrics/merge.h"

namespace po = boost::program_options;

namespace servesim::cli {

int cmd_merge(const Args& args) {
  po::options_description opts(
      "servesim merge OUT.db IN.db [IN.db ...] [options]\n\n"
      "Copies every run of the inputs into OUT (new run ids, in input order; run_sources says "
      "where\n"
      "each came from). All or nothing: a failure leaves OUT as it was.\nOptions");
  std::vector<std::string> files;
  opts.add_options()("help,h", "show this help")("resume",
                                                 "skip runs already merged from the same input")(
      "files", po::value<std::vector<std::string>>(&files), "OUT.db followed by the inputs");
  po::positional_options_description pos;
  pos.add("files", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\nExample:\n  servesim merge all.db shard_0.db shard_1.db\n";
    return 0;
  }
  if (files.size() < 2) throw UsageError("give OUT.db and at least one input database");
  const std::string out = files.front();
  const std::vector<std::string> inputs(files.begin() + 1, files.end());
  for (const std::string& in : inputs) {
    if (in == out) throw UsageError("an input is the output ('" + out + "')");
  }
  MergeOptions options;
  options.resume = vm.count("resume") > 0;
  const std::vector<std::int64_t> ids = merge_results(out, inputs, options);
  std::printf("merged %zu run(s) into %s\n", ids.size(), out.c_str());
  return 0;
}

}  // namespace servesim::cli
