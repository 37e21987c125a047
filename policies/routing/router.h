// policies/routing/router.h — the cluster-level dispatch policy: which instance gets an
// arriving request. A router sees the active instances of the pools that take arrivals
// (cluster.h), through their const API, and never changes them.
// One file per policy, registered with SERVESIM_REGISTER(Router, Class, "name", "description").
//
// Contract (tests/conformance_test.cc runs it over every registered router):
//  * route() returns the id of one of `candidates` (never empty when called);
//  * it is deterministic: the same sequence of calls on the same states gives the same answers;
//  * it never reads Request::output_tokens.
#pragma once

#include <cstdint>
#include <span>

#include "sim/core/registry.h"
#include "sim/world/instance.h"

namespace servesim {

struct RouterContext {};

class Router {
 public:
  using Context = RouterContext;
  static constexpr const char* kKind = "router";
  virtual ~Router() = default;
  // REQUIRES: !candidates.empty() (in id order).
  virtual InstanceId route(const RequestState& request,
                           std::span<const Instance* const> candidates) = 0;
};

std::unique_ptr<Router> make_router(ConfigNode cfg, const RouterContext& ctx,
                                    const std::string& default_impl = "round_robin");

}  // namespace servesim
