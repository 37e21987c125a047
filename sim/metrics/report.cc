// sim/metrics/report.cc — see report.h.
#include "sim/metrics/report.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/config/errors.h"
#include "sim/core/output_file.h"
#include "sim/metrics/results_db.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;

// The run overview's metric columns, in table order, with their headers.
const std::vector<std::pair<std::string, std::string>> kColumns = {
    {"requests_completed", "completed"},  {"throughput_req_s", "req/s"},
    {"ttft_p50_s", "TTFT P50 (s)"},       {"ttft_p99_s", "TTFT P99 (s)"},
    {"tpot_p50_s", "TPOT P50 (s)"},       {"tpot_p99_s", "TPOT P99 (s)"},
    {"e2e_p50_s", "E2E P50 (s)"},         {"e2e_p99_s", "E2E P99 (s)"},
    {"slo_attainment", "SLO attainment"}, {"preemptions", "preemptions"}};

struct Row {
  std::string label;
  std::map<std::string, std::string> key_values;  // the labelling keys' values
  std::vector<std::string> run_ids;
  std::map<std::string, double> mean;  // metric → mean over the runs that have it
};

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

bool is_number(const std::string& s, double* v = nullptr) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double x = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  if (v) *v = x;
  return true;
}

// Appends "name=value" (name: the key's last dotted part), space-separated.
void append_kv(std::string& s, const std::string& key, const std::string& value) {
  if (!s.empty()) s.push_back(' ');
  const std::size_t dot = key.rfind('.');
  s.append(key, dot == std::string::npos ? 0 : dot + 1, std::string::npos);
  s.push_back('=');
  s.append(value);
}

// gnuplot string literal (single-quoted).
std::string gp(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// A swept component (a mapping value such as policies.batcher) is stored resolved, with every
// default; labels keep only `impl` and the sub-keys whose values differ between the runs that
// have them.
void shorten_mappings(std::map<std::string, std::map<std::string, std::string>>& params,
                      const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    std::map<std::string, YAML::Node> nodes;            // run → its value
    std::map<std::string, std::set<std::string>> seen;  // sub-key → its values
    bool all_maps = true;
    for (auto& [run, kv] : params) {
      const auto it = kv.find(k);
      if (it == kv.end()) continue;
      try {
        const YAML::Node n = YAML::Load(it->second);
        if (!n.IsMap()) {
          all_maps = false;
          break;
        }
        nodes[run] = n;
        for (const auto& sub : n) {
          YAML::Emitter e;
          e << YAML::Flow << sub.second;
          seen[sub.first.Scalar()].insert(e.c_str());
        }
      } catch (const YAML::Exception&) {
        all_maps = false;
        break;
      }
    }
    if (!all_maps || nodes.empty()) continue;
    for (auto& [run, n] : nodes) {
      YAML::Node keep(YAML::NodeType::Map);
      for (const auto& sub : n) {
        const std::string name = sub.first.Scalar();
        if (name == "impl" || seen[name].size() > 1) keep[name] = sub.second;
      }
      YAML::Emitter e;
      e << YAML::Flow << keep;
      params[run][k] = e.c_str();
    }
  }
}

class Plotter {
 public:
  Plotter(fs::path dir, std::string gnuplot) : dir_(std::move(dir)), gnuplot_(std::move(gnuplot)) {
    available_ = std::system(("command -v " + gnuplot_ + " >/dev/null 2>&1").c_str()) == 0;
  }
  bool available() const { return available_; }
  // Writes DATA (one block per series, separated by two blank lines) and draws `script`'s plot
  // into NAME.png. Returns false when gnuplot failed.
  bool draw(const std::string& name, const std::string& data, const std::string& script) {
    const fs::path dat = dir_ / "data" / (name + ".dat");
    const fs::path gpf = dir_ / "data" / (name + ".gp");
    std::ofstream(dat) << data;
    std::ofstream(gpf) << "set terminal pngcairo size 900,560 noenhanced font 'sans,10'\n"
                       << "set output " << gp((dir_ / (name + ".png")).string()) << "\n"
                       << "set key outside right top box\nset grid\n"
                       << "datafile = " << gp(dat.string()) << "\n"
                       << script;
    return std::system((gnuplot_ + " " + gp(gpf.string()) + " 2>" +
                        gp((dir_ / "data" / (name + ".err")).string()))
                           .c_str()) == 0;
  }

 private:
  fs::path dir_;
  std::string gnuplot_;
  bool available_ = false;
};

