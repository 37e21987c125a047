// policies/queueing/lpm.h — `lpm` and `dlpm`: longest-prefix-match order against the instance's
// prefix cache (SGLang's `lpm` schedule policy), and Deficit LPM, deficit round robin over clients
// with LPM inside a round (Cao et al., arXiv 2501.14312; ALGORITHMS.md §4.2).
//
// LPM: the waiting requests are ranked by the length of their prompt's computed prefix in the
// instance's cache (longest first, ties first come first served) and the best one is the head.
// With `dedup_cold_siblings` (SGLang's in-batch prefix rule), a request whose cached match is at
// most `sibling_tokens` but which shares its first `sibling_tokens` with a better-ranked waiting
// request goes to the back, so one of a group of cold siblings prefills first and the rest hit
// its cache later. `fcfs_above: N` reproduces SGLang's fallback to FCFS when more than N wait
// (0, the default, never falls back).
//
// DLPM: each client u has a deficit d_u. The head is the best-ranked request whose client has
// d_u > 0 (others keep their place); when no waiting client has a positive deficit, every
// waiting client with d_u ≤ 0 gets quantum × f_u (its fair weight), as many rounds at once as it
// takes for one to turn positive. Admission charges w_p × the prompt (`charge: full`) or only
// its uncached part (`charge: uncached`); each generated token charges w_q (service_meter.h,
// lazily, no per-token work). A client with nothing waiting and nothing admitted has its deficit
// cut to min(d_u, 0) (the DRR reset: no banked credit). Q → ∞ is LPM, a small Q interleaves
// clients like VTC.
//
// Cost. Ranking needs each candidate's match, O(prompt blocks) hash lookups. The ranking is kept
// until the queue changes or the cache's epoch moves (kv_cache.h: a block computed or evicted),
// and only `scan_limit` candidates are matched: the oldest waiting requests, taken so that every
// waiting client has at least ⌊scan_limit / clients⌋ of its oldest in the set (requests beyond
// it wait, FCFS, until they are among the candidates). A re-rank is
// O(waiting + scan_limit × prompt blocks + scan_limit log scan_limit); head() is O(clients ×
// decode groups) more for DLPM's deficits. Between re-ranks head() and pop_head() are O(1)
// amortised (O(scan_limit) to drop the head from the ranking).
#pragma once

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "policies/queueing/queue_order.h"
#include "policies/queueing/service_meter.h"
#include "policies/queueing/vtc.h"
#include "sim/world/kv_cache.h"

namespace servesim {

class PrefixMatchOrder final : public QueueOrder {
 public:
  PrefixMatchOrder(ConfigNode& cfg, const QueueOrderContext& ctx, bool deficits)
      : ctx_(ctx), deficits_(deficits), cost_(VtcOrder::read_cost(cfg)), meter_(cost_) {
    scan_limit_ = static_cast<std::size_t>(cfg.get<std::int64_t>(
        "scan_limit", 128, "waiting requests matched against the cache per ranking", AtLeast(1)));
    fcfs_above_ = static_cast<std::size_t>(cfg.get<std::int64_t>(
        "fcfs_above", 0, "FCFS while more than this many wait (SGLang: 128; 0 = never)",
        NonNegative()));
    dedup_ = cfg.get<bool>("dedup_cold_siblings", true,
                           "a cold request sharing its start with a better-ranked one waits");
    sibling_tokens_ = cfg.get<std::int64_t>(
        "sibling_tokens", 32, "the cold/shared threshold of dedup_cold_siblings", AtLeast(1));
    if (deficits_) {
      quantum_ = cfg.get<double>("quantum", 2500.0, "Q: the deficit a round adds (× fair weight)",
                                 Positive());
      charge_uncached_ =
          cfg.choice("charge", "full", {"full", "uncached"},
                     "admission charges the whole prompt or only its uncached part") == "uncached";
      weights_ = VtcOrder::read_fair_weights(cfg, ctx);
    }
  }
  // Client u's deficit now (tests and reports).
  double deficit_of(std::uint32_t client) const {
    const auto it = clients_.find(client);
    return it == clients_.end() ? 0 : deficit(client, it->second);
  }

