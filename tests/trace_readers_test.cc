// tests/trace_readers_test.cc — every trace reader on small files written by the test: the
// formats' quirks (CRLF, no final newline, BOM, quoted headers, wall-clock times, hash lists,
// one-line VTC documents), the column mapping of the generic readers, the bad-input contract
// (empty files, missing columns, non-numeric / negative / overflowing values, unsorted times →
// FILE:LINE error; skip_bad_rows counts; sort: true sorts), and fuzz-style truncation and
// corruption of every format (no crash, always a FILE:LINE error or a valid stream).
#include <gtest/gtest.h>

#include "sim/core/rng.h"
#include "tests/test_util.h"
#include "tests/trace_test_util.h"
#include "traces/io/jsonl_writer.h"

namespace servesim {
namespace {

using testing::capture_notes;
using testing::is_file_line_error;
using testing::read_all;
using testing::read_error;
using testing::TempDir;
using testing::yaml_path;

std::string workload(const std::string& impl, const std::string& path,
                     const std::string& extra = "") {
  return "impl: " + impl + "\npath: " + yaml_path(path) + "\n" + extra;
}

using testing::contains;

TEST(TraceReaders, AzureWallClockCrlfBomNoFinalNewline) {
  TempDir dir;
  const std::string p = dir.write("az.csv",
                                  "\xEF\xBB\xBF\"TIMESTAMP\",ContextTokens,GeneratedTokens\r\n"
                                  "2023-11-16 18:17:03.9799600,4808,10\r\n"
                                  "2023-11-16 18:17:04.0319600,3180,8\r\n"
                                  "\r\n"
                                  "2023-11-16 18:17:04.0781490,110,27");
  const auto reqs = read_all(workload("azure", p));
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].arrival_ns, 0);
  EXPECT_EQ(reqs[1].arrival_ns, 52'000'000);
  EXPECT_EQ(reqs[2].arrival_ns, 98'189'000);
  EXPECT_EQ(reqs[0].prompt_tokens, 4808);
  EXPECT_EQ(reqs[2].output_tokens, 27);
  EXPECT_EQ(reqs[1].trace_id, 1u);
  EXPECT_EQ(reqs[2].client_id, 0u);
  EXPECT_TRUE(reqs[0].prefix_hashes.empty());
}

TEST(TraceReaders, VidurExactSecondsAndOptionalRebase) {
  TempDir dir;
  const std::string p = dir.write(
      "v.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n1.5,374,44\n4.314579,396,109\n");
  auto reqs = read_all(workload("vidur", p));
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].arrival_ns, 1'500'000'000);
  EXPECT_EQ(reqs[1].arrival_ns, 4'314'579'000);
  reqs = read_all(workload("vidur", p, "rebase: true\n"));
  EXPECT_EQ(reqs[0].arrival_ns, 0);
  EXPECT_EQ(reqs[1].arrival_ns, 2'814'579'000);
}

TEST(TraceReaders, LengthsCsvUsesAnArrivalProcessAndRepeats) {
  TempDir dir;
  const std::string p = dir.write("l.csv",
                                  "num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_"
                                  "ratio\r\n3742,284,4026,0.07\r\n18,243,261,13.5\r\n");
  auto reqs = read_all(workload("lengths_csv", p, "arrival: {impl: uniform, rate_per_s: 2}\n"));
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].arrival_ns, 0);
  EXPECT_EQ(reqs[1].arrival_ns, 500'000'000);
  EXPECT_EQ(reqs[1].prompt_tokens, 18);
  reqs = read_all(
      workload("lengths_csv", p,
               "arrival: {impl: poisson, rate_per_s: 2}\nrepeat: true\nnum_requests: 5\n"));
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[4].prompt_tokens, 3742);
  EXPECT_EQ(reqs[4].trace_id, 4u);
  for (std::size_t i = 1; i < reqs.size(); ++i)
    EXPECT_GE(reqs[i].arrival_ns, reqs[i - 1].arrival_ns);
  // Arrivals are required, and repeat needs a limit.
  EXPECT_THROW(read_all(workload("lengths_csv", p)), ConfigError);
  EXPECT_THROW(read_all(workload("lengths_csv", p, "arrival: {rate_per_s: 1}\nrepeat: true\n")),
               ConfigError);
  reqs = read_all(
      workload("lengths_csv", p, "arrival: {rate_per_s: 1}\nprompt_column: num_total_tokens\n"));
  EXPECT_EQ(reqs[0].prompt_tokens, 4026);
}

