// sim/config/config.cc — strict YAML configuration; see config.h for the contract.
#include "sim/config/config.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

namespace servesim {
namespace {

std::string join_path(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

std::string describe_node(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing (null)";
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  return "'" + n.Scalar() + "'";
}

std::string format_number(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Rejects duplicate keys, which yaml-cpp would otherwise accept silently (first one wins).
// Values a scenario may expand to (after aliases); far above any real scenario.
constexpr std::size_t kMaxConfigNodes = 1'000'000;

// Nesting a scenario may have; far beyond any real one (and what a self-containing alias hits).
constexpr int kMaxConfigDepth = 256;

// Nodes under `n`, counting every alias expansion, stopping early past the limit. Sets
// `too_deep` (and stops) past kMaxConfigDepth levels: yaml-cpp turns an alias used inside its
// own anchor (`&a [*a]`, found by fuzz_scenario) into a node that contains itself.
std::size_t count_nodes(const YAML::Node& n, std::size_t so_far, int depth, bool& too_deep) {
  if (++so_far > kMaxConfigNodes) return so_far;
  if (depth > kMaxConfigDepth) {
    too_deep = true;
    return so_far;
  }
  if (n.IsMap()) {
    for (const auto& kv : n) {
      so_far = count_nodes(kv.second, so_far, depth + 1, too_deep);
      if (so_far > kMaxConfigNodes || too_deep) return so_far;
    }
  } else if (n.IsSequence()) {
    for (const auto& v : n) {
      so_far = count_nodes(v, so_far, depth + 1, too_deep);
      if (so_far > kMaxConfigNodes || too_deep) return so_far;
    }
  }
  return so_far;
}

void check_duplicates(const YAML::Node& n, const std::string& source, const std::string& path) {
  if (n.IsMap()) {
    std::set<std::string> seen;
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      if (!seen.insert(key).second) {
        throw ConfigError(source + ":" + std::to_string(kv.first.Mark().line + 1) + ": " +
                          join_path(path, key) + ": duplicate key");
      }
      check_duplicates(kv.second, source, join_path(path, key));
    }
  } else if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.size(); ++i)
      check_duplicates(n[i], source, join_path(path, std::to_string(i)));
  }
}

bool parse_int64(const std::string& s, std::int64_t& out) {
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

bool parse_double(const std::string& s, double& out) {
  std::string t = s;
  if (t == ".inf" || t == "inf" || t == "+.inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (t == "-.inf" || t == "-inf") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  auto res = std::from_chars(t.data(), t.data() + t.size(), out);
  return res.ec == std::errc() && res.ptr == t.data() + t.size() && std::isfinite(out);
}

// Counts a document's node events and remembers where its first one was
// (Parser::HandleNextDocument).
class DocumentProbe final : public YAML::EventHandler {
 public:
  int events = 0;
  YAML::Mark first;
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { note(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { note(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(mark);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& mark) {
    if (events++ == 0) first = mark;
  }
};

// Refuses a stream of more than one document. yaml-cpp 0.7's LoadAll loops forever, allocating,
// on inputs such as ", a" (each call yields another empty document without consuming anything;
// fixed upstream after 0.8), so the documents are walked here, at most two.
void check_single_document(const std::string& text, const std::string& source_name) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentProbe one, two;
  if (!parser.HandleNextDocument(one)) return;
  if (!parser.HandleNextDocument(two)) return;
  const int line = (two.events > 0 ? two.first.line : one.first.line) + 1;
  if (two.events > 0 && one.events > 0 && two.first.pos == one.first.pos) {
    throw ConfigError(source_name + ":" + std::to_string(line) +
                      ": YAML syntax error: unexpected text the parser cannot read past");
  }
  throw ConfigError(source_name + ":" + std::to_string(line) +
                    ": a second YAML document ('---'); a scenario is one document");
}

}  // namespace

// ----------------------------------------------------------------------------------- ConfigTree

std::shared_ptr<ConfigTree> ConfigTree::parse(const std::string& text,
                                              const std::string& source_name) {
  std::shared_ptr<ConfigTree> tree(new ConfigTree());
  tree->source_name_ = source_name;
  try {
    check_single_document(text, source_name);
    tree->root_ = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source_name + ":" + std::to_string(e.mark.line + 1) +
                      ": YAML syntax error: " + e.msg);
  }
  // Aliases share nodes: a short document can expand to billions of them (an "alias bomb").
  bool too_deep = false;
  if (count_nodes(tree->root_, 0, 0, too_deep) > kMaxConfigNodes) {
    throw ConfigError(source_name + ": the document expands to more than " +
                      std::to_string(kMaxConfigNodes) + " values (YAML aliases?)");
  }
  if (too_deep) {
    throw ConfigError(source_name + ": the document nests deeper than " +
                      std::to_string(kMaxConfigDepth) +
                      " levels (or a YAML alias is used inside its own anchor)");
  }
  if (!tree->root_.IsDefined() || tree->root_.IsNull())
    tree->root_ = YAML::Node(YAML::NodeType::Map);
  if (!tree->root_.IsMap()) {
    throw ConfigError(source_name + ":" + std::to_string(tree->root_.Mark().line + 1) +
                      ": the document must be a mapping of keys to values, got " +
                      describe_node(tree->root_));
  }
  check_duplicates(tree->root_, source_name, "");
  tree->resolved_ = YAML::Node(YAML::NodeType::Map);
  return tree;
}

std::shared_ptr<ConfigTree> ConfigTree::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open scenario file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

void ConfigTree::set(const std::string& dotted_key, const YAML::Node& value) {
  if (dotted_key.empty()) throw ConfigError("--set: empty key");
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = dotted_key.find('.', start);
    parts.push_back(
        dotted_key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (const auto& p : parts) {
    if (p.empty()) throw ConfigError("--set " + dotted_key + ": empty path segment");
  }
  YAML::Node cur;
  cur.reset(root_);
  std::string path;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    path = join_path(path, parts[i]);
    YAML::Node next;
    if (cur.IsSequence()) {
      std::int64_t idx;
      if (!parse_int64(parts[i], idx) || idx < 0 || static_cast<std::size_t>(idx) >= cur.size()) {
        throw ConfigError("--set " + dotted_key + ": '" + path + "' indexes a list; use 0.." +
                          std::to_string(cur.size() == 0 ? 0 : cur.size() - 1));
      }
      next.reset(cur[static_cast<std::size_t>(idx)]);
    } else {
      if (!cur.IsMap())
        throw ConfigError("--set " + dotted_key + ": '" + path + "' is not a mapping");
      const YAML::Node& ccur = cur;
      if (!ccur[parts[i]].IsDefined() || ccur[parts[i]].IsNull())
        cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next.reset(cur[parts[i]]);
    }
    cur.reset(next);
  }
  const std::string& last = parts.back();
  if (cur.IsSequence()) {
    std::int64_t idx;
    if (!parse_int64(last, idx) || idx < 0 || static_cast<std::size_t>(idx) >= cur.size()) {
      throw ConfigError("--set " + dotted_key + ": index out of range");
    }
    cur[static_cast<std::size_t>(idx)] = value;
  } else if (cur.IsMap()) {
    cur[last] = value;
  } else {
    throw ConfigError("--set " + dotted_key + ": parent is not a mapping");
  }
  override_paths_.insert(dotted_key);
}

void ConfigTree::apply_override(const std::string& assignment) {
  const std::size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set '" + assignment + "': expected dotted.key=value");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("--set " + key + ": cannot parse value '" + text + "': " + e.msg);
  }
  if (!value.IsDefined() || value.IsNull()) {
    throw ConfigError("--set " + key + ": empty value");
  }
  set(key, value);
}

std::vector<std::pair<std::string, std::string>> ConfigTree::override_values() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& key : override_paths_) {
    if (key == "output.path") continue;  // where results go is not part of the experiment
    YAML::Node cur;
    cur.reset(resolved_);
    std::size_t start = 0;
    bool found = true;
    while (found) {
      const std::size_t dot = key.find('.', start);
      const std::string part =
          key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      YAML::Node next;
      std::int64_t idx = 0;
      if (cur.IsSequence() && parse_int64(part, idx) && idx >= 0 &&
          static_cast<std::size_t>(idx) < cur.size()) {
        next.reset(cur[static_cast<std::size_t>(idx)]);
      } else if (cur.IsMap() && static_cast<const YAML::Node&>(cur)[part].IsDefined()) {
        next.reset(static_cast<const YAML::Node&>(cur)[part]);
      } else {
        found = false;
        break;
      }
      cur.reset(next);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (!found) continue;
    YAML::Emitter e;
    e << YAML::Flow << cur;
    out.emplace_back(key, e.c_str());
  }
  return out;
}

std::string ConfigTree::describe() const {
  std::string out;
  // Walks the resolved tree depth first in reading order; leaves print with their description.
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& n,
                                                                        const std::string& path) {
    if (n.IsMap()) {
      for (const auto& kv : n)
        walk(kv.second,
             path.empty() ? kv.first.as<std::string>() : path + "." + kv.first.as<std::string>());
      return;
    }
    if (n.IsSequence() && n.size() > 0 && n[0].IsMap()) {
      for (std::size_t i = 0; i < n.size(); ++i) walk(n[i], path + "." + std::to_string(i));
      return;
    }
    YAML::Emitter e;
    e << YAML::Flow << n;
    out += path + " = " + e.c_str();
    const auto doc = docs_.find(path);
    if (doc != docs_.end() && !doc->second.empty()) out += "  # " + doc->second;
    out += "\n";
  };
  walk(resolved_, "");
  return out;
}

