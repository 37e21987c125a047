// traces/generators/multi_client.cc — `multi_client`: a generated workload of several clients
// (tenants), each with its own lengths, priority, shared system prompts and multi-turn
// conversations, producing prefix-block hashes a prefix cache can match.
//
//   workload:
//     impl: multi_client
//     num_requests: 5000
//     prefix_block_tokens: 16
//     arrival: {impl: poisson, rate_per_s: 8}      # shared stream, split among clients by weight
//     clients:
//       - {weight: 3, prompt_tokens: {impl: lognormal, mean: 300}, output_tokens: 200,
//          system_prompt_tokens: 1000, num_system_prompts: 2, turns: {impl: uniform, min: 1, max:
//          6}, think_time_s: 20}
//       - {arrival: {impl: gamma, rate_per_s: 1, cv: 3}, prompt_tokens: 2000, output_tokens: 50,
//       priority: 1}
//
// Arrivals start conversations. A client either takes a share of the shared `arrival` stream
// (by `weight`) or has its own `arrival` process. A conversation has `turns` requests; turn k
// arrives an exponential think time (mean think_time_s) after turn k−1 arrived — open loop: the
// generator does not see completions. Turn k's prompt is the system prompt (if any), every
// earlier user message and answer, then the new user message of prompt_tokens tokens; its
// output is output_tokens tokens. Memory grows with the number of open conversations only.
#include <algorithm>
#include <limits>
#include <queue>

#include "traces/distributions.h"
#include "traces/generators/prefix_hash.h"

