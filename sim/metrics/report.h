// sim/metrics/report.h — `servesim report`: a comparison of the runs of a results database as
// tables (Markdown, CSV, JSON) and plots (PNG through gnuplot).
//
// Runs: the finished runs matching `runs_filter` (an SQL condition over the runs table, e.g.
// "scenario = 'quickstart'"), in run_id order. Rows: one per run, labelled by its swept values —
// the run_params keys named by `by`, else every run_params key whose value differs between the
// selected runs — or, with `by`, one per distinct value of those keys (runs that share them, such
// as seeds of one variant, are averaged; the `runs` column counts them). Columns: the run
// overview's metrics (the `run_overview` view: completed requests, throughput, TTFT/TPOT/E2E P50
// and P99, SLO attainment, preemptions), each the mean over the row's runs.
//
// Plots (each with a title, labelled axes with units and a legend of the rows' labels; at most
// `max_series` rows per plot, the rest named in report.md):
//   ttft_cdf.png, tpot_cdf.png, e2e_cdf.png — CDFs of the finished requests' latencies;
//   attainment.png — SLO attainment against the first numeric swept key (the arrival rate when it
//     is swept), one line per value of the other keys, with each line's goodput point (where
//     it crosses `attainment_target`, interpolated) — when the runs have an `slo` section;
//   timeline.png — KV usage (% of blocks), batch size and waiting requests over time for the
//     first rows' first runs (iterations table and instance_samples, when written);
//   client_service.png — per-client service per window for the first run with several clients.
// report.md links every file. Plots need gnuplot; without it the tables are written and the
// report says which plots were skipped.
#pragma once

#include <string>
#include <vector>

namespace servesim {

struct ReportOptions {
  std::string db;
  std::string runs_filter;      // SQL condition over `runs` (empty: all finished runs)
  std::vector<std::string> by;  // run_params keys that label (and group) the rows
  std::string dir = "report";
  std::size_t max_series = 12;
  double attainment_target = 0.9;
  std::string gnuplot = "gnuplot";
};

struct ReportResult {
  std::size_t runs = 0, rows = 0;
  std::vector<std::string> files;    // written, relative to dir
  std::vector<std::string> skipped;  // plots not drawn, with the reason
};

// Throws OutputError (unreadable database, unwritable folder) or UsageError (bad filter, no run).
ReportResult write_report(const ReportOptions& options);

}  // namespace servesim
