// policies/queueing/service_meter.h — the service clients receive, as counter-based fair orders
// (vtc, dlpm) charge it: a cost function (`linear` w_p·p at admission and w_q per generated
// token, or the VTC artifact's fitted `profile` h(p, q)), and a meter of the per-token charges of
// decoding requests that does no per-token work.
//
// The meter keeps, per (client, decode group), the number of decoding requests n, Σp and Σq
// (tokens generated at the last settlement) and the group step of that settlement. k steps later
// the group's members have been charged w_q·n·k (linear) or
// k·(n·a + b·Σp) + c·(2k·Σq + n·k²) (profile, h's coefficients a = ∂q, b = ∂pq, c = ∂qq).
// Settling happens when a request joins or leaves decoding; reading a client's total adds the
// pending part: O(1) per event, O(groups the client decodes in) per read.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/world/request_state.h"

namespace servesim {

// h(p, q) of the VTC artifact's `profile` cost function (slora/server/router/vtc_req_queue.py).
inline constexpr double kHp = 0.21001891, kHq = 0.10075395, kHpq = 0.0039868, kHqq = 0.00324733,
                        kH0 = 1.14601454;

struct ServiceCost {
  bool profile = false;
  double w_p = 1, w_q = 2;
  // Charge of admitting a p-token prompt.
  double admission(double p) const { return profile ? kHp * p + kH0 : w_p * p; }
  // Charge of the next k tokens of n requests with Σp prompt and Σq generated tokens (tokens
  // q+1 .. q+k of each).
  double tokens(double n, double sum_p, double sum_q, double k) const {
    if (!profile) return w_q * n * k;
    return k * (n * kHq + kHpq * sum_p) + kHqq * (2 * k * sum_q + n * k * k);
  }
};

// Clients are dense indices (0, 1, ... in the caller's numbering), requests their RequestSlot:
// both index vectors, so every event is O(1) without hashing.
class DecodeServiceMeter {
 public:
  explicit DecodeServiceMeter(ServiceCost cost) : cost_(cost) {}

  // Group `group` has completed `step` steps.
  void step(int group, std::int64_t step) {
    const auto g = static_cast<std::size_t>(group);
    if (g >= steps_.size()) steps_.resize(g + 1, 0);
    if (step > steps_[g]) steps_[g] = step;
  }
  // Request `slot` of client `client` (p prompt, q generated tokens) joined decode group `group`
  // at its step `at_step`.
  void join(std::uint32_t client, RequestSlot slot, int group, std::int64_t at_step, double p,
            double q) {
    step(group, at_step);
    Agg& a = settle(client_at(client), group);
    a.n += 1;
    a.sum_p += p;
    a.sum_q += q;
    if (slot >= members_.size()) members_.resize(static_cast<std::size_t>(slot) + 1);
    members_[slot] = Member{q, at_step};
  }
  // It left; returns the tokens it generated while a member (for the double-charge quirk).
  double leave(std::uint32_t client, RequestSlot slot, int group, std::int64_t at_step, double p) {
    step(group, at_step);
    Agg& a = settle(client_at(client), group);
    const Member m = members_[slot];
    const double q = m.q_join + static_cast<double>(at_step - m.step_join);
    a.n -= 1;
    a.sum_p -= p;
    a.sum_q -= q;
    return q;
  }
  // Charges group `group`'s last step once more (the VTC artifact's quirk on steps where a
  // request finished); `leaver_*` describe a member that left on that step (already removed).
  void charge_last_step_again(int group, std::uint32_t leaver_client, double leaver_p,
                              double leaver_q) {
    for (Client& c : clients_) {
      if (static_cast<std::size_t>(group) >= c.groups.size()) continue;
      Agg& a = settle(c, group);
      c.settled += cost_.tokens(a.n, a.sum_p, a.sum_q - a.n, 1);
    }
    client_at(leaver_client).settled += cost_.tokens(1, leaver_p, leaver_q - 1, 1);
  }
  // Everything client `client`'s decoding requests have been charged since the start.
  double total(std::uint32_t client) const {
    if (client >= clients_.size()) return 0;
    const Client& c = clients_[client];
    double v = c.settled;
    for (std::size_t g = 0; g < c.groups.size(); ++g) v += pending(c.groups[g], g);
    return v;
  }

 private:
  struct Agg {
    double n = 0, sum_p = 0, sum_q = 0;
    std::int64_t settled_step = 0;
  };
  struct Client {
    double settled = 0;
    std::vector<Agg> groups;  // by decode group
  };
  struct Member {
    double q_join = 0;
    std::int64_t step_join = 0;
  };

  Client& client_at(std::uint32_t client) {
    if (client >= clients_.size()) clients_.resize(static_cast<std::size_t>(client) + 1);
    return clients_[client];
  }
  double pending(const Agg& a, std::size_t group) const {
    if (a.n <= 0) return 0;
    const double k = static_cast<double>(steps_[group] - a.settled_step);
    return k > 0 ? cost_.tokens(a.n, a.sum_p, a.sum_q, k) : 0;
  }
  Agg& settle(Client& c, int group) {
    const auto g = static_cast<std::size_t>(group);
    if (g >= c.groups.size()) c.groups.resize(g + 1);
    Agg& a = c.groups[g];
    const std::int64_t now = g < steps_.size() ? steps_[g] : 0;
    c.settled += pending(a, g);
    a.sum_q += a.n * static_cast<double>(now - a.settled_step);
    a.settled_step = now;
    return a;
  }

  ServiceCost cost_;
  std::vector<Client> clients_;
  std::vector<Member> members_;  // by request slot
  std::vector<std::int64_t> steps_;
};

}  // namespace servesim