TEST(TraceReaders, MooncakeHashesAndMilliseconds) {
  TempDir dir;
  const std::string p = dir.write(
      "m.jsonl",
      "{\"timestamp\": 0, \"input_length\": 1000, \"output_length\": 5, \"hash_ids\": [0, 1]}\n"
      "{\"timestamp\": 1500, \"input_length\": 513, \"output_length\": 7, \"hash_ids\": [0, 2]}\n");
  const auto reqs = read_all(workload("mooncake", p));
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].arrival_ns, 1'500'000'000);
  EXPECT_EQ(reqs[0].prefix_block_tokens, 512);
  EXPECT_EQ(reqs[1].prefix_hashes, (std::vector<std::uint64_t>{0, 2}));
}

TEST(TraceReaders, ServesimJsonlRoundTripsEveryField) {
  TempDir dir;
  std::vector<Request> in(3);
  in[0].arrival_ns = 0;
  in[1].arrival_ns = 123'456'789;
  in[2].arrival_ns = 5'000'000'001;
  for (std::size_t i = 0; i < in.size(); ++i) {
    in[i].trace_id = 100 + i;
    in[i].client_id = static_cast<std::uint32_t>(7 * i);
    in[i].prompt_tokens = static_cast<std::int32_t>(10 + i);
    in[i].output_tokens = static_cast<std::int32_t>(1 + i);
    in[i].priority = static_cast<std::int32_t>(i) - 1;
  }
  in[1].prefix_block_tokens = 16;
  in[1].prefix_hashes = {1, 18446744073709551615ULL};
  std::string text;
  for (const auto& r : in) append_servesim_jsonl(r, text);
  const auto out = read_all(workload("servesim_jsonl", dir.write("s.jsonl", text)));
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].arrival_ns, in[i].arrival_ns);
    EXPECT_EQ(out[i].trace_id, in[i].trace_id);
    EXPECT_EQ(out[i].client_id, in[i].client_id);
    EXPECT_EQ(out[i].prompt_tokens, in[i].prompt_tokens);
    EXPECT_EQ(out[i].output_tokens, in[i].output_tokens);
    EXPECT_EQ(out[i].priority, in[i].priority);
    EXPECT_EQ(out[i].prefix_block_tokens, in[i].prefix_block_tokens);
    EXPECT_EQ(out[i].prefix_hashes, in[i].prefix_hashes);
  }
  // Minimal lines: optional fields default, unknown keys are ignored.
  const auto minimal = read_all(workload(
      "servesim_jsonl",
      dir.write(
          "min.jsonl",
          "{\"arrival_s\": 2, \"prompt_tokens\": 3, \"output_tokens\": 4, \"note\": \"x\"}\n")));
  ASSERT_EQ(minimal.size(), 1u);
  EXPECT_EQ(minimal[0].arrival_ns, 2 * kNsPerSecond);
  EXPECT_EQ(minimal[0].trace_id, 0u);
  EXPECT_EQ(minimal[0].client_id, 0u);
}

const char* kVtcDoc =
    "{\"config\": {\"num_adapters\": -1, \"mode\": \"real\"},\n"
    " \"result\": {\"total_time\": 1.0, \"note\": \"a \\\"responses\\\" string\",\n"
    "  \"responses\": [\n"
    "   {\"adapter_dir\": \"dummy-lora-7b-rank-8-13\", \"prompt_len\": 13, \"output_len\": 199, "
    "\"request_latency\": 9.4, \"first_token_latency\": 1.2, \"req_time\": 0.0},\n"
    "   {\"adapter_dir\": \"dummy-lora-7b-rank-8-2\", \"prompt_len\": 36, \"output_len\": 137, "
    "\"req_time\": 0.20793754160099873},\n"
    "   {\"adapter_dir\": \"dummy-lora-7b-rank-8-13\", \"prompt_len\": 456, \"output_len\": 156, "
    "\"req_time\": 0.44189318386898047}\n"
    "  ]}}\n";

