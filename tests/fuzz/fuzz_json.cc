// tests/fuzz/fuzz_json.cc — libFuzzer target for the JSONL scanner (traces/io/json_scan.h): the
// input is scanned as one line and as a stream of objects; every string field is decoded and
// every array parsed as unsigned ids. Findings: crashes, sanitizer reports, reads past the input
// (the input is copied into an exactly-sized buffer so ASan sees any overrun), and a scanner that
// reports success with a position that does not advance.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "traces/io/json_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::unique_ptr<char[]> copy(new char[size == 0 ? 1 : size]);
  for (std::size_t i = 0; i < size; ++i) copy[i] = static_cast<char>(data[i]);
  const std::string_view text(copy.get(), size);

  std::vector<servesim::JsonField> fields;
  std::string error;
  std::string decoded;
  std::vector<std::uint64_t> ids;
  auto visit = [&] {
    std::size_t hint = 0;
    for (const servesim::JsonField& f : fields) {
      if (f.type == servesim::JsonType::kString) servesim::decode_json_string(f.value, decoded);
      if (f.type == servesim::JsonType::kArray) servesim::parse_u64_array(f.value, ids, error);
      if (servesim::find_json_field(fields, f.key, hint) == nullptr) {
        std::fprintf(stderr, "fuzz: a scanned key is not found again\n");
        std::abort();
      }
    }
  };
  if (servesim::scan_json_line(text, fields, error)) visit();

  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t before = pos;
    if (!servesim::scan_json_object(text, pos, fields, error)) break;
    if (pos <= before || pos > text.size()) {
      std::fprintf(stderr, "fuzz: scan_json_object succeeded without advancing\n");
      std::abort();
    }
    visit();
  }
  return 0;
}