ConfigNode ConfigTree::root() { return ConfigNode(this, root_, resolved_, ""); }

bool ConfigTree::is_override(const std::string& path) const {
  for (const auto& o : override_paths_) {
    if (path == o ||
        (path.size() > o.size() && path.compare(0, o.size(), o) == 0 && path[o.size()] == '.')) {
      return true;
    }
  }
  return false;
}

std::string ConfigTree::where(const YAML::Node& node, const std::string& path) const {
  if (!path.empty() && is_override(path)) return "--set " + path;
  std::string loc = source_name_;
  if (node.IsDefined() && node.Mark().line >= 0) loc += ":" + std::to_string(node.Mark().line + 1);
  return path.empty() ? loc : loc + ": " + path;
}

void ConfigTree::check_consumed(const YAML::Node& original, const YAML::Node& resolved,
                                const std::string& path, std::vector<std::string>& errors) const {
  if (original.IsMap()) {
    if (!resolved.IsMap()) return;  // read as a whole value
    for (const auto& kv : original) {
      const std::string key = kv.first.Scalar();
      const std::string kpath = join_path(path, key);
      const YAML::Node r = resolved[key];
      if (!r.IsDefined()) {
        std::string msg = where(kv.first, kpath) + ": unknown key";
        std::string best;
        std::size_t best_d = 3;
        for (const auto& rkv : resolved) {
          const std::size_t d = edit_distance(key, rkv.first.Scalar());
          if (d < best_d) {
            best_d = d;
            best = rkv.first.Scalar();
          }
        }
        if (!best.empty()) msg += " (did you mean '" + best + "'?)";
        std::vector<std::string> known;
        for (const auto& rkv : resolved) known.push_back(rkv.first.Scalar());
        if (best.empty() && !known.empty()) {
          msg += "; keys here are:";
          for (const auto& k : known) msg += " " + k;
        }
        errors.push_back(msg);
        continue;
      }
      check_consumed(kv.second, r, kpath, errors);
    }
  } else if (original.IsSequence() && resolved.IsSequence() && original.size() == resolved.size()) {
    for (std::size_t i = 0; i < original.size(); ++i) {
      check_consumed(original[i], resolved[i], join_path(path, std::to_string(i)), errors);
    }
  }
}

