// sim/config/config.h — strict, self-documenting configuration over YAML.
//
// A ConfigTree owns one parsed YAML document (a scenario or a catalog entry) plus the record of
// what the program read from it. Components read their parameters through ConfigNode, declaring
// each one where it is read: key, default, one-line description and bounds. Every read is copied
// into the *resolved* tree (defaults included), which is what a run stores in its database.
// After the whole component tree has been built, check_all_consumed() turns every key the
// program never read into an error naming the key path and the file line: there are no
// silently ignored keys.
//
// Error format: "FILE:LINE: key.path: problem" (or "--set key.path: problem" for overrides).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/errors.h"

namespace servesim {

// Numeric bounds for a parameter; build with the helpers below.
struct Bounds {
  std::optional<double> min;
  std::optional<double> max;
  bool min_exclusive = false;
  bool max_exclusive = false;
};
inline Bounds Positive() { return Bounds{0.0, std::nullopt, true, false}; }
inline Bounds NonNegative() { return Bounds{0.0, std::nullopt, false, false}; }
inline Bounds AtLeast(double v) { return Bounds{v, std::nullopt, false, false}; }
inline Bounds InRange(double lo, double hi) { return Bounds{lo, hi, false, false}; }
inline Bounds Fraction() { return Bounds{0.0, 1.0, false, false}; }     // [0, 1]
inline Bounds OpenFraction() { return Bounds{0.0, 1.0, true, false}; }  // (0, 1]

class ConfigNode;

class ConfigTree {
 public:
  // Parses `text`; `source_name` is what errors call the file. Throws ConfigError on bad YAML.
  static std::shared_ptr<ConfigTree> parse(const std::string& text, const std::string& source_name);
  static std::shared_ptr<ConfigTree> load_file(const std::string& path);

  // Applies "dotted.key=value" (value parsed as YAML: numbers, booleans, [lists], {maps}).
  // Creates missing intermediate maps. Throws ConfigError on malformed input.
  void apply_override(const std::string& assignment);
  // Sets a dotted key programmatically (used for --seed and capacity sweeps).
  void set(const std::string& dotted_key, const YAML::Node& value);

  ConfigNode root();

  // Throws ConfigError listing every key that no component read (unknown keys), with lines.
  void check_all_consumed() const;

  // Every key set from outside the file (--set, --seed, sweeps; output.path excepted) with its
  // resolved value as one-line YAML, sorted by key.
  std::vector<std::pair<std::string, std::string>> override_values() const;

  // The resolved configuration (every parameter read, with its default filled in), as YAML text.
  std::string resolved_yaml() const;
  const YAML::Node& resolved() const { return resolved_; }
  // Every parameter read, one per line: "path = value  # description" (run --describe).
  std::string describe() const;
  const std::string& source_name() const { return source_name_; }

  // Formats "FILE:LINE: path: message" for a node of this tree (line omitted when unknown).
  std::string where(const YAML::Node& node, const std::string& path) const;

 private:
  friend class ConfigNode;
  ConfigTree() = default;
  bool is_override(const std::string& path) const;
  void check_consumed(const YAML::Node& original, const YAML::Node& resolved,
                      const std::string& path, std::vector<std::string>& errors) const;

  std::string source_name_;
  YAML::Node root_;
  YAML::Node resolved_;
  std::set<std::string> override_paths_;
  std::map<std::string, std::string> docs_;  // resolved path -> description (for describe())
};

// A view of one mapping in a ConfigTree, at a key path. Cheap to copy.
class ConfigNode {
 public:
  ConfigNode(const ConfigNode&) = default;
  // YAML::Node's assignment overwrites the referenced node's content; rebind instead.
  ConfigNode& operator=(const ConfigNode& other) {
    tree_ = other.tree_;
    node_.reset(other.node_);
    resolved_.reset(other.resolved_);
    path_ = other.path_;
    return *this;
  }

  // Reads an optional parameter. T: bool, int, std::int64_t, double, std::string,
  // std::vector<double>, std::vector<std::int64_t>, std::vector<std::string>.
  template <class T>
  T get(std::string_view key, const T& default_value, std::string_view description,
        const Bounds& bounds = {});
  // Reads a parameter that has no default.
  template <class T>
  T required(std::string_view key, std::string_view description, const Bounds& bounds = {});
  // Reads a string that must be one of `choices`.
  std::string choice(std::string_view key, const std::string& default_value,
                     const std::vector<std::string>& choices, std::string_view description);

  // A nested mapping (absent → an empty mapping whose reads all take their defaults).
  ConfigNode child(std::string_view key);
  // A sequence of mappings (absent → empty).
  std::vector<ConfigNode> child_list(std::string_view key);
  // "impl" of this component: the registered name that picks its implementation.
  std::string impl(const std::string& default_value, std::string_view description);

  bool has(std::string_view key) const;
  bool is_mapping(std::string_view key) const;
  const std::string& path() const { return path_; }
  std::string key_path(std::string_view key) const;
  // "FILE:LINE: path.key" for messages about `key` of this node (or of the node itself if empty).
  std::string where(std::string_view key = {}) const;
  [[noreturn]] void fail(std::string_view key, const std::string& message) const;
  ConfigTree& tree() const { return *tree_; }

 private:
  friend class ConfigTree;
  ConfigNode(ConfigTree* tree, YAML::Node node, YAML::Node resolved, std::string path);
  YAML::Node lookup(std::string_view key) const;
  template <class T>
  T convert(const YAML::Node& value, std::string_view key) const;
  void check_bounds(double v, std::string_view key, const Bounds& b) const;
  void record(std::string_view key, const YAML::Node& value, std::string_view description);

  ConfigTree* tree_;
  YAML::Node node_;      // the mapping in the original document (may be undefined/null)
  YAML::Node resolved_;  // the mapping in the resolved tree
  std::string path_;
};

}  // namespace servesim