  void push(const QueuedRequest& r, Reason why) override {
    const Waiting w{r.slot, r.client_id};
    if (why == Reason::kPreempted) {
      waiting_.push_front(w);
      readmit_.insert(r.slot);
    } else {
      waiting_.push_back(w);
    }
    ++clients_[r.client_id].waiting;
    dirty_ = true;
  }
  bool empty() const override { return waiting_.empty(); }
  std::size_t size() const override { return waiting_.size(); }

  RequestSlot head() override { return ranked_[pick()].slot; }
  void pop_head() override {
    const std::size_t i = pick();
    const RequestSlot slot = ranked_[i].slot;
    ranked_.erase(ranked_.begin() + static_cast<std::ptrdiff_t>(i));
    erase_waiting(slot);
    head_valid_ = false;  // the ranking stays valid
  }
  bool remove(RequestSlot slot) override {
    if (!erase_waiting(slot)) return false;
    readmit_.erase(slot);
    dirty_ = true;
    return true;
  }

  void on_admit(const QueuedRequest& r, std::int64_t prefill_tokens) override {
    head_valid_ = false;
    Client& c = clients_[r.client_id];
    if (admitted_.insert(r.slot).second) ++c.admitted;
    const bool again = readmit_.erase(r.slot) > 0 || r.generated_tokens > 0;
    if (!deficits_ || again) return;
    const double p = charge_uncached_ ? static_cast<double>(prefill_tokens) : r.prompt_tokens;
    c.charged += cost_.admission(p);
  }
  void on_leave(const QueuedRequest& r) override {
    head_valid_ = false;
    if (admitted_.erase(r.slot) == 0) return;
    Client& c = clients_[r.client_id];
    --c.admitted;
    if (deficits_ && c.waiting == 0 && c.admitted == 0) {
      const double d = deficit(r.client_id, c);
      if (d > 0) c.granted -= d;  // no banked credit
    }
  }
  bool wants_decode_events() const override { return deficits_; }
  void on_decode_join(const QueuedRequest& r, int group, std::int64_t step) override {
    meter_.join(dense(r.client_id), r.slot, group, step, r.prompt_tokens, r.generated_tokens);
    head_valid_ = false;
  }
  void on_decode_leave(const QueuedRequest& r, int group, std::int64_t step, bool) override {
    meter_.leave(dense(r.client_id), r.slot, group, step, r.prompt_tokens);
    head_valid_ = false;
  }
  void on_decode_step(const DecodeStepInfo& s) override {
    meter_.step(s.group, s.step);
    head_valid_ = false;
  }

 private:
  struct Waiting {
    RequestSlot slot;
    std::uint32_t client;
  };
  struct Ranked {
    RequestSlot slot;
    std::uint32_t client;
    std::int64_t match_blocks;  // computed prefix blocks in the cache (ties: FCFS, stable sort)
    bool deferred;              // a cold sibling of a better-ranked request
  };
  struct Client {
    std::int64_t waiting = 0, admitted = 0;
    double granted = 0, charged = 0;  // d_u = granted − charged − decode service
  };

  // The meter's dense index of a client (assigned at its first decode).
  std::uint32_t dense(std::uint32_t id) {
    return dense_.try_emplace(id, static_cast<std::uint32_t>(dense_.size())).first->second;
  }
  std::uint32_t dense_of(std::uint32_t id) const {
    const auto it = dense_.find(id);
    return it == dense_.end() ? ~std::uint32_t{0} : it->second;
  }
  double weight(std::uint32_t id) const {
    const auto it = weights_.find(id);
    return it == weights_.end() ? 1.0 : it->second;
  }
  double deficit(std::uint32_t id, const Client& c) const {
    return c.granted - c.charged - meter_.total(dense_of(id));
  }
  bool erase_waiting(RequestSlot slot) {
    const auto it = std::find_if(waiting_.begin(), waiting_.end(),
                                 [slot](const Waiting& w) { return w.slot == slot; });
    if (it == waiting_.end()) return false;
    --clients_[it->client].waiting;
    waiting_.erase(it);
    return true;
  }