void ConfigTree::check_all_consumed() const {
  std::vector<std::string> errors;
  check_consumed(root_, resolved_, "", errors);
  if (errors.empty()) return;
  std::string msg = errors.front();
  for (std::size_t i = 1; i < errors.size(); ++i) msg += "\n" + errors[i];
  throw ConfigError(msg);
}

std::string ConfigTree::resolved_yaml() const {
  YAML::Emitter out;
  out << resolved_;
  return std::string(out.c_str()) + "\n";
}

// ----------------------------------------------------------------------------------- ConfigNode

ConfigNode::ConfigNode(ConfigTree* tree, YAML::Node node, YAML::Node resolved, std::string path)
    : tree_(tree), path_(std::move(path)) {
  node_.reset(node);
  resolved_.reset(resolved);
}

YAML::Node ConfigNode::lookup(std::string_view key) const {
  // A missing key yields a valid Undefined node (yaml-cpp's own answer is an invalid "zombie"
  // node that throws when rebound).
  if (!node_.IsDefined() || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& n = node_;
  const YAML::Node v = n[std::string(key)];
  if (!v.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
  return v;
}

bool ConfigNode::has(std::string_view key) const {
  const YAML::Node v = lookup(key);
  return v.IsDefined() && !v.IsNull();
}

bool ConfigNode::is_mapping(std::string_view key) const { return lookup(key).IsMap(); }

std::string ConfigNode::key_path(std::string_view key) const { return join_path(path_, key); }

std::string ConfigNode::where(std::string_view key) const {
  if (key.empty()) return tree_->where(node_, path_);
  const YAML::Node v = lookup(key);
  if (v.IsDefined()) return tree_->where(v, key_path(key));
  // Missing key: point at the enclosing mapping.
  std::string loc = tree_->where(node_, "");
  return loc + ": " + key_path(key);
}

void ConfigNode::fail(std::string_view key, const std::string& message) const {
  throw ConfigError(where(key) + ": " + message);
}

void ConfigNode::check_bounds(double v, std::string_view key, const Bounds& b) const {
  auto bad = [&](const std::string& rule) {
    fail(key, "must be " + rule + " (got " + format_number(v) + ")");
  };
  if (!std::isfinite(v)) bad("a finite number");  // .inf / .nan mean nothing here
  if (b.min) {
    if (b.min_exclusive ? !(v > *b.min) : !(v >= *b.min))
      bad(std::string(b.min_exclusive ? "> " : ">= ") + format_number(*b.min));
  }
  if (b.max) {
    if (b.max_exclusive ? !(v < *b.max) : !(v <= *b.max))
      bad(std::string(b.max_exclusive ? "< " : "<= ") + format_number(*b.max));
  }
}

void ConfigNode::record(std::string_view key, const YAML::Node& value,
                        std::string_view description) {
  resolved_[std::string(key)] = value;
  tree_->docs_[key_path(key)] = std::string(description);
}

template <>
bool ConfigNode::convert<bool>(const YAML::Node& v, std::string_view key) const {
  if (v.IsScalar()) {
    const std::string& s = v.Scalar();
    if (s == "true" || s == "True" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "False" || s == "no" || s == "off") return false;
  }
  fail(key, "expected true or false, got " + describe_node(v));
}

template <>
std::int64_t ConfigNode::convert<std::int64_t>(const YAML::Node& v, std::string_view key) const {
  if (v.IsScalar()) {
    std::int64_t i;
    if (parse_int64(v.Scalar(), i)) return i;
    double d;
    if (parse_double(v.Scalar(), d) && d == std::floor(d) && std::fabs(d) < 9.0e18)
      return static_cast<std::int64_t>(d);
  }
  fail(key, "expected an integer, got " + describe_node(v));
}

template <>
int ConfigNode::convert<int>(const YAML::Node& v, std::string_view key) const {
  const std::int64_t i = convert<std::int64_t>(v, key);
  if (i < std::numeric_limits<int>::min() || i > std::numeric_limits<int>::max()) {
    fail(key, "integer out of range: " + std::to_string(i));
  }
  return static_cast<int>(i);
}

template <>
double ConfigNode::convert<double>(const YAML::Node& v, std::string_view key) const {
  double d;
  if (v.IsScalar() && parse_double(v.Scalar(), d)) return d;
  fail(key, "expected a number, got " + describe_node(v));
}

template <>
std::string ConfigNode::convert<std::string>(const YAML::Node& v, std::string_view key) const {
  if (v.IsScalar()) return v.Scalar();
  fail(key, "expected a string, got " + describe_node(v));
}

template <>
std::vector<double> ConfigNode::convert<std::vector<double>>(const YAML::Node& v,
                                                             std::string_view key) const {
  if (!v.IsSequence()) fail(key, "expected a list of numbers, got " + describe_node(v));
  std::vector<double> out;
  for (std::size_t i = 0; i < v.size(); ++i) out.push_back(convert<double>(v[i], key));
  return out;
}

template <>
std::vector<std::int64_t> ConfigNode::convert<std::vector<std::int64_t>>(
    const YAML::Node& v, std::string_view key) const {
  if (!v.IsSequence()) fail(key, "expected a list of integers, got " + describe_node(v));
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < v.size(); ++i) out.push_back(convert<std::int64_t>(v[i], key));
  return out;
}

template <>
std::vector<std::string> ConfigNode::convert<std::vector<std::string>>(const YAML::Node& v,
                                                                       std::string_view key) const {
  if (!v.IsSequence()) fail(key, "expected a list of strings, got " + describe_node(v));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) out.push_back(convert<std::string>(v[i], key));
  return out;
}