TEST(TraceReaders, VtcStreamsTheResponsesArray) {
  TempDir dir;
  const auto reqs = read_all(workload("vtc", dir.write("vtc.jsonl", kVtcDoc)));
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].client_id, 0u);
  EXPECT_EQ(reqs[1].client_id, 1u);
  EXPECT_EQ(reqs[2].client_id, 0u);
  EXPECT_EQ(reqs[1].arrival_ns, 207'937'542);
  EXPECT_EQ(reqs[2].prompt_tokens, 456);
  EXPECT_EQ(reqs[2].trace_id, 2u);
  const std::string bad = dir.write(
      "bad.jsonl", std::string(kVtcDoc).replace(std::string(kVtcDoc).find("\"prompt_len\": 36"), 16,
                                                "\"prompt_len\": -3"));
  const std::string err = read_error(workload("vtc", bad));
  EXPECT_TRUE(is_file_line_error(err, bad)) << err;
  EXPECT_TRUE(contains(err, ":5: responses[1]: field 'prompt_len': negative")) << err;
  EXPECT_TRUE(contains(read_error(workload("vtc", dir.write("none.json", "{\"config\": {}}\n"))),
                       "no \"responses\" array"));
}

TEST(TraceReaders, GenericCsvAndJsonlMapColumns) {
  TempDir dir;
  const std::string csv =
      dir.write("g.csv",
                "id;when;user;in;out;prio\n7;2024-01-01 00:00:01;alice;10;2;1\n8;2024-01-01 "
                "00:00:03.5;bob;20;3;-2\n9;2024-01-01 00:00:04;alice;30;4;0\n");
  auto reqs = read_all(workload("csv", csv,
                                "delimiter: ';'\ntime_unit: datetime\ncolumns: {arrival: when, "
                                "prompt_tokens: in, output_tokens: out, "
                                "client_id: user, priority: prio, trace_id: id}\n"));
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].arrival_ns, 2'500'000'000);
  EXPECT_EQ(reqs[0].client_id, 0u);
  EXPECT_EQ(reqs[1].client_id, 1u);
  EXPECT_EQ(reqs[2].client_id, 0u);
  EXPECT_EQ(reqs[1].priority, -2);
  EXPECT_EQ(reqs[2].trace_id, 9u);
  // No header: columns by number; numeric client ids are kept.
  const std::string nh = dir.write("nh.csv", "0.5,100,10,3\n0.75,200,20,5\n");
  reqs = read_all(workload("csv", nh,
                           "header: false\ntime_unit: s\ncolumns: {arrival: '0', prompt_tokens: "
                           "'1', output_tokens: '2', client_id: '3'}\n"));
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].client_id, 5u);
  EXPECT_EQ(reqs[1].arrival_ns, 750'000'000);
  // JSONL with string client names, nanosecond times and hashes.
  const std::string jl = dir.write("g.jsonl",
                                   "{\"StartTimeOffset\": 197890289, \"ContextTokens\": 156, "
                                   "\"GeneratedTokens\": 67, \"u\": \"x\", \"h\": [5, 6]}\n"
                                   "{\"StartTimeOffset\": 1500203480, \"ContextTokens\": 115, "
                                   "\"GeneratedTokens\": 390, \"u\": \"y\\u0041\", \"h\": []}\n");
  reqs = read_all(workload("jsonl", jl,
                           "time_unit: ns\nprefix_block_tokens: 64\ncolumns: {arrival: "
                           "StartTimeOffset, prompt_tokens: ContextTokens, "
                           "output_tokens: GeneratedTokens, client_id: u, prefix_hashes: h}\n"));
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].arrival_ns, 197'890'289);
  EXPECT_EQ(reqs[1].client_id, 1u);
  EXPECT_EQ(reqs[0].prefix_hashes, (std::vector<std::uint64_t>{5, 6}));
  EXPECT_EQ(reqs[0].prefix_block_tokens, 64);
  // Column mapping errors are configuration errors.
  EXPECT_THROW(read_all(workload("csv", csv, "columns: {prompt_tokens: in}\n")), ConfigError);
  EXPECT_THROW(
      read_all(workload(
          "jsonl", jl,
          "columns: {arrival: a, prompt_tokens: b, output_tokens: c, prefix_hashes: h}\n")),
      ConfigError);
  EXPECT_THROW(
      read_all(workload(
          "csv", csv,
          "delimiter: ';;'\ncolumns: {arrival: when, prompt_tokens: in, output_tokens: out}\n")),
      ConfigError);
}

