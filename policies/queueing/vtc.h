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
// Per-token charges without per-token work: the order keeps, per (client, decode group), the
// number of decoding requests n, Σp and Σq (tokens generated at the last settlement) and the
// group step at which they were settled; k steps later the charge is w_q·n·k (linear) or
// k·(n·a + b·Σp) + c·(2k·Σq + n·k²) (profile, with h's coefficients a, b, c). Settling happens when
// a request joins or leaves decoding, and reading a counter adds the pending part: O(1) per event,
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

namespace servesim {

// h(p, q) of the VTC artifact's `profile` cost function.
inline constexpr double kHp = 0.21001891, kHq = 0.10075395, kHpq = 0.0039868, kHqq = 0.00324733,
                        kH0 = 1.14601454;

class VtcOrder final : public QueueOrder {
 public:
  // A client's counter now (settled + pending decode charges): for tests and reports.
  double counter_of(std::uint32_t id) { return counter(client(id)); }
  VtcOrder(ConfigNode& cfg, const QueueOrderContext&, bool lift_default) {
    w_p_ = cfg.get<double>("input_weight", 1.0, "w_p: charge per prompt token (linear cost)",
                           NonNegative());
    w_q_ = cfg.get<double>("output_weight", 2.0, "w_q: charge per generated token (linear cost)",
                           NonNegative());
    profile_ =
        cfg.choice("cost", "linear", {"linear", "profile"},
                   "linear: w_p·input + w_q·output; profile: the artifact's fitted h(p, q)") ==
        "profile";
    lift_ = cfg.get<bool>(
        "lift", lift_default,
        "lift a client's counter to the smallest backlogged one when it becomes backlogged");
    double_charge_ =
        cfg.get<bool>("double_charge", false,
                      "charge twice the decode steps on which a request finishes (artifact quirk)");
    for (ConfigNode w : cfg.child_list("fair_weights")) {
      const auto client = w.required<std::int64_t>("client", "client id", InRange(0, 4294967295.0));
      const double weight =
          w.required<double>("weight", "fair weight f_u (service share)", Positive());
      if (!weights_.emplace(static_cast<std::uint32_t>(client), weight).second) {
        w.fail("client", "client " + std::to_string(client) + " is listed twice");
      }
    }
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
    admitted_before_[r.slot] = why == Reason::kPreempted;
    if (was_idle && lift_) {
      // Lifted to at least the smallest counter among the other backlogged clients.
      double floor = 0;
      bool any = false;
      for (const auto& [id, other] : clients_) {
        if (id == r.client_id || other.queue.empty()) continue;
        const double v = counter(other);
        if (!any || v < floor) floor = v;
        any = true;
      }
      if (any) {
        settle_all(c);
        c.base = std::max(c.base, floor);
      }
    }
  }
  bool empty() const override { return size_ == 0; }
  std::size_t size() const override { return size_; }

  RequestSlot head() override { return chosen().queue.front(); }
  void pop_head() override {
    Client& c = chosen();
    c.queue.pop_front();
    --size_;
  }
  bool remove(RequestSlot slot) override {
    for (auto& [id, c] : clients_) {
      const auto it = std::find(c.queue.begin(), c.queue.end(), slot);
      if (it != c.queue.end()) {
        c.queue.erase(it);
        --size_;
        admitted_before_.erase(slot);
        return true;
      }
    }
    return false;
  }

  void on_admit(const QueuedRequest& r, std::int64_t) override {
    const auto it = admitted_before_.find(r.slot);
    const bool again = it != admitted_before_.end() && it->second;
    if (it != admitted_before_.end()) admitted_before_.erase(it);
    if (again || r.generated_tokens > 0) return;  // a re-prefill is not charged twice
    Client& c = client(r.client_id);
    const double p = r.prompt_tokens;
    c.base += (profile_ ? kHp * p + kH0 : w_p_ * p) / weight(r.client_id);
  }

