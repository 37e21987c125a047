// tests/trace_test_util.h — helpers for the trace tests: build a workload, arrival process or
// length distribution from YAML text, drain a source, and check the FILE:LINE shape of errors.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "sim/config/config.h"
#include "sim/config/errors.h"
#include "traces/distributions.h"
#include "traces/trace_source.h"

namespace servesim::testing {

// A workload built from YAML, kept with the ConfigTree it was read from.
struct TestSource {
  std::shared_ptr<ConfigTree> tree;
  std::unique_ptr<TraceSource> source;
};

inline TestSource make_source(const std::string& yaml, const TraceContext& ctx = TraceContext{}) {
  TestSource t;
  t.tree = ConfigTree::parse(yaml, "test.yaml");
  t.source = make_trace_source(t.tree->root(), ctx);
  t.tree->check_all_consumed();
  return t;
}

inline std::vector<Request> drain(TraceSource& s, std::size_t limit = 100000000) {
  std::vector<Request> out;
  Request r;
  while (out.size() < limit && s.next(r)) out.push_back(r);
  return out;
}

inline std::vector<Request> read_all(const std::string& yaml,
                                     const TraceContext& ctx = TraceContext{}) {
  TestSource t = make_source(yaml, ctx);
  return drain(*t.source);
}

// A TraceContext whose notes are collected into `notes`.
inline TraceContext capture_notes(std::vector<std::string>& notes, std::uint64_t seed = 0) {
  TraceContext ctx;
  ctx.seed = seed;
  ctx.report = [&notes](const std::string& n) { notes.push_back(n); };
  return ctx;
}

struct TestArrivals {
  std::shared_ptr<ConfigTree> tree;
  std::unique_ptr<ArrivalProcess> process;
};
inline TestArrivals make_arrivals(const std::string& yaml) {
  TestArrivals t;
  t.tree = ConfigTree::parse(yaml, "test.yaml");
  t.process = make_arrival_process(t.tree->root(), TraceContext{});
  t.tree->check_all_consumed();
  return t;
}

struct TestLengths {
  std::shared_ptr<ConfigTree> tree;
  std::unique_ptr<LengthDistribution> dist;
};
inline TestLengths make_lengths(const std::string& yaml, const TraceContext& ctx = TraceContext{}) {
  TestLengths t;
  t.tree = ConfigTree::parse(yaml, "test.yaml");
  t.dist = make_length_distribution(t.tree->root(), ctx);
  t.tree->check_all_consumed();
  return t;
}

// True when `message` reads "PATH:LINE: reason" for the given path.
inline bool is_file_line_error(const std::string& message, const std::string& path) {
  if (message.rfind(path + ":", 0) != 0) return false;
  std::size_t i = path.size() + 1, digits = 0;
  while (i < message.size() && message[i] >= '0' && message[i] <= '9') {
    ++i;
    ++digits;
  }
  return digits > 0 && message.compare(i, 2, ": ") == 0 && message.size() > i + 2;
}

// The InputError message of reading `yaml` to the end ("" when it succeeds).
inline std::string read_error(const std::string& yaml, const TraceContext& ctx = TraceContext{}) {
  try {
    read_all(yaml, ctx);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

inline std::string yaml_path(const std::string& p) { return "'" + p + "'"; }

}  // namespace servesim::testing