namespace {
template <class T>
YAML::Node to_yaml(const T& v) {
  if constexpr (std::is_same_v<T, double>) {
    return YAML::Node(format_number(v));
  } else if constexpr (std::is_same_v<T, std::vector<double>>) {
    YAML::Node n(YAML::NodeType::Sequence);
    for (double d : v) n.push_back(YAML::Node(format_number(d)));
    n.SetStyle(YAML::EmitterStyle::Flow);
    return n;
  } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>> ||
                       std::is_same_v<T, std::vector<std::string>>) {
    YAML::Node n(YAML::NodeType::Sequence);
    for (const auto& d : v) n.push_back(d);
    n.SetStyle(YAML::EmitterStyle::Flow);
    return n;
  } else if constexpr (std::is_same_v<T, bool>) {
    return YAML::Node(v ? "true" : "false");
  } else {
    return YAML::Node(v);
  }
}
template <class T>
constexpr bool is_numeric_v =
    std::is_same_v<T, int> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>;
}  // namespace

template <class T>
T ConfigNode::get(std::string_view key, const T& default_value, std::string_view description,
                  const Bounds& bounds) {
  const YAML::Node v = lookup(key);
  T out = default_value;
  if (v.IsDefined() && !v.IsNull()) out = convert<T>(v, key);
  if constexpr (is_numeric_v<T>) {
    check_bounds(static_cast<double>(out), key, bounds);
  } else if constexpr (std::is_same_v<T, std::vector<double>> ||
                       std::is_same_v<T, std::vector<std::int64_t>>) {
    for (auto x : out) check_bounds(static_cast<double>(x), key, bounds);
  }
  record(key, to_yaml(out), description);
  return out;
}