TEST(TraceReaders, MissingFileIsAConfigErrorNamingTheResolvedPath) {
  TraceContext ctx;
  ctx.data_dir = "/nonexistent/data";
  try {
    read_all("impl: azure\npath: $data/traces/x.csv\n", ctx);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(
        contains(e.what(), "test.yaml:2: path: no such file: '/nonexistent/data/traces/x.csv'"))
        << e.what();
    EXPECT_TRUE(contains(e.what(), "data_dir")) << e.what();
  }
}

struct BadCase {
  const char* name;
  const char* impl;
  const char* extra;
  const char* text;
  int line;            // expected line of the error
  const char* reason;  // substring of the error
};

TEST(TraceReaders, BadInputStopsWithFileLineReason) {
  const char* vidur_header = "arrived_at,num_prefill_tokens,num_decode_tokens\n";
  const std::string v = vidur_header;
  const BadCase cases[] = {
      {"empty_csv", "vidur", "", "", 1, "empty file"},
      {"header_only", "vidur", "", "arrived_at,num_prefill_tokens,num_decode_tokens\n", 1,
       "no requests"},
      {"empty_jsonl", "mooncake", "", "\n\n", 2, "no requests"},
      {"missing_column", "vidur", "", "arrived_at,num_prefill_tokens\n0,1\n", 1,
       "missing column 'num_decode_tokens' (the header has: arrived_at, num_prefill_tokens)"},
      {"short_row", "vidur", "", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,2\n1,5\n", 3,
       "expected 3 columns (as the header), got 2"},
      {"extra_column", "vidur", "",
       "arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,2\n1,5,6,7\n", 3,
       "expected 3 columns (as the header), got 4"},
      {"json_garbage_in_an_unused_field", "mooncake", "",
       "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1, \"hash_ids\": [], "
       "\"note\": [1, @]}\n",
       1, "malformed JSON: expected a JSON value at byte"},
      {"json_bad_number_in_an_unused_field", "servesim_jsonl", "",
       "{\"arrival_s\": 0, \"prompt_tokens\": 5, \"output_tokens\": 1, \"x\": 1.}\n", 1,
       "malformed number"},
      {"json_bad_escape_in_an_unused_field", "servesim_jsonl", "",
       "{\"arrival_s\": 0, \"prompt_tokens\": 5, \"output_tokens\": 1, \"x\": \"\\q\"}\n", 1,
       "bad escape"},
      {"json_mismatched_brackets", "mooncake", "",
       "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1, \"hash_ids\": [], "
       "\"x\": [1}]}\n",
       1, "expected ',' or ']'"},
      {"vtc_garbage_in_an_unused_field", "vtc", "",
       "{\"responses\": [{\"adapter_dir\": \"a\", \"prompt_len\": 3, \"output_len\": 2, "
       "\"req_time\": 0, \"extra\": {\"k\": nul}}]}\n",
       1, "malformed JSON"},
      {"non_numeric", "vidur", "",
       "arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,2\n1,abc,2\n", 3,
       "column 'num_prefill_tokens': expected a number, got 'abc'"},
      {"negative", "vidur", "", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,-2\n", 2,
       "column 'num_decode_tokens': negative value '-2'"},
      {"negative_time", "vidur", "", "arrived_at,num_prefill_tokens,num_decode_tokens\n-1,1,2\n", 2,
       "column 'arrived_at': negative value"},
      {"overflow", "vidur", "", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,3000000000,2\n",
       2, "is out of range (max 2147483647)"},
      {"time_overflow", "vidur", "", "arrived_at,num_prefill_tokens,num_decode_tokens\n1e30,1,2\n",
       2, "out of range"},
      {"zero_tokens", "vidur", "", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,0,2\n", 2,
       "at least 1 prompt token"},
      {"fraction", "vidur", "", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,1.5,2\n", 2,
       "expected an integer"},
      {"unsorted", "vidur", "",
       "arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,2\n5,1,2\n4,1,2\n", 4,
       "arrival 4 s is earlier than the previous row's 5 s (line 3)"},
      {"bad_datetime", "azure", "",
       "TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:17:03.97,1,2\r\n2023-11-16 "
       "99:17:04,1,2\r\n",
       3, "expected a date and time"},
      {"azure_unsorted", "azure", "",
       "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.5,1,2\n2023-11-16 "
       "18:17:03.25,1,2\n",
       3, "earlier than the previous row's"},
      {"quote", "vidur", "", "arrived_at,num_prefill_tokens,num_decode_tokens\n\"0,1,2\n", 2,
       "unterminated quoted field"},
      {"json_truncated", "mooncake", "",
       "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": "
       "[0]}\n{\"timestamp\": 1, \"input_len",
       2, "malformed JSON"},
      {"json_missing", "mooncake", "",
       "{\"timestamp\": 0, \"output_length\": 1, \"hash_ids\": [0]}\n", 1,
       "missing field 'input_length'"},
      {"json_type", "mooncake", "",
       "{\"timestamp\": 0, \"input_length\": [1], \"output_length\": 1, \"hash_ids\": [0]}\n", 1,
       "field 'input_length': expected a number"},
      {"json_hashes", "mooncake", "",
       "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1, \"hash_ids\": [0, -1]}\n", 1,
       "negative value in an array"},
      {"json_unsorted", "mooncake", "",
       "{\"timestamp\": 5, \"input_length\": 5, \"output_length\": 1, \"hash_ids\": "
       "[]}\n{\"timestamp\": 4, \"input_length\": 5, \"output_length\": 1, \"hash_ids\": []}\n",
       2, "earlier than"},
      {"servesim_missing", "servesim_jsonl", "", "{\"arrival_s\": 0, \"prompt_tokens\": 5}\n", 1,
       "missing field 'output_tokens'"},
      {"servesim_client", "servesim_jsonl", "",
       "{\"arrival_s\": 0, \"prompt_tokens\": 5, \"output_tokens\": 1, \"client_id\": "
       "5000000000}\n",
       1, "client_id"},
      {"lengths_bad", "lengths_csv", "arrival: {rate_per_s: 1}\n",
       "num_prefill_tokens,num_decode_tokens\n1,2\nx,2\n", 3, "expected a number"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    const std::string path = dir.write(std::string(c.name) + ".txt", c.text);
    const std::string err = read_error(workload(c.impl, path, c.extra));
    EXPECT_TRUE(is_file_line_error(err, path)) << c.name << ": " << err;
    EXPECT_TRUE(contains(err, path + ":" + std::to_string(c.line) + ": "))
        << c.name << ": expected line " << c.line << " in: " << err;
    EXPECT_TRUE(contains(err, c.reason)) << c.name << ": expected '" << c.reason << "' in: " << err;
  }
}

TEST(TraceReaders, SkipBadRowsCountsAndReports) {
  TempDir dir;
  const std::string p = dir.write("v.csv",
                                  "arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,2\n1,abc,"
                                  "2\n2,3,4\n1.5,1,1\n3,1,-1\n4,5,6\n");
  std::vector<std::string> notes;
  const auto reqs = read_all(workload("vidur", p, "skip_bad_rows: true\n"), capture_notes(notes));
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].prompt_tokens, 5);
  EXPECT_EQ(reqs[2].trace_id, 5u);  // trace ids keep the row positions of skipped rows
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_TRUE(
      contains(notes[0], "skipped 3 bad rows (first: " + p + ":3: column 'num_prefill_tokens'"))
      << notes[0];
  // All rows bad: still an error.
  const std::string all_bad =
      dir.write("b.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\nx,1,2\n");
  EXPECT_TRUE(contains(
      read_error(workload("vidur", all_bad, "skip_bad_rows: true\n"), capture_notes(notes)),
      "all 1 rows were bad"));
}

