// tests/fuzz/fuzz_profile.cc — libFuzzer target for the profile importers (models/cost/
// profile_data.h): the first input byte picks the file name the importer recognises (the
// AIConfigurator and Vidur tables, servesim's kernel-profile JSON), the rest is the file. A file
// that imports is then compiled into the tables a `measured` model reads. Findings: see
// fuzz_util.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "models/cost/profile_data.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr const char* kFiles[] = {
    "gemm_perf.csv",
    "context_attention_perf.csv",
    "generation_attention_perf.csv",
    "custom_allreduce_perf.csv",
    "nccl_perf.csv",
    "mlp.csv",
    "attention.csv",
    "all_reduce.csv",
    "send_recv.csv",
    "kernels.json",
};
constexpr std::size_t kNumFiles = sizeof(kFiles) / sizeof(kFiles[0]);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const char* name = kFiles[data[0] % kNumFiles];
  const std::string path = servesim::fuzz::write_file(
      servesim::fuzz::scratch_dir() / name,
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  servesim::fuzz::expect_clean_errors([&] {
    const servesim::ProfileData profile = servesim::import_profile(path);
    servesim::ProfileTables::compile(profile);
  });
  return 0;
}