template <class T>
T ConfigNode::required(std::string_view key, std::string_view description, const Bounds& bounds) {
  if (!has(key)) fail(key, "required key is missing (" + std::string(description) + ")");
  return get<T>(key, T{}, description, bounds);
}

std::string ConfigNode::choice(std::string_view key, const std::string& default_value,
                               const std::vector<std::string>& choices,
                               std::string_view description) {
  const std::string v = get<std::string>(key, default_value, description);
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    fail(key, "'" + v + "' is not valid; valid values are: " + list);
  }
  return v;
}

std::string ConfigNode::impl(const std::string& default_value, std::string_view description) {
  return get<std::string>("impl", default_value, description);
}

ConfigNode ConfigNode::child(std::string_view key) {
  const YAML::Node v = lookup(key);
  if (v.IsDefined() && !v.IsNull() && !v.IsMap())
    fail(key, "expected a mapping, got " + describe_node(v));
  const std::string k(key);
  const YAML::Node& cres = resolved_;
  if (!cres[k].IsDefined() || !cres[k].IsMap()) resolved_[k] = YAML::Node(YAML::NodeType::Map);
  YAML::Node r;
  r.reset(resolved_[k]);
  return ConfigNode(tree_, v, r, key_path(key));
}

std::vector<ConfigNode> ConfigNode::child_list(std::string_view key) {
  const YAML::Node v = lookup(key);
  std::vector<ConfigNode> out;
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsSequence()) fail(key, "expected a list of mappings, got " + describe_node(v));
  const std::string k(key);
  resolved_[k] = YAML::Node(YAML::NodeType::Sequence);
  YAML::Node seq;
  seq.reset(resolved_[k]);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string ipath = key_path(key) + "." + std::to_string(i);
    if (!v[i].IsMap())
      throw ConfigError(tree_->where(v[i], ipath) + ": expected a mapping, got " +
                        describe_node(v[i]));
    seq.push_back(YAML::Node(YAML::NodeType::Map));
    YAML::Node r;
    r.reset(seq[i]);
    YAML::Node orig;
    orig.reset(v[i]);
    out.push_back(ConfigNode(tree_, orig, r, ipath));
  }
  return out;
}

// Explicit instantiations for the supported parameter types.
#define SERVESIM_CONFIG_TYPE(T)                                                               \
  template T ConfigNode::get<T>(std::string_view, const T&, std::string_view, const Bounds&); \
  template T ConfigNode::required<T>(std::string_view, std::string_view, const Bounds&);
SERVESIM_CONFIG_TYPE(bool)
SERVESIM_CONFIG_TYPE(int)
SERVESIM_CONFIG_TYPE(std::int64_t)
SERVESIM_CONFIG_TYPE(double)
SERVESIM_CONFIG_TYPE(std::string)
SERVESIM_CONFIG_TYPE(std::vector<double>)
SERVESIM_CONFIG_TYPE(std::vector<std::int64_t>)
SERVESIM_CONFIG_TYPE(std::vector<std::string>)
#undef SERVESIM_CONFIG_TYPE

}  // namespace servesim
