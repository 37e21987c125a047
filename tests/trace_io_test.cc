// tests/trace_io_test.cc — the parsing layer under every trace reader: chunked line reading
// (CRLF, BOM, no final newline, lines across chunk boundaries), number/time/datetime parsing with
// its error classes, CSV splitting with quotes, the JSONL object scanner, and the servesim JSONL
// writer's exact decimal times.
#include <gtest/gtest.h>

#include "sim/config/errors.h"
#include "tests/test_util.h"
#include "traces/io/json_scan.h"
#include "traces/io/jsonl_writer.h"
#include "traces/io/line_reader.h"
#include "traces/io/text_parse.h"

namespace servesim {
namespace {

using testing::TempDir;

std::vector<std::string> lines_of(const std::string& path, std::size_t chunk) {
  LineReader r(path, chunk);
  std::vector<std::string> out;
  std::string_view line;
  while (r.next(line)) out.emplace_back(line);
  return out;
}

TEST(TraceIo, LineReaderHandlesCrlfBomMissingNewlineAndChunkBoundaries) {
  TempDir dir;
  const std::string p =
      dir.write("a.csv", "\xEF\xBB\xBFh1,h2\r\n1,2\r\n\r\n" + std::string(100, 'x') + "\r\n3,4");
  for (std::size_t chunk : {16u, 17u, 64u, 1u << 20}) {
    const auto lines = lines_of(p, chunk);
    ASSERT_EQ(lines.size(), 5u) << chunk;
    EXPECT_EQ(lines[0], "h1,h2");
    EXPECT_EQ(lines[1], "1,2");
    EXPECT_EQ(lines[2], "");
    EXPECT_EQ(lines[3], std::string(100, 'x'));
    EXPECT_EQ(lines[4], "3,4");
  }
  LineReader r(p, 16);
  std::string_view line;
  r.next(line);
  r.next(line);
  EXPECT_EQ(r.where(), p + ":2");
  EXPECT_TRUE(lines_of(dir.write("empty", ""), 16).empty());
  EXPECT_EQ(lines_of(dir.write("nl", "\n"), 16), std::vector<std::string>{""});
  EXPECT_THROW(LineReader(dir.file("missing")), InputError);
}

TEST(TraceIo, ParseCountAcceptsIntegralValuesAndClassifiesErrors) {
  std::int64_t v = 0;
  EXPECT_EQ(parse_count("123", 1000, v), ParseError::kOk);
  EXPECT_EQ(v, 123);
  EXPECT_EQ(parse_count(" 42 ", 1000, v), ParseError::kOk);
  EXPECT_EQ(v, 42);
  EXPECT_EQ(parse_count("374.0", 1000, v), ParseError::kOk);
  EXPECT_EQ(v, 374);
  EXPECT_EQ(parse_count("1e2", 1000, v), ParseError::kOk);
  EXPECT_EQ(v, 100);
  EXPECT_EQ(parse_count("", 1000, v), ParseError::kEmpty);
  EXPECT_EQ(parse_count("abc", 1000, v), ParseError::kNotNumber);
  EXPECT_EQ(parse_count("12abc", 1000, v), ParseError::kNotNumber);
  EXPECT_EQ(parse_count("-3", 1000, v), ParseError::kNegative);
  EXPECT_EQ(parse_count("12.5", 1000, v), ParseError::kNotInteger);
  EXPECT_EQ(parse_count("1001", 1000, v), ParseError::kOverflow);
  EXPECT_EQ(parse_count("99999999999999999999999", 1000, v), ParseError::kOverflow);
  EXPECT_EQ(parse_count("nan", 1000, v), ParseError::kNotNumber);
  EXPECT_NE(describe_parse_error(ParseError::kOverflow, "5000", 1000).find("max 1000"),
            std::string::npos);
}

TEST(TraceIo, ParseTimeIsExactForDecimals) {
  TimeNs t = 0;
  EXPECT_EQ(parse_time_ns("4.314579", TimeUnit::kSeconds, t), ParseError::kOk);
  EXPECT_EQ(t, 4'314'579'000);
  EXPECT_EQ(parse_time_ns("0.20793754160099873", TimeUnit::kSeconds, t), ParseError::kOk);
  EXPECT_EQ(t, 207'937'542);
  EXPECT_EQ(parse_time_ns("1500", TimeUnit::kMillis, t), ParseError::kOk);
  EXPECT_EQ(t, 1'500'000'000);
  EXPECT_EQ(parse_time_ns("2.5", TimeUnit::kMicros, t), ParseError::kOk);
  EXPECT_EQ(t, 2'500);
  EXPECT_EQ(parse_time_ns("7", TimeUnit::kNanos, t), ParseError::kOk);
  EXPECT_EQ(t, 7);
  EXPECT_EQ(parse_time_ns("1.5e-3", TimeUnit::kSeconds, t), ParseError::kOk);
  EXPECT_EQ(t, 1'500'000);
  EXPECT_EQ(parse_time_ns(".5", TimeUnit::kSeconds, t), ParseError::kOk);
  EXPECT_EQ(t, 500'000'000);
  EXPECT_EQ(parse_time_ns("-1", TimeUnit::kSeconds, t), ParseError::kNegative);
  EXPECT_EQ(parse_time_ns("x", TimeUnit::kSeconds, t), ParseError::kNotNumber);
  EXPECT_EQ(parse_time_ns("1.2.3", TimeUnit::kSeconds, t), ParseError::kNotNumber);
  EXPECT_EQ(parse_time_ns("", TimeUnit::kSeconds, t), ParseError::kEmpty);
  EXPECT_EQ(parse_time_ns("99999999999", TimeUnit::kSeconds, t), ParseError::kOverflow);
  EXPECT_EQ(parse_time_ns("1e300", TimeUnit::kSeconds, t), ParseError::kOverflow);
}

TEST(TraceIo, ParseDatetime) {
  TimeNs a = 0, b = 0;
  ASSERT_TRUE(parse_datetime_ns("2023-11-16 18:17:03.9799600", a));
  ASSERT_TRUE(parse_datetime_ns("2023-11-16T18:17:04.0319600Z", b));
  EXPECT_EQ(b - a, 52'000'000);
  TimeNs epoch = 0;
  ASSERT_TRUE(parse_datetime_ns("1970-01-02 00:00:00", epoch));
  EXPECT_EQ(epoch, 86'400 * kNsPerSecond);
  TimeNs leap = 0;
  ASSERT_TRUE(parse_datetime_ns("2024-03-01 00:00:00", leap));
  TimeNs feb = 0;
  ASSERT_TRUE(parse_datetime_ns("2024-02-28 00:00:00", feb));
  EXPECT_EQ(leap - feb, 2 * 86'400 * kNsPerSecond);
  for (const char* bad :
       {"2023-11-16", "2023-13-01 00:00:00", "2023-11-16 25:00:00", "2023-11-16 18:17:03.",
        "2023/11/16 18:17:03", "2023-11-16 18:17:0x", "garbage"}) {
    TimeNs t;
    EXPECT_FALSE(parse_datetime_ns(bad, t)) << bad;
  }
}

TEST(TraceIo, SplitCsvHandlesQuotes) {
  std::vector<std::string_view> f;
  std::string scratch;
  ASSERT_TRUE(split_csv("a,b,,c", ',', f, scratch));
  EXPECT_EQ(f, (std::vector<std::string_view>{"a", "b", "", "c"}));
  ASSERT_TRUE(split_csv("\"TIMESTAMP\",\"a,b\",\"say \"\"hi\"\"\",3", ',', f, scratch));
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], "TIMESTAMP");
  EXPECT_EQ(f[1], "a,b");
  EXPECT_EQ(f[2], "say \"hi\"");
  EXPECT_EQ(f[3], "3");
  EXPECT_FALSE(split_csv("\"open,1", ',', f, scratch));
  EXPECT_FALSE(split_csv("\"a\"x,1", ',', f, scratch));
  ASSERT_TRUE(split_csv("1;2", ';', f, scratch));
  EXPECT_EQ(f.size(), 2u);
}

TEST(TraceIo, JsonScannerSplitsFlatObjectsAndRejectsBrokenOnes) {
  std::vector<JsonField> f;
  std::string err;
  ASSERT_TRUE(scan_json_line(
      R"( {"timestamp": 0, "input_length": 6758, "s": "x\"y", "hash_ids": [0, 1, 2], "n": null, "o": {"a": [1]}, "t": true} )",
      f, err))
      << err;
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[1].key, "input_length");
  EXPECT_EQ(f[1].type, JsonType::kNumber);
  EXPECT_EQ(f[1].value, "6758");
  EXPECT_EQ(f[2].type, JsonType::kString);
  EXPECT_TRUE(f[2].escaped);
  std::string decoded;
  ASSERT_TRUE(decode_json_string(f[2].value, decoded));
  EXPECT_EQ(decoded, "x\"y");
  EXPECT_EQ(f[3].type, JsonType::kArray);
  std::vector<std::uint64_t> ids;
  ASSERT_TRUE(parse_u64_array(f[3].value, ids, err));
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(f[4].type, JsonType::kNull);
  EXPECT_EQ(f[5].type, JsonType::kObject);
  EXPECT_EQ(f[6].type, JsonType::kTrue);
  std::size_t hint = 0;
  EXPECT_EQ(find_json_field(f, "hash_ids", hint), &f[3]);
  EXPECT_EQ(find_json_field(f, "missing", hint), nullptr);
  for (const char* bad :
       {R"({"a": 1)", R"({"a" 1})", R"({"a": 1,})", R"({"a": "x)", R"({"a": [1, 2})",
        R"({"a": 1} x)", R"([1, 2])", "", R"({a: 1})", R"({"a": tru})"}) {
    EXPECT_FALSE(scan_json_line(bad, f, err)) << bad;
    EXPECT_FALSE(err.empty());
  }
  // Every value is valid JSON, the ones no reader uses included.
  for (const char* bad :
       {R"({"a": 01})", R"({"a": 1.})", R"({"a": -})", R"({"a": 1e})", R"({"a": +1})",
        R"({"a": [1}]})", R"({"a": {"b" 1}})", R"({"a": [1 2]})", R"({"a": "\q"})",
        R"({"a": "\u12g4"})", R"({"a": [NaN]})", R"({"a": {"b": [tru]}})", R"({"a": [,]})"}) {
    EXPECT_FALSE(scan_json_line(bad, f, err)) << bad;
    EXPECT_FALSE(err.empty());
  }
  EXPECT_TRUE(
      scan_json_line(R"({"a": [-0.5e-3, 1E+9, {"b": "\u00e9\n"}, [], {}], "c": 0})", f, err))
      << err;
  const std::string deep = "{\"a\": " + std::string(255, '[') + std::string(255, ']') + "}";
  EXPECT_TRUE(scan_json_line(deep, f, err)) << err;
  const std::string deeper = "{\"a\": " + std::string(300, '[') + std::string(300, ']') + "}";
  EXPECT_FALSE(scan_json_line(deeper, f, err));
  EXPECT_NE(err.find("nested deeper than 256"), std::string::npos) << err;
  EXPECT_FALSE(parse_u64_array("[1, -2]", ids, err));
  EXPECT_FALSE(parse_u64_array("[1, 2.5]", ids, err));
  EXPECT_FALSE(parse_u64_array("[1, 99999999999999999999999]", ids, err));
  EXPECT_TRUE(parse_u64_array("[]", ids, err));
  EXPECT_TRUE(ids.empty());
}

TEST(TraceIo, JsonlWriterWritesExactDecimalSeconds) {
  Request r;
  r.arrival_ns = 1'500'000'001;
  r.prompt_tokens = 10;
  r.output_tokens = 2;
  r.client_id = 4;
  r.priority = -1;
  r.trace_id = 99;
  std::string s;
  append_servesim_jsonl(r, s);
  EXPECT_EQ(s,
            "{\"arrival_s\":1.500000001,\"prompt_tokens\":10,\"output_tokens\":2,\"client_id\":4,"
            "\"priority\":-1,\"trace_id\":99}\n");
  s.clear();
  r.arrival_ns = 2'000'000'000;
  r.prefix_block_tokens = 16;
  r.prefix_hashes = {18446744073709551615ULL, 0};
  append_servesim_jsonl(r, s);
  EXPECT_NE(s.find("\"arrival_s\":2.0,"), std::string::npos) << s;
  EXPECT_NE(s.find("\"prefix_block_tokens\":16,\"prefix_hashes\":[18446744073709551615,0]"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace servesim
