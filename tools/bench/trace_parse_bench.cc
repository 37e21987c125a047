// tools/bench/trace_parse_bench.cc — trace parsing speed (README figure): rows per second through
// the full reader path (chunked file reading, field parsing, Request filling, order checks), on
// files this program generates in the temp folder (never ../shared/data):
//   vidur      CSV  arrived_at,num_prefill_tokens,num_decode_tokens       1,000,000 rows
//   azure      CSV  TIMESTAMP (wall clock),ContextTokens,GeneratedTokens  1,000,000 rows
//   mooncake   JSONL with 24 hash_ids per row                                200,000 rows
//   servesim_jsonl (what `trace gen` writes), with 16 hashes per row         200,000 rows
// Run: build/bench/trace_parse_bench   (items_per_second = rows/s)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "sim/config/config.h"
#include "sim/core/rng.h"
#include "traces/io/jsonl_writer.h"
#include "traces/trace_source.h"

namespace servesim {
namespace {

// Generated input files, removed at exit.
class Files {
 public:
  static Files& get() {
    static Files f;
    return f;
  }
  std::string vidur, azure, mooncake, servesim;
  static constexpr std::int64_t kCsvRows = 1'000'000;
  static constexpr std::int64_t kJsonRows = 200'000;

 private:
  Files() {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("servesim_trace_bench_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    dir_ = dir.string();
    Rng rng(1, "bench");
    vidur = write("vidur.csv", [&](std::string& out) {
      out = "arrived_at,num_prefill_tokens,num_decode_tokens\n";
      double t = 0;
      char buf[96];
      for (std::int64_t i = 0; i < kCsvRows; ++i) {
        t += rng.exponential(5.0);
        std::snprintf(buf, sizeof buf, "%.6f,%lld,%lld\n", t,
                      static_cast<long long>(rng.uniform_int(2, 8000)),
                      static_cast<long long>(rng.uniform_int(1, 1000)));
        out += buf;
      }
    });
    azure = write("azure.csv", [&](std::string& out) {
      out = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n";
      std::int64_t t_100ns = 0;
      char buf[96];
      for (std::int64_t i = 0; i < kCsvRows; ++i) {
        t_100ns += static_cast<std::int64_t>(rng.exponential(5.0) * 1e7);
        const long long sec = t_100ns / 10'000'000, frac = t_100ns % 10'000'000;
        std::snprintf(buf, sizeof buf, "2023-11-%02lld %02lld:%02lld:%02lld.%07lld,%lld,%lld\r\n",
                      16 + sec / 86400, (sec / 3600) % 24, (sec / 60) % 60, sec % 60, frac,
                      static_cast<long long>(rng.uniform_int(2, 8000)),
                      static_cast<long long>(rng.uniform_int(1, 1000)));
        out += buf;
      }
    });
    mooncake = write("mooncake.jsonl", [&](std::string& out) {
      out.clear();
      std::int64_t t_ms = 0, next_id = 0;
      for (std::int64_t i = 0; i < kJsonRows; ++i) {
        t_ms += rng.uniform_int(0, 600);
        out += "{\"timestamp\": " + std::to_string(t_ms) +
               ", \"input_length\": 12000, \"output_length\": " +
               std::to_string(rng.uniform_int(1, 1000)) + ", \"hash_ids\": [";
        for (int k = 0; k < 24; ++k) out += (k ? ", " : "") + std::to_string(next_id++);
        out += "]}\n";
      }
    });
    servesim = write("servesim.jsonl", [&](std::string& out) {
      out.clear();
      Request r;
      r.prefix_block_tokens = 16;
      for (std::int64_t i = 0; i < kJsonRows; ++i) {
        r.arrival_ns += static_cast<TimeNs>(rng.exponential(5.0) * 1e9);
        r.trace_id = static_cast<std::uint64_t>(i);
        r.prompt_tokens = static_cast<std::int32_t>(rng.uniform_int(256, 4000));
        r.output_tokens = static_cast<std::int32_t>(rng.uniform_int(1, 1000));
        r.prefix_hashes.clear();
        for (int k = 0; k < 16; ++k) r.prefix_hashes.push_back(rng.next_u64());
        append_servesim_jsonl(r, out);
      }
    });
  }
  ~Files() { std::filesystem::remove_all(dir_); }
  template <class Fill>
  std::string write(const char* name, Fill fill) {
    std::string text;
    fill(text);
    const std::string path = dir_ + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return path;
  }
  std::string dir_;
};

void parse_all(benchmark::State& state, const std::string& impl, const std::string& path,
               std::int64_t rows) {
  const std::string yaml = "impl: " + impl + "\npath: '" + path + "'\n";
  for (auto _ : state) {
    auto tree = ConfigTree::parse(yaml, "bench");
    auto source = make_trace_source(tree->root(), TraceContext{});
    Request r;
    std::int64_t n = 0;
    while (source->next(r)) ++n;
    if (n != rows) state.SkipWithError("wrong row count");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(std::filesystem::file_size(path)));
}

void BM_CsvVidur(benchmark::State& state) {
  parse_all(state, "vidur", Files::get().vidur, Files::kCsvRows);
}
void BM_CsvAzure(benchmark::State& state) {
  parse_all(state, "azure", Files::get().azure, Files::kCsvRows);
}
void BM_JsonlMooncake(benchmark::State& state) {
  parse_all(state, "mooncake", Files::get().mooncake, Files::kJsonRows);
}
void BM_JsonlServesim(benchmark::State& state) {
  parse_all(state, "servesim_jsonl", Files::get().servesim, Files::kJsonRows);
}

BENCHMARK(BM_CsvVidur)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CsvAzure)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_JsonlMooncake)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_JsonlServesim)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace servesim