TEST(TraceReaders, SortTrueSortsUnsortedFilesStably) {
  TempDir dir;
  const std::string p = dir.write(
      "v.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n5,1,1\n2,2,1\n5,3,1\n1,4,1\n");
  const auto reqs = read_all(workload("vidur", p, "sort: true\nrebase: true\n"));
  ASSERT_EQ(reqs.size(), 4u);
  std::vector<int> prompts;
  for (const auto& r : reqs) prompts.push_back(r.prompt_tokens);
  EXPECT_EQ(prompts, (std::vector<int>{4, 2, 1, 3}));
  EXPECT_EQ(reqs[0].arrival_ns, 0);
  EXPECT_EQ(reqs[3].arrival_ns, 4 * kNsPerSecond);
}

// Valid samples of every file reader, for the fuzz test.
struct Sample {
  const char* impl;
  const char* extra;
  std::string text;
};

std::vector<Sample> samples() {
  return {
      {"azure", "",
       "TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 "
       "18:17:03.9799600,4808,10\r\n2023-11-16 18:17:04.0319600,3180,8\r\n2023-11-16 "
       "18:17:04.0781490,110,27"},
      {"vidur", "",
       "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,374,44\n4.314579,396,109\n4.541877,"
       "879,55\n"},
      {"lengths_csv", "arrival: {rate_per_s: 1}\n",
       "num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\r\n3742,284,4026,0.07\r\n18,"
       "243,261,13.5\r\n"},
      {"mooncake", "",
       "{\"timestamp\": 0, \"input_length\": 6758, \"output_length\": 500, \"hash_ids\": [0, 1, 2, "
       "3]}\n{\"timestamp\": 10, \"input_length\": 2290, \"output_length\": 316, \"hash_ids\": [0, "
       "42, 43]}\n"},
      {"servesim_jsonl", "",
       "{\"arrival_s\":0.5,\"prompt_tokens\":10,\"output_tokens\":2,\"client_id\":4,\"priority\":1,"
       "\"trace_id\":9,\"prefix_block_tokens\":16,\"prefix_hashes\":[1,2]}\n{\"arrival_s\":0.75,"
       "\"prompt_tokens\":11,\"output_tokens\":3,\"client_id\":0,\"priority\":0,\"trace_id\":10}"
       "\n"},
      {"vtc", "", kVtcDoc},
      {"csv", "columns: {arrival: t, prompt_tokens: p, output_tokens: o, client_id: c}\n",
       "t,p,o,c\n0.1,5,6,a\n0.2,7,8,b\n"},
      {"jsonl", "columns: {arrival: t, prompt_tokens: p, output_tokens: o, client_id: c}\n",
       "{\"t\": 1, \"p\": 2, \"o\": 3, \"c\": \"x\"}\n{\"t\": 2, \"p\": 4, \"o\": 5, \"c\": 7}\n"},
  };
}

