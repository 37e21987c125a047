// tests/robustness_test.cc — defences against damage and silent wrong answers (issue 14): every
// output path refuses what is not a regular file of its own (FIFOs, devices, directories; a
// symlink to a regular file is written through and stays a link), leaves no temporary behind,
// and "" / ":memory:" are not results databases.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/test_util.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const char* kTinyWorkload =
    "--set impl=synthetic --set num_requests=5 --set arrival='{impl: "
    "poisson, rate_per_s: 1}'";

std::vector<std::string> leftovers(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().string().find(".tmp") != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

TEST(OutputPaths, AFifoOrADirectoryIsRefusedAndLeftAsItWas) {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  fs::create_directories(dir.file("folder"));
  for (const std::string& target : {fifo, dir.file("folder")}) {
    auto gen = testing::run_cli(std::string("trace gen ") + kTinyWorkload + " -o '" + target + "'");
    EXPECT_EQ(gen.exit_code, 2) << gen.output;
    EXPECT_NE(gen.output.find("regular files only"), std::string::npos) << gen.output;
    auto run = testing::run_cli(
        "run scenarios/quickstart.yaml -q --set workload.num_requests=5 -o '" + target + "'");
    EXPECT_EQ(run.exit_code, 2) << run.output;
    auto exp = testing::run_cli("export '" + target + "' -t runs -o '" + target + "'");
    EXPECT_EQ(exp.exit_code, 2) << exp.output;
  }
  EXPECT_TRUE(fs::is_fifo(fifo)) << "the FIFO must survive";
  EXPECT_TRUE(fs::is_directory(dir.file("folder")));
  EXPECT_TRUE(leftovers(dir.file("")).empty());
}

TEST(OutputPaths, ASymlinkToARegularFileIsWrittenThroughAndStaysALink) {
  TempDir dir;
  const std::string real = dir.write("real.jsonl", "old\n");
  const std::string link = dir.file("link.jsonl");
  fs::create_symlink(real, link);
  auto gen = testing::run_cli(std::string("trace gen ") + kTinyWorkload + " -o '" + link + "'");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_NE(testing::read_file(real).find("\"prompt_tokens\""), std::string::npos);
  EXPECT_TRUE(leftovers(dir.file("")).empty());
  fs::create_symlink(dir.file("nowhere/x"), dir.file("dangling"));
  auto dangling = testing::run_cli(std::string("trace gen ") + kTinyWorkload + " -o '" +
                                   dir.file("dangling") + "'");
  EXPECT_EQ(dangling.exit_code, 2) << dangling.output;
}

TEST(OutputPaths, EmptyAndInMemoryDatabasesAreUsageErrors) {
  for (const char* path : {"''", "':memory:'"}) {
    auto r = testing::run_cli(std::string("run scenarios/quickstart.yaml -q "
                                          "--set workload.num_requests=5 -o ") +
                              path);
    EXPECT_EQ(r.exit_code, 2) << path << ": " << r.output;
    EXPECT_EQ(r.output.find("results: "), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace servesim
