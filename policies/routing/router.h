// policies/routing/router.h — the cluster-level dispatch policy: which instance gets an
// arriving request. Routers read instances through their const load getters only.
// One file per policy, registered with SERVESIM_REGISTER(Router, Class, "name", "description").
#pragma once

#include <cstdint>
#include <span>

#include "sim/core/registry.h"
#include "sim/world/instance.h"

namespace servesim {

struct RouterContext {
  int num_instances = 0;
  std::uint64_t seed = 0;
};

class Router {
 public:
  using Context = RouterContext;
  static constexpr const char* kKind = "router";
  virtual ~Router() = default;
  // Returns the index (into `instances`) of the instance that takes `request`.
  virtual std::size_t route(const RequestState& request, std::span<const Instance* const> instances) = 0;
};

std::unique_ptr<Router> make_router(ConfigNode cfg, const RouterContext& ctx);

}  // namespace servesim