// Reading `text` either succeeds or fails with "PATH:LINE: reason"; nothing else escapes.
void expect_clean_outcome(const TempDir& dir, const Sample& s, const std::string& text,
                          const std::string& what) {
  static int n = 0;  // a fresh name each time: rewriting one file makes ext4 flush it on close
  const std::string path = dir.write("fuzz" + std::to_string(n++) + ".txt", text);
  try {
    read_all(workload(s.impl, path, s.extra));
  } catch (const InputError& e) {
    EXPECT_TRUE(is_file_line_error(e.what(), path)) << s.impl << " " << what << ": " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << s.impl << " " << what << ": unexpected " << e.what();
  }
  std::filesystem::remove(path);
}

TEST(TraceReaders, FuzzTruncatedAndCorruptedFilesGiveFileLineErrors) {
  Rng rng(2024, "fuzz");
  TempDir dir;
  const char kBytes[] = "0123456789,.-\"{}[]: \n\rxe\t\\";
  for (const Sample& s : samples()) {
    ASSERT_NO_THROW(read_all(workload(s.impl, dir.write("ok.txt", s.text), s.extra))) << s.impl;
    const std::size_t step = s.text.size() > 400 ? 7 : 1;
    for (std::size_t cut = 0; cut < s.text.size(); cut += step)
      expect_clean_outcome(dir, s, s.text.substr(0, cut), "truncated at " + std::to_string(cut));
    for (int k = 0; k < 150; ++k) {
      std::string t = s.text;
      const int edits = 1 + static_cast<int>(rng.uniform_int(0, 2));
      for (int e = 0; e < edits && !t.empty(); ++e) {
        const auto at =
            static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(t.size()) - 1));
        switch (rng.uniform_int(0, 2)) {
          case 0:
            t[at] = kBytes[rng.uniform_int(0, sizeof kBytes - 2)];
            break;
          case 1:
            t.erase(at, 1);
            break;
          default:
            t.insert(at, 1, kBytes[rng.uniform_int(0, sizeof kBytes - 2)]);
            break;
        }
      }
      expect_clean_outcome(dir, s, t, "corruption " + std::to_string(k));
    }
  }
}