namespace servesim {
namespace {

struct Client {
  std::uint32_t id = 0;
  std::int32_t priority = 0;
  double weight = 0;                         // share of the shared stream (0 = own process)
  std::unique_ptr<ArrivalProcess> arrivals;  // own process, or null
  std::unique_ptr<LengthDistribution> prompt, output, turns;
  std::int64_t system_prompt_tokens = 0;
  std::int64_t num_system_prompts = 1;
  double think_time_s = 0;
  Rng arrival_rng, prompt_rng, output_rng, conversation_rng;
  TimeNs last_arrival_ns = 0;
  Client(std::uint64_t seed, std::size_t index)
      : arrival_rng(seed, "workload.client." + std::to_string(index) + ".arrival"),
        prompt_rng(seed, "workload.client." + std::to_string(index) + ".prompt"),
        output_rng(seed, "workload.client." + std::to_string(index) + ".output"),
        conversation_rng(seed, "workload.client." + std::to_string(index) + ".conversation") {}
};

struct Conversation {
  std::size_t client = 0;
  std::int64_t turns_left = 0;
  std::vector<PromptSegment> segments;  // system prompt, u1, a1, u2, a2, ...
  std::int64_t context_tokens = 0;      // tokens in `segments`
  std::uint64_t uid = 0;
  std::int64_t turn = 0;
};

// Event kinds in the merge queue.
constexpr int kShared = -1;  // the shared arrival stream
// >= 0: a client's own arrival process (the client index), or a follow-up turn (kTurn).
constexpr int kTurn = -2;

struct Pending {
  TimeNs t_ns;
  std::uint64_t seq;
  int kind;
  std::size_t index;  // client index (own arrivals) or conversation slot (turns)
  bool operator>(const Pending& o) const { return t_ns != o.t_ns ? t_ns > o.t_ns : seq > o.seq; }
};

class MultiClientSource final : public TraceSource {
 public:
  MultiClientSource(ConfigNode& cfg, const TraceContext& ctx)
      : shared_rng_(ctx.seed, "workload.arrival"),
        choice_rng_(ctx.seed, "workload.client_choice"),
        seed_(ctx.seed) {
    num_requests_ = cfg.get<std::int64_t>(
        "num_requests", 1000,
        "stop after this many requests (0 = no limit: set duration_s; at most 1e10)",
        InRange(0, 1e10));
    const double duration_s =
        cfg.get<double>("duration_s", 0.0, "stop at this time, s (0 = no limit)", NonNegative());
    end_ns_ = duration_s > 0 ? s_to_ns(duration_s) : std::numeric_limits<TimeNs>::max();
    if (num_requests_ == 0 && duration_s == 0)
      cfg.fail("num_requests", "0 (no limit) needs duration_s > 0");
    block_tokens_ = static_cast<std::int32_t>(cfg.get<std::int64_t>(
        "prefix_block_tokens", 16,
        "tokens per prefix block of the generated hashes (0 = no hashes)", InRange(0, 1 << 20)));
    if (cfg.has("arrival")) shared_ = make_arrival_process(cfg.child("arrival"), ctx);
    std::vector<ConfigNode> list = cfg.child_list("clients");
    if (list.empty()) cfg.fail("clients", "needs at least one client");
    double total_weight = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      ConfigNode& c = list[i];
      auto cl = std::make_unique<Client>(ctx.seed, i);
      cl->id = static_cast<std::uint32_t>(c.get<std::int64_t>(
          "id", static_cast<std::int64_t>(i), "client id (default: position in the list)",
          InRange(0, std::numeric_limits<std::uint32_t>::max())));
      c.get<std::string>("name", "", "free text");
      cl->priority = static_cast<std::int32_t>(c.get<std::int64_t>(
          "priority", 0, "priority of the client's requests (larger = more important)",
          InRange(std::numeric_limits<std::int32_t>::min(),
                  std::numeric_limits<std::int32_t>::max())));
      if (c.has("arrival")) {
        if (c.has("weight"))
          c.fail("weight",
                 "a client with its own arrival process takes no share of the shared stream");
        cl->arrivals = make_arrival_process(c.child("arrival"), ctx);
      } else {
        if (!shared_)
          c.fail(
              "arrival",
              "required: give this client an arrival process, or the workload a shared `arrival`");
        cl->weight = c.get<double>("weight", 1.0, "share of the shared arrival stream (relative)",
                                   Positive());
        total_weight += cl->weight;
      }
      cl->prompt = make_length_distribution(c, "prompt_tokens", 512, ctx);
      cl->output = make_length_distribution(c, "output_tokens", 128, ctx);
      cl->system_prompt_tokens = c.get<std::int64_t>(
          "system_prompt_tokens", 0,
          "tokens of a system prompt shared by the client's conversations (0 = none)",
          InRange(0, kMaxGeneratedTokens));
      cl->num_system_prompts = c.get<std::int64_t>(
          "num_system_prompts", 1, "distinct system prompts, picked uniformly per conversation",
          AtLeast(1));
      cl->turns = make_length_distribution(c, "turns", 1, ctx);
      cl->think_time_s = c.get<double>(
          "think_time_s", 0.0,
          "mean gap between the arrivals of consecutive turns, s (exponential)", NonNegative());
      clients_.push_back(std::move(cl));
    }
    if (shared_ && total_weight == 0)
      cfg.fail("arrival",
               "no client takes a share of the shared stream (every client has its own arrival)");
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      if (clients_[i]->weight > 0) {
        weight_cum_.push_back((weight_cum_.empty() ? 0 : weight_cum_.back()) + clients_[i]->weight);
        weighted_.push_back(i);
      }
    }
    // Prime the queue: the first event of every stream.
    if (shared_) push(shared_->next_arrival_ns(0, shared_rng_), kShared, 0);
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      if (clients_[i]->arrivals)
        push(clients_[i]->arrivals->next_arrival_ns(0, clients_[i]->arrival_rng),
             static_cast<int>(i), i);
    }
  }

  std::optional<std::vector<std::uint32_t>> known_clients() const override {
    std::vector<std::uint32_t> ids;
    for (const auto& c : clients_) ids.push_back(c->id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  }

  bool next(Request& out) override {
    if (num_requests_ > 0 && emitted_ >= num_requests_) return false;
    if (queue_.empty()) return false;
    const Pending p = queue_.top();
    if (p.t_ns > end_ns_) return false;
    queue_.pop();
    std::size_t slot;
    if (p.kind == kTurn) {
      slot = p.index;
    } else {
      std::size_t ci;
      if (p.kind == kShared) {
        ci = pick_client();
        push(shared_->next_arrival_ns(p.t_ns, shared_rng_), kShared, 0);
      } else {
        ci = p.index;
        Client& c = *clients_[ci];
        push(c.arrivals->next_arrival_ns(p.t_ns, c.arrival_rng), p.kind, ci);
      }
      slot = start_conversation(ci);
    }
    emit_turn(slot, p.t_ns, out);
    return true;
  }

 private:
  void push(TimeNs t, int kind, std::size_t index) { queue_.push(Pending{t, seq_++, kind, index}); }

  std::size_t pick_client() {
    if (weighted_.size() == 1) return weighted_[0];
    const double u = choice_rng_.uniform01() * weight_cum_.back();
    const auto it = std::upper_bound(weight_cum_.begin(), weight_cum_.end(), u);
    return weighted_[std::min(static_cast<std::size_t>(it - weight_cum_.begin()),
                              weighted_.size() - 1)];
  }

  std::size_t start_conversation(std::size_t ci) {
    Client& c = *clients_[ci];
    std::size_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = conversations_.size();
      conversations_.emplace_back();
    }
    Conversation& conv = conversations_[slot];
    conv.client = ci;
    conv.turns_left = c.turns->sample(c.conversation_rng);
    conv.segments.clear();
    conv.context_tokens = 0;
    conv.turn = 0;
    conv.uid = mix_hash(0xC0417E5A7104ULL ^ seed_, next_conversation_++);
    if (c.system_prompt_tokens > 0) {
      const auto which =
          static_cast<std::uint64_t>(c.conversation_rng.uniform_int(0, c.num_system_prompts - 1));
      conv.segments.push_back(
          {mix_hash(mix_hash(0x5157E3ULL, c.id), which), c.system_prompt_tokens});
      conv.context_tokens = c.system_prompt_tokens;
    }
    return slot;
  }

  void emit_turn(std::size_t slot, TimeNs t_ns, Request& out) {
    Conversation& conv = conversations_[slot];
    Client& c = *clients_[conv.client];
    const std::int64_t user = c.prompt->sample(c.prompt_rng);
    const std::int64_t answer = c.output->sample(c.output_rng);
    conv.segments.push_back({mix_hash(conv.uid, static_cast<std::uint64_t>(2 * conv.turn)), user});
    const std::int64_t prompt =
        std::min<std::int64_t>(conv.context_tokens + user, kMaxGeneratedTokens);
    out.trace_id = static_cast<std::uint64_t>(emitted_++);
    out.client_id = c.id;
    out.arrival_ns = t_ns;
    out.prompt_tokens = static_cast<std::int32_t>(prompt);
    out.output_tokens = static_cast<std::int32_t>(answer);
    out.priority = c.priority;
    out.prefix_block_tokens = block_tokens_;
    if (block_tokens_ > 0) {
      prefix_block_hashes(conv.segments, prompt, block_tokens_, out.prefix_hashes);
    } else {
      out.prefix_hashes.clear();
    }
    // The answer becomes part of the next turn's context.
    conv.segments.push_back(
        {mix_hash(conv.uid, static_cast<std::uint64_t>(2 * conv.turn + 1)), answer});
    conv.context_tokens = prompt + answer;
    ++conv.turn;
    if (--conv.turns_left > 0) {
      const double think =
          c.think_time_s > 0 ? c.conversation_rng.exponential(1.0 / c.think_time_s) : 0.0;
      push(t_ns + s_to_ns(think), kTurn, slot);
    } else {
      conv.segments.clear();
      conv.segments.shrink_to_fit();
      free_.push_back(slot);
    }
  }

  std::vector<std::unique_ptr<Client>> clients_;
  std::unique_ptr<ArrivalProcess> shared_;
  Rng shared_rng_, choice_rng_;
  std::uint64_t seed_;
  std::vector<double> weight_cum_;
  std::vector<std::size_t> weighted_;
  std::vector<Conversation> conversations_;
  std::vector<std::size_t> free_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> queue_;
  std::uint64_t seq_ = 0, next_conversation_ = 0;
  std::int64_t num_requests_ = 0, emitted_ = 0;
  TimeNs end_ns_ = 0;
  std::int32_t block_tokens_ = 16;
};

}  // namespace

SERVESIM_REGISTER(TraceSource, MultiClientSource, "multi_client",
                  "generated multi-tenant workload: clients with weights or own arrivals, system "
                  "prompts, multi-turn conversations")

}  // namespace servesim
