// models/kernels/bench/cli.cc — argument parsing and the subcommands of servesim-kernels.
#include "cli.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "../backend.h"
#include "allreduce.h"
#include "check.h"
#include "profile.h"

namespace servesim::kernels {
namespace {

constexpr const char* kUsage = R"(usage: servesim-kernels <command> [flags]
commands:
  profile     sweep the shapes a cost model needs; write a kernel profile (JSON)
  check       compare every kernel with the CPU reference on random inputs
  attn-bench  the attention grid measured beside PyTorch SDPA
  ceilings    device-to-device copy bandwidth and large bf16 GEMM rate
  models      list the built-in model shapes
shape flags: --model NAME | --hidden N --heads N --kv-heads N --head-dim N --ffn N
             --gated 0|1 --vocab N [--name NAME]   (flags override --model's fields)
common:      --backend cpu|cuda (default: cuda when present) --device N --out FILE
             --quick --seed N --warmup N --iters N
profile:     --tp N --groups a,b (gemm,norm,rope,act,attn_prefill,attn_decode,layers,
             allreduce) --no-fp8 --max-rotations N --max-point-gib X --allreduce-gpus N
             (default with --tp > 1 on a multi-GPU machine: min(tp, GPUs); 0 = none)
             --gemm-tokens L --lm-head-tokens L --elementwise-tokens L --prefill-tokens L
             --prefill-prior L --decode-batch L --decode-context L   (L: comma list)
)";

const std::set<std::string> kBoolFlags = {"quick", "no-fp8", "help"};
const std::set<std::string> kValueFlags = {"backend",
                                           "device",
                                           "out",
                                           "seed",
                                           "warmup",
                                           "iters",
                                           "model",
                                           "name",
                                           "hidden",
                                           "heads",
                                           "kv-heads",
                                           "head-dim",
                                           "ffn",
                                           "gated",
                                           "vocab",
                                           "tp",
                                           "groups",
                                           "max-rotations",
                                           "max-point-gib",
                                           "allreduce-gpus",
                                           "gemm-tokens",
                                           "lm-head-tokens",
                                           "elementwise-tokens",
                                           "prefill-tokens",
                                           "prefill-prior",
                                           "decode-batch",
                                           "decode-context"};

struct Flags {
  std::map<std::string, std::string> values;
  std::set<std::string> bools;
  bool Has(const std::string& k) const { return values.count(k) > 0 || bools.count(k) > 0; }
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
  int64_t Int(const std::string& k, int64_t def) const {
    auto it = values.find(k);
    if (it == values.end()) return def;
    size_t used = 0;
    const int64_t v = std::stoll(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("--" + k + ": not an integer");
    return v;
  }
  std::vector<int> List(const std::string& k, const std::vector<int>& def) const {
    auto it = values.find(k);
    if (it == values.end()) return def;
    std::vector<int> out;
    std::stringstream ss(it->second);
    for (std::string item; std::getline(ss, item, ',');) {
      if (!item.empty()) out.push_back(std::stoi(item));
    }
    if (out.empty()) throw std::invalid_argument("--" + k + ": empty list");
    return out;
  }
};

Flags Parse(const std::vector<std::string>& args, size_t start) {
  Flags f;
  for (size_t i = start; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument '" + a + "'");
    std::string key = a.substr(2), value;
    const size_t eq = key.find('=');
    const bool has_eq = eq != std::string::npos;
    if (has_eq) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    if (kBoolFlags.count(key)) {
      if (has_eq) throw std::invalid_argument("--" + key + " takes no value");
      f.bools.insert(key);
    } else if (kValueFlags.count(key)) {
      if (!has_eq) {
        if (i + 1 >= args.size()) throw std::invalid_argument("--" + key + " needs a value");
        value = args[++i];
      }
      f.values[key] = value;
    } else {
      throw std::invalid_argument("unknown flag --" + key + " (see --help)");
    }
  }
  return f;
}

ModelShape ResolveModel(const Flags& f) {
  ModelShape m;
  if (f.Has("model")) {
    m = FindModel(f.Get("model"));
  } else {
    for (const char* k : {"hidden", "heads", "head-dim", "ffn", "vocab"}) {
      if (!f.Has(k)) {
        throw std::invalid_argument(std::string("give --model or the shape flags (missing --") + k +
                                    ")");
      }
    }
    m.name = "custom";
  }
  if (f.Has("name")) m.name = f.Get("name");
  m.hidden = static_cast<int>(f.Int("hidden", m.hidden));
  m.heads = static_cast<int>(f.Int("heads", m.heads));
  m.kv_heads = static_cast<int>(f.Int("kv-heads", m.kv_heads > 0 ? m.kv_heads : m.heads));
  m.head_dim = static_cast<int>(f.Int("head-dim", m.head_dim));
  m.ffn = static_cast<int>(f.Int("ffn", m.ffn));
  m.gated = f.Int("gated", m.gated ? 1 : 0) != 0;
  m.vocab = static_cast<int>(f.Int("vocab", m.vocab));
  if (m.hidden <= 0 || m.heads <= 0 || m.kv_heads <= 0 || m.head_dim <= 0 || m.ffn <= 0 ||
      m.vocab <= 0) {
    throw std::invalid_argument("model shape fields must be positive");
  }
  return m;
}

std::unique_ptr<Backend> ResolveBackend(const Flags& f) {
  const std::string def = CudaDeviceCount() > 0 ? "cuda" : "cpu";
  return MakeBackend(f.Get("backend", def), static_cast<int>(f.Int("device", 0)));
}

ProfileOptions ResolveOptions(const Flags& f, bool cpu) {
  ProfileOptions o;
  const bool quick = f.Has("quick");
  o.grid = quick ? QuickGrid() : DefaultGrid();
  SweepGrid& g = o.grid;
  g.gemm_tokens = f.List("gemm-tokens", g.gemm_tokens);
  g.lm_head_tokens = f.List("lm-head-tokens", g.lm_head_tokens);
  g.elementwise_tokens = f.List("elementwise-tokens", g.elementwise_tokens);
  g.prefill_tokens = f.List("prefill-tokens", g.prefill_tokens);
  g.prefill_prior = f.List("prefill-prior", g.prefill_prior);
  g.decode_batch = f.List("decode-batch", g.decode_batch);
  g.decode_context = f.List("decode-context", g.decode_context);
  o.timing.warmup = static_cast<int>(f.Int("warmup", cpu ? 1 : 3));
  o.timing.iters = static_cast<int>(f.Int("iters", cpu ? 3 : 20));
  if (o.timing.iters < 1 || o.timing.warmup < 0) throw std::invalid_argument("--iters >= 1");
  o.max_rotations = static_cast<int>(f.Int("max-rotations", cpu ? 2 : 64));
  if (f.Has("max-point-gib")) {
    o.max_point_bytes = static_cast<int64_t>(std::stod(f.Get("max-point-gib")) * (1 << 30));
  } else if (cpu) {
    o.max_point_bytes = int64_t{1} << 30;
  }
  o.seed = static_cast<uint64_t>(f.Int("seed", 1));
  o.fp8 = !f.Has("no-fp8");
  o.tp = static_cast<int>(f.Int("tp", 1));
  o.allreduce_gpus = static_cast<int>(f.Int("allreduce-gpus", 0));
  if (f.Has("groups")) {
    std::stringstream ss(f.Get("groups"));
    for (std::string item; std::getline(ss, item, ',');) {
      if (!item.empty()) o.groups.push_back(item);
    }
  }
  return o;
}

void Emit(const Json& doc, const Flags& f, std::ostream& out, std::ostream& err) {
  if (f.Has("out")) {
    std::ofstream file(f.Get("out"));
    if (!file) throw std::runtime_error("cannot write " + f.Get("out"));
    file << doc.dump(1) << "\n";
    if (!file) throw std::runtime_error("write failed: " + f.Get("out"));
    err << "wrote " << f.Get("out") << "\n";
  } else {
    out << doc.dump(1) << "\n";
  }
}

int Check(const Flags& f, std::ostream& out, std::ostream& err) {
  std::unique_ptr<Backend> dut = ResolveBackend(f);
  std::unique_ptr<Backend> ref = MakeBackend("cpu");
  CheckOptions opt;
  opt.seed = static_cast<uint64_t>(f.Int("seed", 0));
  opt.quick = f.Has("quick");
  opt.log = &err;
  err << "check: " << dut->Name() << " (" << dut->Device().name << ") against the CPU reference\n";
  const std::vector<CheckResult> results = RunChecks(*dut, *ref, opt);
  Json doc = ChecksToJson(results, opt.seed);
  doc["backend"] = std::string(dut->Name());
  doc["device"] = DeviceJson(dut->Device());
  Emit(doc, f, out, err);
  const int failed = doc["failed"].get<int>();
  err << "check: " << doc["passed"].get<int>() << " passed, " << failed << " failed (seed "
      << opt.seed << ")\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "help") {
      (args.empty() ? err : out) << kUsage;
      return args.empty() ? 2 : 0;
    }
    const std::string cmd = args[0];
    const Flags f = Parse(args, 1);
    if (f.Has("help")) {
      out << kUsage;
      return 0;
    }
    if (cmd == "models") {
      for (const ModelShape& m : BuiltinModels()) {
        out << m.name << ": hidden=" << m.hidden << " heads=" << m.heads
            << " kv_heads=" << m.kv_heads << " head_dim=" << m.head_dim << " ffn=" << m.ffn
            << " gated=" << m.gated << " vocab=" << m.vocab << "\n";
      }
      return 0;
    }
    if (cmd == "check") return Check(f, out, err);
    if (cmd == "profile" || cmd == "attn-bench" || cmd == "ceilings") {
      std::unique_ptr<Backend> be = ResolveBackend(f);
      ProfileOptions opt = ResolveOptions(f, be->Name() == "cpu");
      // A TP>1 profile on a machine with several GPUs also times the all-reduce over
      // min(tp, GPUs) devices unless --allreduce-gpus says otherwise.
      if (!f.Has("allreduce-gpus") && be->Name() == "cuda" && NcclCompiled() && opt.tp > 1 &&
          CudaDeviceCount() > 1) {
        opt.allreduce_gpus = std::min(opt.tp, CudaDeviceCount());
      }
      if (opt.allreduce_gpus > 1 && !NcclCompiled()) {
        throw std::invalid_argument("--allreduce-gpus needs a build with NCCL");
      }
      Json doc;
      if (cmd == "ceilings") {
        doc = RunCeilings(*be, opt, f.Has("quick"), &err);
      } else {
        ProfileOptions popt = opt;
        popt.model = ResolveModel(f);
        if (cmd == "profile") {
          err << "profile: " << popt.model.name << " tp=" << popt.tp << " on " << be->Name() << " ("
              << be->Device().name << ")\n";
          doc = RunProfile(*be, popt, &err);
        } else {
          doc = RunAttnBench(*be, ShardForTp(popt.model, popt.tp), popt, f.Has("quick"), &err);
        }
      }
      Emit(doc, f, out, err);
      return 0;
    }
    err << "unknown command '" << cmd << "'; valid values are: profile, check, attn-bench, "
        << "ceilings, models\n";
    return 2;
  } catch (const std::exception& e) {
    err << "servesim-kernels: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace servesim::kernels
