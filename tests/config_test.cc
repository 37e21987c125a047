// tests/config_test.cc — the strict configuration reader: every mistake names file, line and
// key path; defaults are filled into the resolved tree; --set overrides any key.
#include "sim/config/config.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::parse_yaml;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Config, ReadsValuesAndFillsDefaults) {
  auto t = parse_yaml("a: 3\nsub:\n  x: 2.5\n  name: hi\n");
  ConfigNode r = t->root();
  EXPECT_EQ(r.get<int>("a", 1, "doc"), 3);
  EXPECT_EQ(r.get<int>("b", 7, "doc"), 7);
  ConfigNode s = r.child("sub");
  EXPECT_DOUBLE_EQ(s.get<double>("x", 0.0, "doc"), 2.5);
  EXPECT_EQ(s.get<std::string>("name", "", "doc"), "hi");
  EXPECT_EQ(s.get<bool>("flag", true, "doc"), true);
  t->check_all_consumed();
  const std::string y = t->resolved_yaml();
  EXPECT_NE(y.find("b: 7"), std::string::npos) << y;
  EXPECT_NE(y.find("flag: true"), std::string::npos) << y;
  EXPECT_NE(y.find("x: 2.5"), std::string::npos) << y;
}

TEST(Config, UnknownKeyNamesPathAndLineAndSuggests) {
  auto t = parse_yaml("a: 1\nsub:\n  rate: 2\n  raet: 3\n", "scen.yaml");
  ConfigNode r = t->root();
  r.get<int>("a", 0, "doc");
  r.child("sub").get<int>("rate", 0, "doc");
  const std::string e = error_of([&] { t->check_all_consumed(); });
  EXPECT_NE(e.find("scen.yaml:4: sub.raet: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'rate'"), std::string::npos) << e;
}

TEST(Config, WrongTypeNamesKeyAndLine) {
  auto t = parse_yaml("x: 1\nn: abc\n", "s.yaml");
  const std::string e = error_of([&] { t->root().get<int>("n", 0, "doc"); });
  EXPECT_EQ(e, "s.yaml:2: n: expected an integer, got 'abc'");
  const std::string e2 = error_of([&] { parse_yaml("m: [1, 2]\n", "s.yaml")->root().child("m"); });
  EXPECT_NE(e2.find("s.yaml:1: m: expected a mapping"), std::string::npos) << e2;
}

TEST(Config, OutOfRangeNamesBound) {
  auto t = parse_yaml("workload:\n  rate: -3\n", "s.yaml");
  const std::string e =
      error_of([&] { t->root().child("workload").get<double>("rate", 1.0, "doc", Positive()); });
  EXPECT_EQ(e, "s.yaml:2: workload.rate: must be > 0 (got -3)");
}

TEST(Config, MissingRequiredKeyPointsAtParent) {
  auto t = parse_yaml("arrival:\n  impl: poisson\n", "s.yaml");
  const std::string e =
      error_of([&] { t->root().child("arrival").required<double>("rate_per_s", "rate"); });
  EXPECT_NE(e.find("arrival.rate_per_s: required key is missing"), std::string::npos) << e;
}

TEST(Config, IntegersAcceptIntegralFloatsOnly) {
  auto t = parse_yaml("a: 1e6\nb: 1.5\n");
  EXPECT_EQ(t->root().get<std::int64_t>("a", 0, "doc"), 1000000);
  EXPECT_THROW(t->root().get<std::int64_t>("b", 0, "doc"), ConfigError);
}

TEST(Config, ChoiceListsValidValues) {
  auto t = parse_yaml("mode: swop\n", "s.yaml");
  const std::string e = error_of([&] {
    t->root().choice("mode", "recompute", {"recompute", "swap"}, "doc");
  });
  EXPECT_EQ(e, "s.yaml:1: mode: 'swop' is not valid; valid values are: recompute, swap");
}

TEST(Config, SetOverridesExistingAndCreatesMissingKeys) {
  auto t = parse_yaml("w:\n  rate: 1\n");
  t->apply_override("w.rate=5.5");
  t->apply_override("w.arrival.impl=gamma");
  t->apply_override("list=[1, 2, 3]");
  ConfigNode r = t->root();
  ConfigNode w = r.child("w");
  EXPECT_DOUBLE_EQ(w.get<double>("rate", 0, "doc"), 5.5);
  EXPECT_EQ(w.child("arrival").get<std::string>("impl", "", "doc"), "gamma");
  EXPECT_EQ(r.get<std::vector<std::int64_t>>("list", {}, "doc"),
            (std::vector<std::int64_t>{1, 2, 3}));
  t->check_all_consumed();
}

TEST(Config, ErrorsInOverridesNameTheOverride) {
  auto t = parse_yaml("w:\n  rate: 1\n");
  t->apply_override("w.rate=-2");
  const std::string e =
      error_of([&] { t->root().child("w").get<double>("rate", 1, "doc", Positive()); });
  EXPECT_EQ(e, "--set w.rate: must be > 0 (got -2)");
  EXPECT_THROW(t->apply_override("noequals"), ConfigError);
  EXPECT_THROW(t->apply_override("w.rate.x=1"), ConfigError);  // rate is a scalar
  auto t2 = parse_yaml("a: 1\n");
  t2->apply_override("typo=3");
  t2->root().get<int>("a", 0, "doc");
  const std::string e2 = error_of([&] { t2->check_all_consumed(); });
  EXPECT_NE(e2.find("--set typo: unknown key"), std::string::npos) << e2;
}

TEST(Config, SyntaxErrorAndDuplicateKeysAreErrors) {
  const std::string e = error_of([&] { parse_yaml("a: [1, 2\nb: 3\n", "bad.yaml"); });
  EXPECT_NE(e.find("bad.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
  const std::string d = error_of([&] { parse_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml"); });
  EXPECT_EQ(d, "dup.yaml:3: a: duplicate key");
  EXPECT_THROW(parse_yaml("- 1\n- 2\n"), ConfigError);  // not a mapping
}

TEST(Config, ChildListsAreCheckedPerElement) {
  auto t = parse_yaml("clients:\n  - {rate: 1}\n  - {rate: 2, wieght: 3}\n", "c.yaml");
  auto list = t->root().child_list("clients");
  ASSERT_EQ(list.size(), 2u);
  for (auto& c : list) c.get<double>("rate", 0, "doc");
  for (auto& c : list) c.get<double>("weight", 1, "doc");
  const std::string e = error_of([&] { t->check_all_consumed(); });
  EXPECT_NE(e.find("c.yaml:3: clients.1.wieght: unknown key"), std::string::npos) << e;
}

}  // namespace
}  // namespace servesim
