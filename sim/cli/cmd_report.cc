// sim/cli/cmd_report.cc — `servesim report DB [--runs FILTER] [--by KEY]... [-o DIR]`: tables
// and plots comparing the runs of a results database (sim/metrics/report.h).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/metrics/report.h"

namespace po = boost::program_options;

namespace servesim::cli {

int cmd_report(const Args& args) {
  po::options_description opts(
      "servesim report DB [options]\n\n"
      "Compares the finished runs of a results database: report.md with a table of the key\n"
      "metrics (also runs.csv and runs.json) and PNG plots drawn with gnuplot (latency CDFs,\n"
      "SLO attainment against the swept rate with the goodput point, KV / batch / queue\n"
      "timelines, per-client service). Rows are labelled by swept values (run_params).\nOptions");
  ReportOptions o;
  opts.add_options()("help,h", "show this help")(
      "runs", po::value<std::string>(&o.runs_filter),
      "SQL condition on the runs table, e.g. \"scenario = 'quickstart' AND run_id > 4\"")(
      "by", po::value<std::vector<std::string>>(&o.by)->composing(),
      "run_params key labelling the rows; runs sharing every --by value are averaged "
      "(repeatable; default: every key that varies, one row per run)")(
      "output,o", po::value<std::string>(&o.dir)->default_value("report"), "output folder")(
      "attainment", po::value<double>(&o.attainment_target)->default_value(0.9, "0.9"),
      "attainment target of the goodput point")(
      "max-series", po::value<std::size_t>(&o.max_series)->default_value(12),
      "rows drawn per plot")("db", po::value<std::string>(&o.db), "results database");
  po::positional_options_description pos;
  pos.add("db", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nExample:\n  servesim report sweep.db --by workload.arrival.rate_per_s --by "
                 "policies.batcher.impl -o report/\n";
    return 0;
  }
  if (o.db.empty()) throw UsageError("missing the results database");
  if (o.max_series == 0) throw UsageError("--max-series must be at least 1");
  const ReportResult r = write_report(o);
  std::printf("report: %zu run(s) in %zu row(s) → %s/report.md (%zu files)\n", r.runs, r.rows,
              o.dir.c_str(), r.files.size());
  for (const std::string& s : r.skipped) std::printf("  not drawn: %s\n", s.c_str());
  return 0;
}

}  // namespace servesim::cli
