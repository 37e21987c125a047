// policies/queueing/vtc.h — `vtc` and `lcf`: the Virtual Token Counter fair scheduler (Sheng et
// al., OSDI'24; ALGORITHMS.md §4.1; VTC-artifact slora/server/router/vtc_req_queue.py) and its
// no-lift baseline, least counter first.
//
// Every client u has a counter c_u of the service it received, divided by its fair weight f_u:
// admitting a request charges w_p × its prompt tokens (`cost: linear`, default w_p = 1) or
// h(p, 0) (`cost: profile`), and every decoded token charges w_q (default 2) or
// h(p, q) − h(p, q − 1), with the artifact's fitted h(p, q) = 0.21001891p + 0.10075395q +
// 0.0039868pq + 0.00324733q² + 1.14601454. Each client's requests wait FCFS in a queue of their
// own; the head is the front of the backlogged client with the smallest counter (ties: the client
// seen first), and nothing skips past it (the batcher's head-of-line rule does the rest). When a
// client becomes backlogged again its counter is lifted to at least the smallest counter of the
// clients still backlogged (`vtc`), so it can neither starve others with banked credit nor be
// starved; `lcf` does not lift. A recompute-preempted request goes back to the front of its
// client's queue and its re-admission is not charged again (VTC itself never preempts).
//
// Per-token charges without per-token work: DecodeServiceMeter (service_meter.h) keeps per
// (client, decode group) aggregates and settles them lazily: O(1) per decode join/leave/step,
// O(clients × groups) per head() — never O(running requests).
//
// `double_charge: true` reproduces the artifact's quirk: a decode step on which some request
// finishes is charged twice.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "policies/queueing/queue_order.h"
#include "policies/queueing/service_meter.h"

namespace servesim {

class VtcOrder final : public QueueOrder {
 public:
  VtcOrder(ConfigNode& cfg, const QueueOrderContext& ctx, bool lift_default)
      : cost_(read_cost(cfg)), meter_(cost_) {
    lift_ = cfg.get<bool>(
        "lift", lift_default,
        "lift a client's counter to the smallest backlogged one when it becomes backlogged");
    double_charge_ =
        cfg.get<bool>("double_charge", false,
                      "charge twice the decode steps on which a request finishes (artifact quirk)");
    weights_ = read_fair_weights(cfg, ctx);
  }
  // A client's counter now (settled + pending decode charges): for tests and reports.
  double counter_of(std::uint32_t id) { return counter(client(id)); }

  // The cost keys every service-charging order shares (input_weight, output_weight, cost).
  static ServiceCost read_cost(ConfigNode& cfg) {
    ServiceCost c;
    c.w_p = cfg.get<double>("input_weight", 1.0, "w_p: charge per prompt token (linear cost)",
                            NonNegative());
    c.w_q = cfg.get<double>("output_weight", 2.0, "w_q: charge per generated token (linear cost)",
                            NonNegative());
    c.profile =
        cfg.choice("cost", "linear", {"linear", "profile"},
                   "linear: w_p·input + w_q·output; profile: the artifact's fitted h(p, q)") ==
        "profile";
    return c;
  }
  // `fair_weights: [{client: 0, weight: 2}, ...]`: f_u, 1 for clients not listed. A client the
  // workload is known not to have is an error.
  static std::map<std::uint32_t, double> read_fair_weights(ConfigNode& cfg,
                                                           const QueueOrderContext& ctx) {
    std::map<std::uint32_t, double> weights;
    for (ConfigNode w : cfg.child_list("fair_weights")) {
      const auto client = w.required<std::int64_t>("client", "client id", InRange(0, 4294967295.0));
      if (ctx.known_clients != nullptr &&
          !std::binary_search(ctx.known_clients->begin(), ctx.known_clients->end(),
                              static_cast<std::uint32_t>(client))) {
        std::string ids;
        for (std::uint32_t id : *ctx.known_clients)
          ids += (ids.empty() ? "" : ", ") + std::to_string(id);
        w.fail("client", "unknown client " + std::to_string(client) +
                             " (the workload's clients: " + ids + ")");
      }
      const double weight =
          w.required<double>("weight", "fair weight f_u (service share)", Positive());
      if (!weights.emplace(static_cast<std::uint32_t>(client), weight).second) {
        w.fail("client", "client " + std::to_string(client) + " is listed twice");
      }
    }
    return weights;
  }

