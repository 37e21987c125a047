// traces/transforms/assign_clients.cc — `assign_clients`: gives every request one of `clients`
// client ids, for traces that have none (Azure, Mooncake, ShareGPT...). `by: prefix` (default)
// hashes one of the request's prefix blocks (`block`, the first by default), so requests that
// share a beginning (a system prompt, a conversation's earlier turns) belong to the same client —
// a tenant as an application with its own prompts; requests without prefix hashes fall back to a
// random client. On Mooncake every request starts with the same block: use `block: 1`. `by: random`
// draws each request's client uniformly (seeded: random stream "workload.assign_clients").
// Known clients: 0 .. clients−1 (not all need to appear).
#include <algorithm>

#include "sim/core/rng.h"
#include "traces/transforms/transform.h"

namespace servesim {
namespace {

class AssignClients final : public TraceTransform {
 public:
  AssignClients(ConfigNode& cfg, const TraceContext& ctx)
      : clients_(cfg.required<std::int64_t>("clients", "number of client ids to spread over",
                                            InRange(1, 1 << 20))),
        by_prefix_(cfg.choice("by", "prefix", {"prefix", "random"},
                              "prefix: by a prefix block (shared beginnings stay together); "
                              "random: uniform per request") == "prefix"),
        block_(static_cast<std::size_t>(cfg.get<std::int64_t>(
            "block", 0,
            "which prefix block's hash picks the client (0 = the first; past a request's last "
            "block: its last); 1 skips a system prompt every request shares",
            InRange(0, 1 << 20)))),
        rng_(ctx.seed, "workload.assign_clients") {}
  bool next(Request& out) override {
    if (!inner_->next(out)) return false;
    if (by_prefix_ && !out.prefix_hashes.empty()) {
      // SplitMix64 finaliser: trace hashes may be small sequential ids (Mooncake remaps them).
      std::uint64_t z =
          out.prefix_hashes[std::min(block_, out.prefix_hashes.size() - 1)] + 0x9e3779b97f4a7c15ULL;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      out.client_id = static_cast<std::uint32_t>(z % static_cast<std::uint64_t>(clients_));
    } else {
      out.client_id = static_cast<std::uint32_t>(rng_.uniform_int(0, clients_ - 1));
    }
    return true;
  }
  std::optional<std::vector<std::uint32_t>> known_clients() const override {
    std::vector<std::uint32_t> ids;
    for (std::int64_t c = 0; c < clients_; ++c) ids.push_back(static_cast<std::uint32_t>(c));
    return ids;
  }

 private:
  std::int64_t clients_;
  bool by_prefix_;
  std::size_t block_;
  Rng rng_;
};

}  // namespace

SERVESIM_REGISTER(TraceTransform, AssignClients, "assign_clients",
                  "give requests client ids 0..clients-1, by first prefix block or at random")

}  // namespace servesim
