// traces/readers/servegen.cc — `servegen`: a multi-client generator driven by Alibaba ServeGen's
// per-client aggregates (Xiang et al., arXiv 2505.09999). A ServeGen folder holds, per client
// <id>:
//   chunk-<id>-trace.csv    no header: window_start_s, rate_rps, cv, arrival_dist (Gamma |
//                           Weibull | empty), param1, param2 — one row per 600 s window;
//   chunk-<id>-dataset.json optional: {"<window_start_s>": {"input_tokens": "{81: 0.0014, ...}",
//                           "output_tokens": "{...}"}, ...} — per 6 h window, token-length PMFs
//                           written as Python dict literals inside JSON strings.
// Each client becomes an independent arrival stream over [start_s, start_s + duration_s) of the
// trace's time axis (t = 0 of the run is start_s): within a window, gaps follow the window's
// fitted family with its shape (Gamma shape = param1; Weibull shape = param1), scaled so the mean
// rate is the window's measured rate_rps × rate_scale (the measured rate wins where the fit
// disagrees). A window without a family but with a rate uses Gamma with the window's cv (Poisson
// if cv is 0). Each window starts its stream afresh at its start (a gap crossing the window end
// is dropped). Prompt and output lengths are drawn independently from the PMFs of the latest
// dataset window at or before the arrival (else the earliest non-empty one). Clients without
// PMFs (no dataset.json) use the `prompt_tokens` / `output_tokens` distributions when given,
// else the pooled PMFs of the folder's clients that have them (each weighted equally per window).
// client_id = <id>.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <queue>
#include <sstream>

#include "sim/config/errors.h"
#include "traces/distributions.h"
#include "traces/io/line_reader.h"
#include "traces/io/text_parse.h"
#include "traces/readers/reader_util.h"

namespace servesim {
namespace {

enum class Family { kNone, kGamma, kWeibull };

struct Window {
  double start_s = 0;
  double rate = 0;
  double cv = 0;
  Family family = Family::kNone;
  double shape = 0;
};

struct LengthWindow {
  double start_s = 0;
  TokenPmf prompt, output;
};

// Parses a Python dict literal of int → float ("{81: 0.0014, 82: 0.0157}") into `pmf`.
bool parse_pmf_literal(std::string_view s, TokenPmf& pmf, std::string& error) {
  s = trim(s);
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') {
    error = "expected a {value: probability, ...} literal";
    return false;
  }
  s = s.substr(1, s.size() - 2);
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    if (i >= s.size()) return true;
    const std::size_t colon = s.find(':', i);
    if (colon == std::string_view::npos) {
      error = "expected 'value: probability' at character " + std::to_string(i + 1);
      return false;
    }
    std::size_t end = s.find(',', colon);
    if (end == std::string_view::npos) end = s.size();
    std::int64_t value = 0;
    const std::string_view key = s.substr(i, colon - i);
    const ParseError e = parse_count(key, kMaxTraceTokens, value);
    if (e != ParseError::kOk) {
      error = "length key: " + describe_parse_error(e, key, kMaxTraceTokens);
      return false;
    }
    const std::string_view pv = trim(s.substr(colon + 1, end - colon - 1));
    double p = 0;
    auto [ptr, ec] = std::from_chars(pv.data(), pv.data() + pv.size(), p);
    if (ec != std::errc() || ptr != pv.data() + pv.size() || !(p >= 0) || !std::isfinite(p)) {
      error = "probability of length " + std::to_string(value) + ": expected a number >= 0, got '" +
              std::string(pv) + "'";
      return false;
    }
    if (value >= 1) pmf.add(static_cast<std::int32_t>(value), p);
    i = end;
  }
}

struct ServeGenClient {
  std::uint32_t id = 0;
  std::vector<Window> windows;
  std::vector<LengthWindow> lengths;  // non-empty windows only, ascending start
  Rng arrival_rng, prompt_rng, output_rng;
  std::size_t w = 0;  // current window
  double t_s = 0;     // trace time of the last arrival (or of the window start)
  explicit ServeGenClient(std::uint64_t seed, std::uint32_t cid)
      : id(cid),
        arrival_rng(seed, "workload.servegen." + std::to_string(cid) + ".arrival"),
        prompt_rng(seed, "workload.servegen." + std::to_string(cid) + ".prompt"),
        output_rng(seed, "workload.servegen." + std::to_string(cid) + ".output") {}