  void push(const QueuedRequest& r, Reason why) override {
    Client& c = client(r.client_id);
    const bool was_idle = c.queue.empty();
    if (why == Reason::kPreempted) {
      c.queue.push_front(r.slot);
    } else {
      c.queue.push_back(r.slot);
    }
    ++size_;
    if (r.slot >= readmit_.size()) readmit_.resize(static_cast<std::size_t>(r.slot) + 1, 0);
    readmit_[r.slot] = why == Reason::kPreempted ? 1 : 0;
    chosen_ = kNone;
    if (!was_idle) return;
    if (lift_ && !backlogged_.empty()) {
      // Lifted to at least the smallest counter among the other backlogged clients.
      double floor = counter(clients_[backlogged_[0]]);
      for (const std::uint32_t i : backlogged_) floor = std::min(floor, counter(clients_[i]));
      c.base += std::max(0.0, floor - counter(c));
    }
    backlogged_.insert(std::lower_bound(backlogged_.begin(), backlogged_.end(), c.index), c.index);
  }
  bool empty() const override { return size_ == 0; }
  std::size_t size() const override { return size_; }

  RequestSlot head() override { return chosen().queue.front(); }
  void pop_head() override {
    Client& c = chosen();
    c.queue.pop_front();
    --size_;
    chosen_ = kNone;
    if (c.queue.empty()) idle(c);
  }
  bool remove(RequestSlot slot) override {
    for (const std::uint32_t i : backlogged_) {
      Client& c = clients_[i];
      const auto it = std::find(c.queue.begin(), c.queue.end(), slot);
      if (it != c.queue.end()) {
        c.queue.erase(it);
        --size_;
        chosen_ = kNone;
        if (c.queue.empty()) idle(c);
        return true;
      }
    }
    return false;
  }

  void on_admit(const QueuedRequest& r, std::int64_t) override {
    chosen_ = kNone;
    const bool again = r.slot < readmit_.size() && readmit_[r.slot] != 0;
    if (again || r.generated_tokens > 0) return;  // a re-prefill is not charged twice
    Client& c = client(r.client_id);
    c.base += cost_.admission(r.prompt_tokens) / c.weight;
  }

  bool wants_decode_events() const override { return true; }
  void on_decode_join(const QueuedRequest& r, int group, std::int64_t step) override {
    meter_.join(client(r.client_id).index, r.slot, group, step, r.prompt_tokens,
                r.generated_tokens);
    chosen_ = kNone;
  }
  void on_decode_leave(const QueuedRequest& r, int group, std::int64_t step,
                       bool finished) override {
    const std::uint32_t i = client(r.client_id).index;
    const double q = meter_.leave(i, r.slot, group, step, r.prompt_tokens);
    if (finished && double_charge_ && charged_twice_.insert({group, step}).second) {
      // The artifact's quirk: the whole batch of this step is charged once more.
      meter_.charge_last_step_again(group, i, r.prompt_tokens, q);
    }
    chosen_ = kNone;
  }
  void on_decode_step(const DecodeStepInfo& s) override {
    meter_.step(s.group, s.step);
    chosen_ = kNone;
  }

 private:
  static constexpr std::size_t kNone = ~std::size_t{0};
  struct Client {
    std::uint32_t id = 0;
    std::uint32_t index = 0;  // dense, in order of first sight (ties go to the lower)
    double weight = 1;        // f_u
    double base = 0;          // admission charges and lifts, already divided by the weight
    std::deque<RequestSlot> queue;
  };

  Client& client(std::uint32_t id) {
    const auto [it, fresh] = index_.try_emplace(id, static_cast<std::uint32_t>(clients_.size()));
    if (fresh) {
      Client c;
      c.id = id;
      c.index = it->second;
      const auto w = weights_.find(id);
      c.weight = w == weights_.end() ? 1.0 : w->second;
      clients_.push_back(std::move(c));
    }
    return clients_[it->second];
  }
  double counter(const Client& c) const { return c.base + meter_.total(c.index) / c.weight; }
  void idle(const Client& c) {
    backlogged_.erase(std::lower_bound(backlogged_.begin(), backlogged_.end(), c.index));
  }
  // The backlogged client with the smallest counter (ties: the lower index, seen first).
  Client& chosen() {
    if (chosen_ != kNone) return clients_[chosen_];
    chosen_ = backlogged_[0];
    if (backlogged_.size() > 1) {
      double best_v = counter(clients_[chosen_]);
      for (std::size_t k = 1; k < backlogged_.size(); ++k) {
        const double v = counter(clients_[backlogged_[k]]);
        if (v < best_v) {
          chosen_ = backlogged_[k];
          best_v = v;
        }
      }
    }
    return clients_[chosen_];
  }

  ServiceCost cost_;
  DecodeServiceMeter meter_;
  bool lift_ = true, double_charge_ = false;
  std::map<std::uint32_t, double> weights_;
  std::vector<Client> clients_;  // by dense index
  std::unordered_map<std::uint32_t, std::uint32_t> index_;
  std::size_t size_ = 0;
  std::size_t chosen_ = kNone;             // the head's client while nothing changed
  std::vector<std::uint32_t> backlogged_;  // clients with waiting requests, ascending index
  std::vector<std::uint8_t> readmit_;      // by slot: waiting again after a recompute preemption
  std::set<std::pair<int, std::int64_t>> charged_twice_;
};

}  // namespace servesim