  // Rebuilds ranked_ from the oldest waiting requests when the queue or the cache changed.
  void rank() {
    const std::uint64_t epoch = ctx_.kv != nullptr ? ctx_.kv->epoch() : 0;
    if (!dirty_ && !ranked_.empty() && epoch == epoch_) return;
    dirty_ = false;
    epoch_ = epoch;
    head_valid_ = false;
    ranked_.clear();
    const bool fcfs = fcfs_above_ > 0 && waiting_.size() > fcfs_above_;
    std::size_t backlogged = 0;
    for (const auto& [id, c] : clients_) backlogged += c.waiting > 0 ? 1 : 0;
    const std::size_t per_client =
        std::max<std::size_t>(1, scan_limit_ / std::max<std::size_t>(1, backlogged));
    // Candidates: the oldest scan_limit, but at least per_client of each client's oldest.
    std::unordered_map<std::uint32_t, std::size_t> taken;
    for (const Waiting& w : waiting_) {
      std::size_t& n = taken[w.client];
      if (ranked_.size() >= scan_limit_ && n >= per_client) continue;
      if (ranked_.size() >= scan_limit_ + backlogged * per_client) break;
      ++n;
      ranked_.push_back(Ranked{w.slot, w.client, 0, false});
      if (fcfs && ranked_.size() >= scan_limit_) break;
    }
    if (fcfs || ctx_.kv == nullptr || !ctx_.kv->prefix_caching()) return;
    const int bs = ctx_.kv->block_size();
    const auto sibling_block = static_cast<std::size_t>((sibling_tokens_ + bs - 1) / bs) - 1;
    for (Ranked& c : ranked_) c.match_blocks = ctx_.kv->match(ctx_.block_hashes(c.slot)).computed;
    std::stable_sort(ranked_.begin(), ranked_.end(), [](const Ranked& a, const Ranked& b) {
      return a.match_blocks > b.match_blocks;
    });
    if (!dedup_) return;
    std::unordered_set<std::uint64_t> seen;
    for (Ranked& c : ranked_) {
      const std::span<const std::uint64_t> h = ctx_.block_hashes(c.slot);
      if (h.size() <= sibling_block) continue;
      const bool cold = c.match_blocks * bs <= sibling_tokens_;
      if (!seen.insert(h[sibling_block]).second && cold) c.deferred = true;
    }
    std::stable_partition(ranked_.begin(), ranked_.end(),
                          [](const Ranked& c) { return !c.deferred; });
  }

  // Index in ranked_ of the head.
  std::size_t pick() {
    rank();
    if (head_valid_) return head_;
    head_valid_ = true;
    head_ = 0;
    if (!deficits_) return head_;
    // The best-ranked request whose client has a positive deficit; refill rounds when none has.
    std::map<std::uint32_t, double> d;
    for (const Ranked& c : ranked_) d.try_emplace(c.client, deficit(c.client, clients_[c.client]));
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t i = 0; i < ranked_.size(); ++i) {
        if (d[ranked_[i].client] > 0) return head_ = i;
      }
      // Rounds until the first waiting client turns positive; every waiting client with d ≤ 0
      // gets them all.
      double rounds = 0;
      bool first = true;
      for (const auto& [id, c] : clients_) {
        if (c.waiting == 0) continue;
        const double di = deficit(id, c);
        if (di > 0) continue;
        const double need = std::floor(-di / (quantum_ * weight(id))) + 1;
        if (first || need < rounds) rounds = need;
        first = false;
      }
      for (auto& [id, c] : clients_) {
        if (c.waiting == 0) continue;
        const double di = deficit(id, c);
        if (di > 0) continue;
        c.granted += rounds * quantum_ * weight(id);
        if (d.count(id) != 0) d[id] = deficit(id, c);
      }
    }
    return head_;  // unreachable in practice: a refill makes some candidate's client positive
  }

  QueueOrderContext ctx_;
  bool deficits_;
  ServiceCost cost_;
  DecodeServiceMeter meter_;
  std::size_t scan_limit_ = 128, fcfs_above_ = 0;
  bool dedup_ = true;
  std::int64_t sibling_tokens_ = 32;
  double quantum_ = 2500;
  bool charge_uncached_ = false;
  std::map<std::uint32_t, double> weights_;

  std::deque<Waiting> waiting_;  // FCFS (a preempted request at the front)
  std::map<std::uint32_t, Client> clients_;
  std::unordered_map<std::uint32_t, std::uint32_t> dense_;
  std::unordered_set<RequestSlot> admitted_, readmit_;
  std::vector<Ranked> ranked_;
  bool dirty_ = true;
  std::uint64_t epoch_ = 0;
  bool head_valid_ = false;
  std::size_t head_ = 0;
};

}  // namespace servesim