  double window_end(std::size_t i) const {
    if (i + 1 < windows.size()) return windows[i + 1].start_s;
    const double width = windows.size() > 1 ? windows[i].start_s - windows[i - 1].start_s : 600.0;
    return windows[i].start_s + width;
  }

  // The next arrival in trace time, or +inf when the trace ends.
  double next_arrival(double rate_scale) {
    while (w < windows.size()) {
      const Window& win = windows[w];
      const double end = window_end(w);
      if (t_s < win.start_s) t_s = win.start_s;
      const double rate = win.rate * rate_scale;
      if (!(rate > 0) || t_s >= end) {
        ++w;
        continue;
      }
      double gap;
      switch (win.family) {
        case Family::kGamma:
          gap = arrival_rng.gamma(win.shape) / (rate * win.shape);
          break;
        case Family::kWeibull:
          gap = std::pow(-std::log(arrival_rng.uniform01_open_low()), 1.0 / win.shape) /
                (rate * std::tgamma(1.0 + 1.0 / win.shape));
          break;
        case Family::kNone:
        default:
          if (win.cv > 0) {
            const double k = std::max(1.0 / (win.cv * win.cv), 1e-3);
            gap = arrival_rng.gamma(k) / (rate * k);
          } else {
            gap = arrival_rng.exponential(rate);
          }
          break;
      }
      if (t_s + gap < end) {
        t_s += gap;
        return t_s;
      }
      t_s = end;
      ++w;
    }
    return std::numeric_limits<double>::infinity();
  }

  const LengthWindow* lengths_at(double t) const {
    if (lengths.empty()) return nullptr;
    const LengthWindow* best = &lengths.front();
    for (const auto& l : lengths) {
      if (l.start_s <= t) best = &l;
    }
    return best;
  }
};