  bool wants_decode_events() const override { return true; }
  void on_decode_join(const QueuedRequest& r, int group, std::int64_t step) override {
    note_step(group, step);
    Client& c = client(r.client_id);
    Agg& a = settle(c, group);
    ++a.n;
    a.sum_p += r.prompt_tokens;
    a.sum_q += r.generated_tokens;
    members_[r.slot] = Member{static_cast<double>(r.generated_tokens), step};
  }
  void on_decode_leave(const QueuedRequest& r, int group, std::int64_t step,
                       bool finished) override {
    note_step(group, step);
    Client& c = client(r.client_id);
    Agg& a = settle(c, group);
    const auto it = members_.find(r.slot);
    const Member m = it->second;
    members_.erase(it);
    --a.n;
    a.sum_p -= r.prompt_tokens;
    a.sum_q -= m.q_join + static_cast<double>(step - m.step_join);
    if (finished && double_charge_ && charged_twice_.insert({group, step}).second) {
      // The artifact's quirk: the whole batch of this step is charged once more.
      for (auto& [id, other] : clients_) {
        auto g = other.groups.find(group);
        if (g == other.groups.end()) continue;
        const double n = g->second.n + (&other == &c ? 1 : 0);  // the finishing one was in it
        other.base += (profile_ ? kHq * n : w_q_ * n) / weight(id);
      }
    }
  }
  void on_decode_step(const DecodeStepInfo& s) override { note_step(s.group, s.step); }

 private:
  struct Agg {
    double n = 0, sum_p = 0, sum_q = 0;
    std::int64_t settled_step = 0;
  };
  struct Client {
    std::uint32_t id = 0;
    std::size_t order = 0;  // first seen
    double base = 0;        // settled counter
    std::deque<RequestSlot> queue;
    std::map<int, Agg> groups;
  };
  struct Member {
    double q_join = 0;
    std::int64_t step_join = 0;
  };

  double weight(std::uint32_t id) const {
    const auto it = weights_.find(id);
    return it == weights_.end() ? 1.0 : it->second;
  }
  Client& client(std::uint32_t id) {
    auto [it, fresh] = clients_.try_emplace(id);
    if (fresh) {
      it->second.id = id;
      it->second.order = clients_.size();
    }
    return it->second;
  }
  void note_step(int group, std::int64_t step) {
    if (static_cast<std::size_t>(group) >= group_steps_.size())
      group_steps_.resize(static_cast<std::size_t>(group) + 1, 0);
    group_steps_[static_cast<std::size_t>(group)] =
        std::max(group_steps_[static_cast<std::size_t>(group)], step);
  }
  std::int64_t group_step(int group) const {
    return static_cast<std::size_t>(group) < group_steps_.size()
               ? group_steps_[static_cast<std::size_t>(group)]
               : 0;
  }
  // Service of `a` over the steps since it was last settled.
  double pending(const Agg& a, int group, double weight) const {
    const double k = static_cast<double>(group_step(group) - a.settled_step);
    if (k <= 0 || a.n <= 0) return 0;
    // Σ over members of the next k tokens' charges (tokens q+1 .. q+k of each).
    const double charge =
        profile_ ? k * (a.n * kHq + kHpq * a.sum_p) + kHqq * (2 * k * a.sum_q + a.n * k * k)
                 : w_q_ * a.n * k;
    return charge / weight;
  }
  Agg& settle(Client& c, int group) {
    Agg& a = c.groups[group];
    const double k = static_cast<double>(group_step(group) - a.settled_step);
    c.base += pending(a, group, weight(c.id));
    a.sum_q += a.n * k;
    a.settled_step = group_step(group);
    return a;
  }
  void settle_all(Client& c) {
    for (auto& [g, a] : c.groups) settle(c, g);
  }
  double counter(const Client& c) const {
    double v = c.base;
    for (const auto& [g, a] : c.groups) v += pending(a, g, weight(c.id));
    return v;
  }
  Client& chosen() {
    Client* best = nullptr;
    double best_v = 0;
    for (auto& [id, c] : clients_) {
      if (c.queue.empty()) continue;
      const double v = counter(c);
      if (!best || v < best_v || (v == best_v && c.order < best->order)) {
        best = &c;
        best_v = v;
      }
    }
    return *best;
  }

  double w_p_ = 1, w_q_ = 2;
  bool profile_ = false, lift_ = true, double_charge_ = false;
  std::map<std::uint32_t, double> weights_;
  std::map<std::uint32_t, Client> clients_;  // ordered: deterministic scans
  std::size_t size_ = 0;
  std::unordered_map<RequestSlot, bool> admitted_before_;  // waiting slot → was preempted
  std::unordered_map<RequestSlot, Member> members_;
  std::vector<std::int64_t> group_steps_;
  std::set<std::pair<int, std::int64_t>> charged_twice_;
};

}  // namespace servesim
