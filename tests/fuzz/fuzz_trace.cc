// tests/fuzz/fuzz_trace.cc — libFuzzer target for every trace reader. The first input byte picks
// the reader (low 4 bits) and its row options (bit 4: skip_bad_rows, bit 5: sort); the rest is
// the file's content, written to a scratch file that the reader opens as a scenario would (for
// servegen, the folder's chunk-0-trace.csv, and after a line "#dataset" its chunk-0-dataset.json).
// At most kMaxRequests requests are drained per input. Findings: see fuzz_util.h; also a source
// whose arrival times decrease or that emits a request without prompt tokens (the
// TraceSource contract).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "sim/config/config.h"
#include "tests/fuzz/fuzz_util.h"
#include "traces/trace_source.h"

namespace {

constexpr int kMaxRequests = 1000;

struct Reader {
  const char* file;  // scratch file name ("" = the servegen folder)
  const char* yaml;  // keys besides path and the row options
  bool row_options;  // accepts skip_bad_rows and sort
};

constexpr Reader kReaders[] = {
    {"azure.csv", "impl: azure\n", true},
    {"vidur.csv", "impl: vidur\n", true},
    {"mooncake.jsonl", "impl: mooncake\n", true},
    {"servesim.jsonl", "impl: servesim_jsonl\n", true},
    {"lengths.csv",
     "impl: lengths_csv\nnum_requests: 100\narrival: {impl: poisson, rate_per_s: 10}\n", true},
    {"generic.csv",
     "impl: csv\ncolumns: {arrival: t, prompt_tokens: p, output_tokens: o, client_id: c, "
     "priority: q, trace_id: id, prefix_hashes: h, prefix_block_tokens: b}\n",
     true},
    {"noheader.csv",
     "impl: csv\nheader: false\ndelimiter: \";\"\ntime_unit: ms\n"
     "columns: {arrival: '0', prompt_tokens: '1', output_tokens: '2', client_id: '3'}\n",
     true},
    {"datetime.csv",
     "impl: csv\ntime_unit: datetime\ncolumns: {arrival: t, prompt_tokens: p, output_tokens: o}\n",
     true},
    {"generic.jsonl",
     "impl: jsonl\ntime_unit: us\ncolumns: {arrival: t, prompt_tokens: p, output_tokens: o, "
     "client_id: c, priority: q, trace_id: id, prefix_hashes: h}\n",
     true},
    {"vtc.jsonl", "impl: vtc\n", false},
    {"",
     "impl: servegen\nduration_s: 60\nnum_requests: 200\n"
     "prompt_tokens: {impl: uniform, min: 1, max: 100}\n"
     "output_tokens: {impl: uniform, min: 1, max: 100}\n",
     false},
};
constexpr std::size_t kNumReaders = sizeof(kReaders) / sizeof(kReaders[0]);

// The path key for this input: writes the file (or the servegen folder) and returns its path.
std::string place_input(const Reader& reader, std::string_view body) {
  const std::filesystem::path& dir = servesim::fuzz::scratch_dir();
  if (*reader.file != '\0') return servesim::fuzz::write_file(dir / reader.file, body);
  const std::filesystem::path folder = dir / "servegen";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const std::size_t split = body.find("\n#dataset\n");
  servesim::fuzz::write_file(folder / "chunk-0-trace.csv", body.substr(0, split));
  if (split != std::string_view::npos)
    servesim::fuzz::write_file(folder / "chunk-0-dataset.json", body.substr(split + 10));
  return folder.string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Reader& reader = kReaders[(data[0] & 0x0f) % kNumReaders];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string yaml = reader.yaml;
  yaml += "path: '" + place_input(reader, body) + "'\n";
  if (reader.row_options) {
    if ((data[0] & 0x10) != 0) yaml += "skip_bad_rows: true\n";
    if ((data[0] & 0x20) != 0) yaml += "sort: true\n";
  }
  servesim::fuzz::expect_clean_errors([&] {
    const auto tree = servesim::ConfigTree::parse(yaml, "fuzz.yaml");
    servesim::TraceContext ctx;
    ctx.report = [](const std::string&) {};
    const auto source = servesim::make_trace_source(tree->root(), ctx);
    servesim::Request r;
    std::int64_t last_ns = 0;
    for (int i = 0; i < kMaxRequests && source->next(r); ++i) {
      if (r.arrival_ns < last_ns) {
        std::fprintf(stderr, "fuzz: %s: arrival times decrease\n", reader.yaml);
        std::abort();
      }
      if (r.prompt_tokens < 1) {
        std::fprintf(stderr, "fuzz: %s: a request without prompt tokens\n", reader.yaml);
        std::abort();
      }
      last_ns = r.arrival_ns;
    }
  });
  return 0;
}