class ServeGenSource final : public TraceSource {
 public:
  ServeGenSource(ConfigNode& cfg, const TraceContext& ctx) {
    const std::string dir = read_path_key(
        cfg, ctx, "ServeGen folder holding chunk-<id>-trace.csv (+ chunk-<id>-dataset.json)");
    const auto wanted = cfg.get<std::vector<std::int64_t>>(
        "clients", {}, "client (chunk) ids to use; empty = every client in the folder",
        InRange(0, std::numeric_limits<std::uint32_t>::max()));
    start_s_ = cfg.get<double>("start_s", 0.0, "trace time that becomes t = 0 of the run, s",
                               NonNegative());
    duration_s_ =
        cfg.get<double>("duration_s", 3600.0, "length of the generated workload, s", Positive());
    rate_scale_ = cfg.get<double>("rate_scale", 1.0, "multiplies every client's rate", Positive());
    num_requests_ = cfg.get<std::int64_t>(
        "num_requests", 0, "stop after this many requests (0 = no limit)", NonNegative());
    const std::string prompt_field = cfg.get<std::string>(
        "prompt_field", "input_tokens", "dataset.json field of the prompt-length PMF");
    const std::string output_field = cfg.get<std::string>(
        "output_field", "output_tokens", "dataset.json field of the output-length PMF");
    if (cfg.has("prompt_tokens"))
      fallback_prompt_ = make_length_distribution(cfg, "prompt_tokens", 1, ctx);
    if (cfg.has("output_tokens"))
      fallback_output_ = make_length_distribution(cfg, "output_tokens", 1, ctx);

    if (!std::filesystem::is_directory(dir))
      cfg.fail("path", "'" + dir + "' is not a folder (expected a ServeGen model folder)");
    std::map<std::uint32_t, std::string> found;  // id → trace path, sorted by id
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("chunk-", 0) != 0 || !name.ends_with("-trace.csv")) continue;
      std::int64_t id = 0;
      if (parse_count(std::string_view(name).substr(6, name.size() - 6 - 10),
                      std::numeric_limits<std::uint32_t>::max(), id) != ParseError::kOk)
        continue;
      found[static_cast<std::uint32_t>(id)] = e.path().string();
    }
    if (found.empty()) cfg.fail("path", "no chunk-<id>-trace.csv files in '" + dir + "'");
    std::vector<std::uint32_t> ids;
    if (wanted.empty()) {
      for (const auto& [id, p] : found) ids.push_back(id);
    } else {
      for (auto id : wanted) {
        if (!found.count(static_cast<std::uint32_t>(id)))
          cfg.fail("clients", "no chunk-" + std::to_string(id) + "-trace.csv in '" + dir + "'");
        ids.push_back(static_cast<std::uint32_t>(id));
      }
    }
    // Length PMFs of every client in the folder (selected or not) feed the pool that clients
    // without their own PMFs draw from.
    std::map<std::uint32_t, std::vector<LengthWindow>> lengths;
    for (const auto& [id, trace] : found) {
      const std::string dataset = dir + "/chunk-" + std::to_string(id) + "-dataset.json";
      if (!std::filesystem::exists(dataset)) continue;
      ServeGenClient tmp(0, id);
      load_lengths(dataset, prompt_field, output_field, tmp);
      for (const auto& lw : tmp.lengths) {
        LengthWindow* pool = nullptr;
        for (auto& p : pooled_.lengths) {
          if (p.start_s == lw.start_s) pool = &p;
        }
        if (!pool) {
          pooled_.lengths.emplace_back();
          pool = &pooled_.lengths.back();
          pool->start_s = lw.start_s;
        }
        pool->prompt.merge(lw.prompt, 1.0);
        pool->output.merge(lw.output, 1.0);
      }
      lengths[id] = std::move(tmp.lengths);
    }
    for (std::uint32_t id : ids) {
      auto c = std::make_unique<ServeGenClient>(ctx.seed, id);
      load_windows(found[id], *c);
      c->lengths = std::move(lengths[id]);
      // Position the stream at start_s.
      c->t_s = start_s_;
      while (c->w < c->windows.size() && c->window_end(c->w) <= start_s_) ++c->w;
      clients_.push_back(std::move(c));
    }
    std::sort(pooled_.lengths.begin(), pooled_.lengths.end(),
              [](const LengthWindow& a, const LengthWindow& b) { return a.start_s < b.start_s; });
    if (fallback_prompt_.operator bool() != fallback_output_.operator bool()) {
      cfg.fail(fallback_prompt_ ? "output_tokens" : "prompt_tokens",
               "give both prompt_tokens and output_tokens, or neither");
    }
    for (const auto& c : clients_) {
      if (c->lengths.empty() && !fallback_prompt_ && pooled_.lengths.empty()) {
        cfg.fail("prompt_tokens",
                 "client " + std::to_string(c->id) +
                     " has no length PMFs and no other client has any (no '" + prompt_field +
                     "'/'" + output_field +
                     "' in any dataset.json): give prompt_tokens and output_tokens distributions");
      }
    }
    for (std::size_t i = 0; i < clients_.size(); ++i) schedule(i);
  }

  bool next(Request& out) override {
    if (num_requests_ > 0 && emitted_ >= num_requests_) return false;
    if (queue_.empty()) return false;
    const auto [t, i] = queue_.top();
    queue_.pop();
    ServeGenClient& c = *clients_[i];
    out.trace_id = static_cast<std::uint64_t>(emitted_++);
    out.client_id = c.id;
    out.arrival_ns = s_to_ns(t - start_s_);
    out.priority = 0;
    out.prefix_block_tokens = 0;
    out.prefix_hashes.clear();
    const LengthWindow* l = c.lengths_at(t);
    if (!l && !fallback_prompt_) l = pooled_.lengths_at(t);
    if (l) {
      out.prompt_tokens = l->prompt.sample(c.prompt_rng);
      out.output_tokens = l->output.sample(c.output_rng);
    } else {
      out.prompt_tokens = fallback_prompt_->sample(c.prompt_rng);
      out.output_tokens = fallback_output_->sample(c.output_rng);
    }
    schedule(i);
    return true;
  }

 private:
  void schedule(std::size_t i) {
    const double t = clients_[i]->next_arrival(rate_scale_);
    if (t < start_s_ + duration_s_) queue_.push({t, i});
  }

  static void load_windows(const std::string& path, ServeGenClient& c) {
    LineReader in(path);
    std::string_view line;
    std::vector<std::string_view> cells;
    std::string scratch;
    while (in.next(line)) {
      if (trim(line).empty()) continue;
      auto bad = [&](const std::string& why) { throw InputError(in.where() + ": " + why); };
      if (!split_csv(line, ',', cells, scratch)) bad("unterminated quoted field");
      if (cells.size() < 6)
        bad("expected 6 columns (window_start_s, rate_rps, cv, arrival_dist, param1, param2), "
            "got " +
            std::to_string(cells.size()));
      Window w;
      double* dest[] = {&w.start_s, &w.rate, &w.cv, nullptr, &w.shape, nullptr};
      const char* names[] = {"window_start_s", "rate_rps", "cv",
                             "arrival_dist",   "param1",   "param2"};
      for (int k : {0, 1, 2, 4}) {
        const std::string_view v = trim(cells[static_cast<std::size_t>(k)]);
        double d = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
        if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(d))
          bad(std::string(names[k]) + ": expected a number, got '" + std::string(v.substr(0, 40)) +
              "'");
        if (d < 0) bad(std::string(names[k]) + ": negative value " + std::string(v));
        *dest[k] = d;
      }
      const std::string_view fam = trim(cells[3]);
      if (fam == "Gamma") {
        w.family = Family::kGamma;
      } else if (fam == "Weibull") {
        w.family = Family::kWeibull;
      } else if (!fam.empty()) {
        bad("arrival_dist: expected Gamma, Weibull or empty, got '" +
            std::string(fam.substr(0, 40)) + "'");
      }
      if (w.family != Family::kNone && !(w.shape > 0))
        bad("param1: the " + std::string(fam) + " shape must be > 0");
      // Floors that keep sampling finite: Weibull's Γ(1 + 1/k) overflows below k = 0.02, and
      // a Gamma shape far below the data's smallest (0.01) draws gaps that underflow to 0.
      if (w.family == Family::kWeibull && w.shape < 0.02) w.shape = 0.02;
      if (w.family == Family::kGamma && w.shape < 1e-3) w.shape = 1e-3;
      if (!c.windows.empty() && w.start_s <= c.windows.back().start_s)
        bad("window_start_s must increase from row to row");
      c.windows.push_back(w);
    }
    if (c.windows.empty()) throw InputError(path + ":1: empty file: no windows");
  }

  static void load_lengths(const std::string& path, const std::string& prompt_field,
                           const std::string& output_field, ServeGenClient& c) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    // "PATH:LINE" of the first occurrence of `needle` (line 1 if absent).
    auto where = [&](const std::string& needle) {
      const std::size_t at = needle.empty() ? std::string::npos : text.find(needle);
      const auto line =
          at == std::string::npos
              ? 1
              : 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
      return path + ":" + std::to_string(line);
    };
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      const std::size_t at = std::min(e.byte > 0 ? e.byte - 1 : 0, text.size());
      const auto line =
          1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
      throw InputError(path + ":" + std::to_string(line) + ": malformed JSON: " + e.what());
    } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond a double
      throw InputError(path + ":1: malformed JSON: " + e.what());
    }
    if (!doc.is_object()) throw InputError(path + ":1: expected a JSON object of windows");
    std::string error;
    for (const auto& [key, win] : doc.items()) {
      double start = 0;
      auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), start);
      if (ec != std::errc() || p != key.data() + key.size())
        throw InputError(where("\"" + key + "\"") + ": window key '" + key +
                         "' is not a number of seconds");
      if (!win.is_object())
        throw InputError(where("\"" + key + "\"") + ": window " + key +
                         ": expected an object of PMFs");
      LengthWindow lw;
      lw.start_s = start;
      for (auto [field, pmf] :
           {std::pair{&prompt_field, &lw.prompt}, {&output_field, &lw.output}}) {
        if (!win.contains(*field)) continue;
        const auto& v = win[*field];
        if (!v.is_string())
          throw InputError(where("\"" + key + "\"") + ": window " + key + ": '" + *field +
                           "' must be a string holding a dict literal");
        if (!parse_pmf_literal(v.get<std::string>(), *pmf, error))
          throw InputError(where("\"" + key + "\"") + ": window " + key + ": '" + *field +
                           "': " + error);
      }
      if (!lw.prompt.empty() && !lw.output.empty()) c.lengths.push_back(std::move(lw));
    }
    std::sort(c.lengths.begin(), c.lengths.end(),
              [](const LengthWindow& a, const LengthWindow& b) { return a.start_s < b.start_s; });
  }

  struct Entry {
    double t;
    std::size_t client;
    bool operator>(const Entry& o) const { return t != o.t ? t > o.t : client > o.client; }
  };

  std::vector<std::unique_ptr<ServeGenClient>> clients_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  std::unique_ptr<LengthDistribution> fallback_prompt_, fallback_output_;
  ServeGenClient pooled_{0, 0};  // only its pooled `lengths` are used
  double start_s_ = 0, duration_s_ = 3600, rate_scale_ = 1;
  std::int64_t num_requests_ = 0, emitted_ = 0;
};

}  // namespace

SERVESIM_REGISTER(TraceSource, ServeGenSource, "servegen",
                  "ServeGen per-client aggregates (folder of chunk-<id>-trace.csv + dataset.json) "
                  "→ multi-client arrivals; path")

}  // namespace servesim