// "plot for [i=0:N-1] datafile index i using 1:2 with lines title word(...)" with titles given.
std::string plot_series(const std::vector<std::string>& titles, const std::string& using_cols,
                        const std::string& style) {
  std::string s = "plot ";
  for (std::size_t i = 0; i < titles.size(); ++i) {
    s += (i ? ", \\\n  " : "") + std::string("datafile index ") + std::to_string(i) + " using " +
         using_cols + " with " + style + " title " + gp(titles[i]);
  }
  return s + "\n";
}

}  // namespace

ReportResult write_report(const ReportOptions& o) {
  if (!fs::exists(o.db)) throw UsageError("no such database '" + o.db + "'");
  ResultsDb db(o.db, /*read_only=*/true);
  ReportResult result;
  // ---- the runs and their labels
  std::string where = "status = 'ok'";
  if (!o.runs_filter.empty()) where += " AND (" + o.runs_filter + ")";
  std::vector<std::string> run_ids;
  try {
    for (const auto& r : db.rows("SELECT run_id FROM runs WHERE " + where + " ORDER BY run_id"))
      run_ids.push_back(r[0]);
  } catch (const OutputError& e) {
    throw UsageError(std::string("--runs '") + o.runs_filter + "': " + e.what());
  }
  if (run_ids.empty()) throw UsageError("no finished run matches in '" + o.db + "'");
  result.runs = run_ids.size();
  std::map<std::string, std::map<std::string, std::string>> params;  // run → key → value
  std::map<std::string, std::set<std::string>> values_of;            // key → distinct values
  for (const auto& r : db.rows("SELECT p.run_id, p.key, p.value FROM run_params p JOIN runs r "
                               "USING (run_id) WHERE r." +
                               where + " ORDER BY p.run_id, p.key")) {
    params[r[0]][r[1]] = r[2];
    values_of[r[1]].insert(r[2]);
  }
  std::vector<std::string> keys = o.by;
  if (keys.empty()) {  // the keys that vary
    for (const auto& [k, vs] : values_of) {
      bool everywhere = true;
      for (const std::string& id : run_ids) everywhere = everywhere && params[id].count(k);
      if (vs.size() > 1 || !everywhere) keys.push_back(k);
    }
  } else {
    for (const std::string& k : keys) {
      if (!values_of.count(k)) {
        std::string known;
        for (const auto& [kk, vs] : values_of) known += (known.empty() ? "" : ", ") + kk;
        throw UsageError("--by " + k + ": no selected run has this key in run_params (keys: " +
                         (known.empty() ? "none" : known) + ")");
      }
    }
  }
  shorten_mappings(params, keys);
  const bool group = !o.by.empty();
  std::vector<Row> rows;
  std::map<std::string, std::size_t> row_of;
  for (const std::string& id : run_ids) {
    Row r;
    for (const std::string& k : keys) {
      const auto it = params[id].find(k);
      r.key_values[k] = it == params[id].end() ? "-" : it->second;
      append_kv(r.label, k, r.key_values[k]);
    }
    if (r.label.empty()) r.label = "run " + id;
    if (!group) r.label = keys.empty() ? r.label : r.label + " (run " + id + ")";
    if (!group && keys.empty()) r.label = "run " + id;
    const std::string gkey = group ? r.label : id;
    auto [it, fresh] = row_of.emplace(gkey, rows.size());
    if (fresh) rows.push_back(r);
    rows[it->second].run_ids.push_back(id);
  }
  // Without --by, a label is the varying keys plus the run id; keep it short when unique.
  if (!group && !keys.empty()) {
    std::map<std::string, int> count;
    for (Row& r : rows) ++count[r.label.substr(0, r.label.rfind(" (run "))];
    for (Row& r : rows) {
      const std::string bare = r.label.substr(0, r.label.rfind(" (run "));
      if (count[bare] == 1) r.label = bare;
    }
  }
  result.rows = rows.size();
  // ---- metrics: means over each row's runs, from run_overview
  for (Row& r : rows) {
    std::map<std::string, std::pair<double, int>> sum;
    for (const std::string& id : r.run_ids) {
      std::string cols;
      for (const auto& [c, h] : kColumns) cols += (cols.empty() ? "" : ", ") + c;
      const auto v = db.rows("SELECT " + cols + " FROM run_overview WHERE run_id = " + id);
      for (std::size_t c = 0; c < kColumns.size(); ++c) {
        double x = 0;
        if (!v.empty() && is_number(v[0][c], &x)) {
          sum[kColumns[c].first].first += x;
          ++sum[kColumns[c].first].second;
        }
      }
    }
    for (const auto& [m, s] : sum) r.mean[m] = s.first / s.second;
  }
  std::vector<std::pair<std::string, std::string>> columns;  // the ones some row has
  for (const auto& c : kColumns) {
    for (const Row& r : rows) {
      if (r.mean.count(c.first)) {
        columns.push_back(c);
        break;
      }
    }
  }
  // ---- files
  const fs::path dir(checked_output_dir(o.dir, "-o"));
  std::error_code ec;
  fs::create_directories(dir / "data", ec);
  if (ec) throw OutputError("cannot create '" + (dir / "data").string() + "': " + ec.message());
  {
    std::ofstream csv(dir / "runs.csv");
    csv << "label,runs,run_ids";
    for (const std::string& k : keys) csv << "," << csv_cell(k);
    for (const auto& c : columns) csv << "," << c.first;
    csv << "\n";
    for (const Row& r : rows) {
      std::string ids;
      for (const std::string& id : r.run_ids) ids += (ids.empty() ? "" : " ") + id;
      csv << csv_cell(r.label) << "," << r.run_ids.size() << "," << ids;
      for (const std::string& k : keys) csv << "," << csv_cell(r.key_values.at(k));
      for (const auto& c : columns)
        csv << "," << (r.mean.count(c.first) ? fmt(r.mean.at(c.first)) : "");
      csv << "\n";
    }
    std::ofstream json(dir / "runs.json");
    json << "[\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      json << "  {\"label\": " << json_string(r.label) << ", \"run_ids\": [";
      for (std::size_t j = 0; j < r.run_ids.size(); ++j) json << (j ? ", " : "") << r.run_ids[j];
      json << "], \"params\": {";
      std::size_t j = 0;
      for (const std::string& k : keys)
        json << (j++ ? ", " : "") << json_string(k) << ": " << json_string(r.key_values.at(k));
      json << "}";
      for (const auto& c : columns) {
        if (r.mean.count(c.first))
          json << ", " << json_string(c.first) << ": " << fmt(r.mean.at(c.first));
      }
      json << "}" << (i + 1 < rows.size() ? "," : "") << "\n";
    }
    json << "]\n";
    result.files = {"runs.csv", "runs.json"};
  }
  // ---- plots
  Plotter plot(dir, o.gnuplot);
  std::vector<std::string> images;
  const std::size_t shown = std::min(rows.size(), o.max_series);
  std::vector<std::string> titles;
  for (std::size_t i = 0; i < shown; ++i) titles.push_back(rows[i].label);
  auto drawn = [&](const std::string& name, bool ok) {
    if (ok) {
      images.push_back(name + ".png");
      result.files.push_back(name + ".png");
    } else {
      result.skipped.push_back(name + ".png (gnuplot failed: see data/" + name + ".err)");
    }
  };
  if (!plot.available()) {
    result.skipped.push_back("every plot (" + o.gnuplot +
                             " not found: tools/setup.sh installs it)");
  } else {
    struct Cdf {
      const char* name;
      const char* column;
      const char* title;
      const char* axis;
    };
    for (const Cdf& c : {Cdf{"ttft_cdf", "ttft_s", "Time to first token", "TTFT (s)"},
                         Cdf{"tpot_cdf", "tpot_s", "Time per output token", "TPOT (s)"},
                         Cdf{"e2e_cdf", "e2e_s", "End-to-end latency", "E2E latency (s)"}}) {
      std::ostringstream data;
      for (std::size_t i = 0; i < shown; ++i) {
        std::string ids;
        for (const std::string& id : rows[i].run_ids) ids += (ids.empty() ? "" : ",") + id;
        std::vector<double> v;
        for (const auto& x :
             db.rows(std::string("SELECT ") + c.column + " FROM requests WHERE run_id IN (" + ids +
                     ") AND status = 'finished' AND " + c.column + " IS NOT NULL ORDER BY 1"))
          v.push_back(std::strtod(x[0].c_str(), nullptr));
        const std::size_t points = std::min<std::size_t>(v.size(), 400);
        for (std::size_t k = 0; k < points; ++k) {
          const std::size_t at = points == 1 ? 0 : k * (v.size() - 1) / (points - 1);
          data << v[at] << "\t" << static_cast<double>(at + 1) / static_cast<double>(v.size())
               << "\n";
        }
        if (points == 0) data << "NaN\tNaN\n";
        data << "\n\n";
      }
      drawn(c.name, plot.draw(c.name, data.str(),
                              std::string("set title ") + gp(c.title + std::string(" — CDF")) +
                                  "\nset xlabel " + gp(c.axis) +
                                  "\nset ylabel 'fraction of requests'\nset yrange [0:1]\n" +
                                  plot_series(titles, "1:2", "lines lw 2")));
    }
    // Attainment against a numeric swept key.
    bool has_slo = false;
    for (const Row& r : rows) has_slo = has_slo || r.mean.count("slo_attainment");
    std::string xkey;
    for (const std::string& k : keys) {
      bool numeric = true;
      for (const Row& r : rows) numeric = numeric && is_number(r.key_values.at(k));
      if (numeric && (xkey.empty() || k.find("rate_per_s") != std::string::npos)) xkey = k;
    }
    if (has_slo && !xkey.empty()) {
      std::map<std::string, std::vector<std::pair<double, double>>> lines;
      for (const Row& r : rows) {
        if (!r.mean.count("slo_attainment")) continue;
        std::string rest;
        for (const std::string& k : keys) {
          if (k != xkey) append_kv(rest, k, r.key_values.at(k));
        }
        lines[rest.empty() ? "all runs" : rest].emplace_back(std::stod(r.key_values.at(xkey)),
                                                             r.mean.at("slo_attainment"));
      }
      std::ostringstream data, marks;
      std::vector<std::string> names;
      for (auto& [name, pts] : lines) {
        if (names.size() == o.max_series) break;
        std::sort(pts.begin(), pts.end());
        for (const auto& [x, y] : pts) data << x << "\t" << y << "\n";
        data << "\n\n";
        names.push_back(name);
        // Goodput: where the line crosses the target (last pass → first fail), interpolated.
        for (std::size_t k = 1; k < pts.size(); ++k) {
          const auto [x0, y0] = pts[k - 1];
          const auto [x1, y1] = pts[k];
          if (y0 >= o.attainment_target && y1 < o.attainment_target) {
            const double x = x0 + (x1 - x0) * (y0 - o.attainment_target) / (y0 - y1);
            marks << "set label " << gp(fmt(x)) << " at " << x << "," << o.attainment_target
                  << " point pt 7 ps 1.2 font ',7' offset -1.5,-" << 1 + names.size() << "\n";
            break;
          }
        }
      }
      drawn(
          "attainment",
          plot.draw(
              "attainment", data.str(),
              "set title " +
                  gp("SLO attainment against " + xkey + " (dots: goodput, where a line crosses " +
                     fmt(o.attainment_target) + ")") +
                  "\nset key inside bottom left box opaque font ',8'\nset xlabel " +
                  gp(xkey + (xkey.find("rate_per_s") != std::string::npos ? " (requests/s)" : "")) +
                  "\nset ylabel 'SLO attainment (fraction of requests)'\nset yrange "
                  "[0:1.05]\n" +
                  "set arrow from graph 0, first " + fmt(o.attainment_target) +
                  " to graph 1, first " + fmt(o.attainment_target) + " nohead dt 2\n" +
                  marks.str() + plot_series(names, "1:2", "linespoints lw 2")));
    } else {
      result.skipped.push_back("attainment.png (" +
                               std::string(has_slo ? "no numeric swept key" : "no slo section") +
                               ")");
    }
    // Timelines of the first rows' first runs.
    std::ostringstream data;
    std::vector<std::string> tl_titles;
    bool has_iterations = false, has_samples = false;
    const std::size_t tl = std::min<std::size_t>(shown, 4);
    for (std::size_t i = 0; i < tl; ++i) {
      const std::string id = rows[i].run_ids.front();
      // 200 time bins: Σ over instances of KV used (%), mean batch size, Σ waiting.
      const auto span = db.rows(
          "SELECT min(start_s), max(start_s + duration_s) FROM iterations WHERE run_id = " + id);
      const auto samples =
          db.rows("SELECT time_s, sum(waiting) FROM instance_samples WHERE run_id = " + id +
                  " GROUP BY time_s ORDER BY time_s");
      if (!span.empty() && !span[0][0].empty()) {
        const double t0 = std::stod(span[0][0]), t1 = std::stod(span[0][1]);
        const double w = std::max(1e-9, (t1 - t0) / 200);
        const std::string total =
            db.rows("SELECT sum(kv_blocks) FROM instances WHERE run_id = " + id)[0][0];
        for (const auto& b :
             db.rows("SELECT CAST((start_s - " + fmt(t0) + ") / " + fmt(w) +
                     " AS INTEGER) AS bin, avg(kv_blocks_used), avg(batch_size), count(DISTINCT "
                     "instance_id) FROM iterations WHERE run_id = " +
                     id + " GROUP BY bin ORDER BY bin")) {
          const double t = t0 + (std::stod(b[0]) + 0.5) * w;
          const double kv = std::stod(b[1]) * std::stod(b[3]) / std::max(1.0, std::stod(total));
          data << t << "\t" << 100 * kv << "\t" << b[2] << "\tNaN\n";
        }
        has_iterations = true;
      }
      for (const auto& s : samples) data << s[0] << "\tNaN\tNaN\t" << s[1] << "\n";
      has_samples = has_samples || !samples.empty();
      data << "\n\n";
      tl_titles.push_back(rows[i].label);
    }
    if (has_iterations || has_samples) {
      std::vector<std::pair<const char*, const char*>> panels;  // (column, y label)
      if (has_iterations) {
        panels.emplace_back("2", "KV used (% blocks)");
        panels.emplace_back("3", "batch (sequences)");
      }
      if (has_samples) panels.emplace_back("4", "waiting (requests)");
      std::string script = "set multiplot layout " + std::to_string(panels.size()) +
                           ",1 title 'Timelines (first run of each of the first rows)'\n"
                           "unset key\nset xlabel 'simulated time (s)'\nset lmargin 12\n"
                           "set rmargin 3\n";
      for (std::size_t p = 0; p < panels.size(); ++p) {
        script += std::string("set ylabel ") + gp(panels[p].second) + "\n";
        if (p == 0) script += "set key inside top right box opaque font ',8'\n";
        script += plot_series(tl_titles, std::string("1:") + panels[p].first, "lines lw 1.5");
        if (p == 0) script += "unset key\n";
      }
      script += "unset multiplot\n";
      drawn("timeline", plot.draw("timeline", data.str(), script));
    } else {
      result.skipped.push_back(
          "timeline.png (no iterations table or instance_samples in the selected runs)");
    }
    // Per-client service of the first run with several clients.
    std::string client_run;
    for (const std::string& id : run_ids) {
      const std::string clients = db.rows(
          "SELECT count(DISTINCT client_id) FROM client_service WHERE run_id = " + id)[0][0];
      if (std::stoi(clients) > 1) {
        client_run = id;
        break;
      }
    }
    if (!client_run.empty()) {
      std::ostringstream cd;
      std::vector<std::string> clients;
      for (const auto& c : db.rows("SELECT DISTINCT client_id FROM client_service WHERE run_id = " +
                                   client_run + " ORDER BY 1")) {
        if (clients.size() == o.max_series) break;
        for (const auto& w : db.rows("SELECT window_start_s, service FROM client_service WHERE "
                                     "run_id = " +
                                     client_run + " AND client_id = " + c[0] + " ORDER BY 1"))
          cd << w[0] << "\t" << w[1] << "\n";
        cd << "\n\n";
        clients.push_back("client " + c[0]);
      }
      drawn("client_service",
            plot.draw("client_service", cd.str(),
                      "set title " + gp("Service per client and window (run " + client_run + ")") +
                          "\nset xlabel 'window start (s of simulated time)'\nset ylabel "
                          "'service (w_p·input + w_q·output tokens)'\n" +
                          plot_series(clients, "1:2", "steps lw 1.5")));
    }
  }
  // ---- report.md
  std::ofstream md(dir / "report.md");
  md << "# servesim report\n\nDatabase `" << o.db << "`: " << result.runs << " finished run(s)"
     << (o.runs_filter.empty() ? "" : " matching `" + o.runs_filter + "`") << ", " << rows.size()
     << " row(s)" << (group ? " (grouped by the --by keys; values are means)" : "") << ".\n\n";
  md << "| row | runs |";
  for (const auto& c : columns) md << " " << c.second << " |";
  md << "\n|---|---:|";
  for (std::size_t i = 0; i < columns.size(); ++i) md << "---:|";
  md << "\n";
  for (const Row& r : rows) {
    md << "| " << r.label << " | " << r.run_ids.size() << " |";
    for (const auto& c : columns)
      md << " " << (r.mean.count(c.first) ? fmt(r.mean.at(c.first)) : "") << " |";
    md << "\n";
  }
  md << "\nTables: [runs.csv](runs.csv), [runs.json](runs.json).\n\n";
  for (const std::string& img : images) md << "![" << img << "](" << img << ")\n\n";
  if (rows.size() > shown)
    md << "Plots show the first " << shown << " of " << rows.size() << " rows.\n\n";
  for (const std::string& s : result.skipped) md << "- not drawn: " << s << "\n";
  result.files.push_back("report.md");
  return result;
}

}  // namespace servesim
