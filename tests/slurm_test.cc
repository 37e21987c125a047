// tests/slurm_test.cc — the Slurm path for real: start a single-node Slurm on this machine
// (tools/slurm/local_cluster.sh: munge, slurmctld, slurmd on localhost), submit a small sweep
// with tools/slurm/sweep.sh (a job array, one task per variant, and a merge job after it), wait,
// and check that the merged database equals the same sweep run locally. Skips, saying why, when
// the Slurm daemons are not installed, the test is not root, or the daemons cannot start here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::TempDir;

TEST(Slurm, ASweepOnALocalClusterEqualsTheSameSweepRunLocally) {
  if (std::system("command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Slurm is not installed (tools/setup.sh installs slurmctld, slurmd, munge)";
  if (geteuid() != 0) GTEST_SKIP() << "the local Slurm daemons need root";
  TempDir dir;
  const std::string root = SERVESIM_SOURCE_DIR;
  const std::string env = "SERVESIM_SLURM_DIR='" + dir.file("slurm") + "' SLURM_CONF='" +
                          dir.file("slurm") + "/slurm.conf' ";
  const auto started =
      testing::run_cli_shell(env + "'" + root + "/tools/slurm/local_cluster.sh' start");
  if (started.exit_code != 0)
    GTEST_SKIP() << "the Slurm daemons could not start on this machine:\n" << started.output;
  const std::string scenario =
      dir.write("tiny.yaml",
                "name: tiny\nseed: 1\n"
                "workload: {impl: synthetic, num_requests: 40, arrival: {impl: poisson,"
                " rate_per_s: 5}, prompt_tokens: 200, output_tokens: 20}\n"
                "cluster: {instances: 1, cost_model: {impl: roofline}}\n"
                "output: {iterations: false}\n");
  const std::string axes =
      " --grid workload.arrival.rate_per_s=2,8 --grid "
      "policies.batcher.impl=vllm,sarathi --reproducible";
  const auto slurm = testing::run_cli_shell(
      env + "SERVESIM_BIN='" + SERVESIM_BINARY + "' '" + root + "/tools/slurm/sweep.sh' '" +
      scenario + "'" + axes + " -o '" + dir.file("slurm.db") + "' --wait -- --time=5");
  testing::run_cli_shell(env + "'" + root + "/tools/slurm/local_cluster.sh' stop");
  ASSERT_EQ(slurm.exit_code, 0) << slurm.output;
  EXPECT_NE(slurm.output.find("4 variant(s) in 4 array task(s)"), std::string::npos)
      << slurm.output;
  const auto local =
      testing::run_cli("sweep '" + scenario + "'" + axes + " -q -o '" + dir.file("local.db") + "'");
  ASSERT_EQ(local.exit_code, 0) << local.output;
  for (const char* sql :
       {"SELECT run_id, scenario, seed, status FROM runs", "SELECT * FROM run_params",
        "SELECT * FROM requests", "SELECT * FROM summary"}) {
    EXPECT_EQ(query(dir.file("slurm.db"), sql), query(dir.file("local.db"), sql)) << sql;
  }
  EXPECT_EQ(query(dir.file("slurm.db"), "SELECT count(*) FROM runs WHERE status = 'ok'"), "4\n");
}

}  // namespace
}  // namespace servesim