// The ServeGen reader's two inputs, truncated and corrupted the same way: a FILE:LINE error
// naming the damaged file, or a valid stream.
TEST(TraceReaders, FuzzServeGenFolders) {
  const std::string trace =
      "0,2,2.0,Gamma,0.25,2.0\r\n600,1,1.5,Weibull,0.7,1.0\r\n1200,0,0,,0,0\r\n";
  const std::string dataset =
      "{\n  \"0\": {\n    \"input_tokens\": \"{10: 0.5, 20: 0.5}\",\n    \"output_tokens\": \"{5: "
      "1.0}\"\n  }\n}\n";
  Rng rng(7, "fuzz");
  const char kBytes[] = "0123456789,.-\"{}: \nxe";
  TempDir dir;
  int n = 0;
  for (int which = 0; which < 2; ++which) {
    const std::string& base = which == 0 ? trace : dataset;
    for (int k = 0; k < 120; ++k) {
      std::string t = base;
      if (k < 40) {
        t = base.substr(0, static_cast<std::size_t>(
                               rng.uniform_int(0, static_cast<std::int64_t>(base.size()) - 1)));
      } else {
        const auto at =
            static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(t.size()) - 1));
        t[at] = kBytes[rng.uniform_int(0, sizeof kBytes - 2)];
      }
      const std::string folder = dir.file("sg" + std::to_string(n++));
      std::filesystem::create_directories(folder);
      dir.write(folder.substr(dir.file("").size()) + "/chunk-1-trace.csv", which == 0 ? t : trace);
      dir.write(folder.substr(dir.file("").size()) + "/chunk-1-dataset.json",
                which == 1 ? t : dataset);
      const std::string damaged =
          folder + (which == 0 ? "/chunk-1-trace.csv" : "/chunk-1-dataset.json");
      try {
        read_all("impl: servegen\npath: " + yaml_path(folder) +
                 "\nduration_s: 700\nprompt_tokens: 7\noutput_tokens: 3\n");
      } catch (const InputError& e) {
        EXPECT_TRUE(is_file_line_error(e.what(), damaged)) << e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "unexpected " << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace servesim
