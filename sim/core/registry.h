// sim/core/registry.h — name → factory registries for pluggable components.
//
// An implementation registers itself from its own .cc file with one line:
//   SERVESIM_REGISTER(Batcher, VllmBatcher, "vllm", "FCFS continuous batching (vLLM v0.4
//   default)");
// The interface declares `using Context = ...;` (what a factory receives besides its config) and
// `static constexpr const char* kKind = "batcher";` (the word `servesim list` uses).
// Registries are function-local statics (no static-initialisation-order issues); the library
// is an OBJECT library so the linker never drops a registering file.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/config/config.h"

namespace servesim {

struct RegistryEntry {
  std::string name;
  std::string description;
};

// Every registry's listing, by kind, for `servesim list`.
class RegistryIndex {
 public:
  using Lister = std::function<std::vector<RegistryEntry>()>;
  static std::map<std::string, Lister>& kinds() {
    static std::map<std::string, Lister> k;
    return k;
  }
};

template <class Interface>
class Registry {
 public:
  using Context = typename Interface::Context;
  using Factory = std::function<std::unique_ptr<Interface>(ConfigNode&, const Context&)>;

  static Registry& instance() {
    static Registry r;
    return r;
  }

  // Throws std::logic_error when `name` is taken (two implementations under one YAML name is a
  // build mistake; at static initialisation it stops the program with the message).
  bool add(const std::string& name, const std::string& description, Factory factory) {
    if (!entries_.emplace(name, Entry{description, std::move(factory)}).second) {
      throw std::logic_error(std::string("duplicate registration of ") + Interface::kKind + " '" +
                             name + "'");
    }
    return true;
  }

  // Creates the implementation named by `cfg`'s "impl" key. An unknown name is a ConfigError
  // that lists the valid names.
  std::unique_ptr<Interface> create(ConfigNode& cfg, const std::string& default_impl,
                                    const Context& ctx) {
    const std::string name =
        cfg.impl(default_impl, std::string("which ") + Interface::kKind + " to use");
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::string valid;
      for (const auto& [n, e] : entries_) valid += (valid.empty() ? "" : ", ") + n;
      cfg.fail("impl", "unknown " + std::string(Interface::kKind) + " '" + name +
                           "'; valid values are: " + valid);
    }
    return it->second.factory(cfg, ctx);
  }

  bool contains(const std::string& name) const { return entries_.count(name) > 0; }

  std::vector<RegistryEntry> list() const {
    std::vector<RegistryEntry> out;
    for (const auto& [n, e] : entries_) out.push_back(RegistryEntry{n, e.description});
    return out;
  }

 private:
  struct Entry {
    std::string description;
    Factory factory;
  };
  Registry() {
    RegistryIndex::kinds()[Interface::kKind] = [this] { return list(); };
  }
  std::map<std::string, Entry> entries_;
};

}  // namespace servesim

#define SERVESIM_CONCAT_INNER(a, b) a##b
#define SERVESIM_CONCAT(a, b) SERVESIM_CONCAT_INNER(a, b)
// Registers `Class` (constructible from (ConfigNode&, const Interface::Context&)) under `name`.
#define SERVESIM_REGISTER(Interface, Class, name, description)                                    \
  namespace {                                                                                     \
  [[maybe_unused]] const bool SERVESIM_CONCAT(servesim_registered_, __COUNTER__) =                \
      ::servesim::Registry<Interface>::instance().add(name, description,                          \
                                                      [](::servesim::ConfigNode& cfg,             \
                                                         const Interface::Context& ctx)           \
                                                          -> std::unique_ptr<Interface> {         \
                                                        return std::make_unique<Class>(cfg, ctx); \
                                                      });                                         \
  }
