// policies/control/llumnix_migration.cc — `llumnix_migration`: Llumnix's live migration of
// running requests between the instances of one pool (ALGORITHMS.md §5.3–5.4).
//
// Every polling_interval_s the controller ranks the pool's instances by migrate freeness
// (policies/control/freeness.h) and pairs them:
//   destinations: active, nothing preempted or swapped (killed == 0), F > threshold, most free
//                 first; sources: draining instances (F = −∞), then those with killed > 0 or
//                 F < threshold (`prefill_relaxed`: every instance), least free first;
//   the k-th source goes with the k-th destination; `balanced` keeps a pair only when moving
//   the chosen request leaves the destination above the threshold and narrows the gap
//   (0 < gap after < gap before, or the destination is empty); `defrag` (alias
//   `prefill_constrained`) keeps every pair; an instance takes part in at most
//   max_migration_concurrency migrations at once.
// On the source it picks one decoding request not already moving, lowest priority first, then by
// `select`: lcfs (the last in the running order), sjf (shortest context now), ljf (longest).
//
// The protocol (`mode: live`): each stage copies the blocks the destination does not have yet.
// While more than last_stage_max_blocks are missing, a stage pre-allocates all but the block
// being written on the destination (the destination must stay above its watermark and have a
// batch seat free), copies them over the network while the request keeps decoding on the
// source, and the next stage starts when the copy lands (plus stage_overhead_ms). Otherwise the
// stage is final: at the source's next step boundary the request stops (detach: its KV stays
// leased on the source), the rest is pre-allocated and copied, the destination attaches it as a
// decoding request (at its next iteration) and the source lets go of its blocks. The downtime is
// the final stage: stop → attached, and it shows as the request's TBT gap. `blocking` copies
// every block in one final stage (a stop-the-world copy); `recompute` stops the request, frees
// its KV and queues it on the destination to prefill prompt + generated tokens again.
//
// Aborts (each frees whatever the destination pre-allocated; the request goes on at the
// source): the request finished or left the source during a stage (src_finished), it was
// preempted (src_preempted), the destination lacks memory or a seat (dst_oom), the destination
// stopped being active before the final stage (dst_draining), or max_stages stages would not
// reach a final one (max_stages: the stage that could not end it is not started). A final
// stage, once the request stopped, always completes (the simulated network does not fail).
//
// Draining instances also hand their waiting requests (no KV yet) to the freest active
// instance of the pool at each poll, so drain-by-migration empties them.
// Cost per poll: O(instances × log instances) plus O(running) on each chosen source.
#include <algorithm>
#include <map>
#include <vector>

#include "policies/control/controller.h"
#include "policies/control/freeness.h"
#include "sim/world/kv_copy.h"

namespace servesim {
namespace {

class LlumnixMigration final : public Controller {
 public:
  LlumnixMigration(ConfigNode& cfg, const ControllerContext& ctx)
      : cluster_(*ctx.cluster),
        copier_(*ctx.cluster, static_cast<int>(cfg.get<std::int64_t>(
                                  "kv_dtype_bytes", 2, "bytes per KV element", InRange(1, 8)))) {
    pool_ = find_pool(cfg);
    period_ns_ = s_to_ns(cfg.get<double>("polling_interval_s", 0.05,
                                         "period of the pairing (Llumnix's instance-info refresh)",
                                         InRange(1e-4, 3600)));
    const std::string pairing = cfg.choice(
        "pairing", "defrag", {"defrag", "prefill_constrained", "balanced", "prefill_relaxed"},
        "pairing policy: defrag (= prefill_constrained: every pair), balanced, prefill_relaxed");
    pairing_ = pairing == "balanced"          ? Pairing::kBalanced
               : pairing == "prefill_relaxed" ? Pairing::kPrefillRelaxed
                                              : Pairing::kDefrag;
    defrag_ = cfg.get<bool>("defrag", true,
                            "migrate freeness counts the head-of-line request's demand (Llumnix "
                            "v0.0.1: on)");
    threshold_ = cfg.get<double>("migrate_out_threshold", 3.0,
                                 "freeness threshold T (blocks per request)", InRange(-1e9, 1e9));
    const std::string select = cfg.choice("select", "lcfs", {"lcfs", "sjf", "sr", "ljf", "lr"},
                                          "request chosen on the source: lcfs (last running), "
                                          "sjf = sr (shortest context), ljf = lr (longest)");
    select_ = select == "lcfs"                      ? Select::kLcfs
              : (select == "sjf" || select == "sr") ? Select::kShortest
                                                    : Select::kLongest;
    const std::string mode =
        cfg.choice("mode", "live", {"live", "blocking", "recompute"},
                   "live (staged copy), blocking (one stop-the-world copy), recompute");
    mode_ = mode == "live" ? Mode::kLive : mode == "blocking" ? Mode::kBlocking : Mode::kRecompute;
    mode_name_ = mode == "live" ? "live" : mode == "blocking" ? "blocking" : "recompute";
    last_stage_max_blocks_ =
        cfg.get<std::int64_t>("last_stage_max_blocks", 16,
                              "a stage is final when at most this many blocks are missing "
                              "(Llumnix v0.0.1: 4, HEAD: 16)",
                              AtLeast(1));
    max_stages_ = static_cast<int>(
        cfg.get<std::int64_t>("max_stages", 3, "stages before a migration gives up", AtLeast(1)));
    concurrency_ = static_cast<int>(
        cfg.get<std::int64_t>("max_migration_concurrency", 1,
                              "migrations an instance takes part in at once", AtLeast(1)));
    stage_overhead_ns_ =
        s_to_ns(cfg.get<double>("stage_overhead_ms", 0.0,
                                "fixed cost per stage (handshake, RPC), ms", InRange(0, 1e6)) /
                1e3);
    headroom_blocks_ = cfg.get<double>(
        "priority_headroom_blocks", 0.0,
        "KV blocks of virtual usage added per high-priority (priority > 0) request", NonNegative());
  }

  TimeNs period_ns() const override { return period_ns_; }

  void tick() override {
    loads_.clear();
    for (InstanceId id : cluster_.pools()[static_cast<std::size_t>(pool_)].members) {
      Instance& inst = cluster_.instance(id);
      if (inst.state() != InstanceState::kActive && inst.state() != InstanceState::kDraining)
        continue;
      const InstanceLoad l = inst.load_with_head();
      loads_.push_back(Ranked{&inst, l, llumnix::migrate_freeness(l, defrag_, headroom_blocks_)});
    }
    hand_over_waiting();
    std::vector<Ranked*> src, dst;
    for (Ranked& r : loads_) {
      if (busy(r.inst->id()) >= concurrency_) continue;
      const bool draining = r.inst->state() == InstanceState::kDraining;
      if (!draining && r.load.killed == 0 && r.f > threshold_) dst.push_back(&r);
      if ((draining && r.load.decoding > 0) ||
          (!draining &&
           (pairing_ == Pairing::kPrefillRelaxed || r.load.killed > 0 || r.f < threshold_))) {
        src.push_back(&r);
      }
    }
    const auto by_f = [](const Ranked* a, const Ranked* b) {
      return a->f != b->f ? a->f < b->f : a->inst->id() < b->inst->id();
    };
    std::stable_sort(src.begin(), src.end(), by_f);
    std::stable_sort(dst.begin(), dst.end(), [&](const Ranked* a, const Ranked* b) {
      return by_f(b, a);  // most free first
    });
    const std::size_t pairs = std::min(src.size(), dst.size());
    for (std::size_t k = 0; k < pairs; ++k) {
      Instance& s = *src[k]->inst;
      Instance& d = *dst[k]->inst;
      if (&s == &d || busy(s.id()) >= concurrency_ || busy(d.id()) >= concurrency_) continue;
      const RequestSlot slot = choose(s);
      if (slot == kNoSlot) continue;
      if (pairing_ == Pairing::kBalanced && !narrows_gap(*src[k], *dst[k], s.kv_blocks_of(slot)))
        continue;
      begin(s, d, slot);
    }
  }

  void on_request_left(Instance& instance, const RequestState& r, LeaveReason why) override {
    auto it = active_.find(r.request_id);
    if (it == active_.end() || it->second.final || instance.id() != it->second.src) return;
    abort(it, why == LeaveReason::kFinished ? "src_finished" : "src_left");
  }

  void on_instance_state(Instance& instance, InstanceState) override {
    if (instance.state() == InstanceState::kActive) return;
    // (Aborting may re-enter through the instance stopping: collect first, look up each.)
    std::vector<std::uint64_t> doomed;
    for (const auto& [request_id, m] : active_) {
      if (m.dst == instance.id() && !m.final) doomed.push_back(request_id);
    }
    for (const std::uint64_t request_id : doomed) {
      auto it = active_.find(request_id);
      if (it != active_.end()) abort(it, "dst_draining");
    }
  }

 private:
  enum class Pairing : std::uint8_t { kDefrag, kBalanced, kPrefillRelaxed };
  enum class Select : std::uint8_t { kLcfs, kShortest, kLongest };
  enum class Mode : std::uint8_t { kLive, kBlocking, kRecompute };
  struct Ranked {
    Instance* inst;
    InstanceLoad load;
    double f;
  };
  struct Migration {
    std::uint64_t id = 0;  // unique per migration (callbacks check it)
    RequestSlot slot = kNoSlot;
    std::uint32_t generation = 0;
    std::int32_t preemptions = 0;
    InstanceId src = -1, dst = -1;
    std::int64_t tokens = 0;    // context when it began
    std::int64_t sent = 0;      // blocks the destination holds (reserved and copied)
    std::int64_t reserved = 0;  // blocks reserved on the destination so far
    int stages = 0;
    TimeNs start_ns = 0, stop_ns = -1;
    KvCopier::Copy copy;
    bool copying = false;
    bool final = false;  // the request stopped: the migration completes
    KvLease lease;
  };
  using Active = std::map<std::uint64_t, Migration>;  // by request id

  int find_pool(ConfigNode& cfg) const {
    const std::vector<Pool>& pools = cluster_.pools();
    if (!cfg.has("pool")) {
      for (std::size_t i = 0; i < pools.size(); ++i) {
        if (pools[i].spec.role == InstanceRole::kColocated) {
          cfg.get<std::string>("pool", pools[i].spec.name, "pool whose instances migrate");
          return static_cast<int>(i);
        }
      }
      cfg.fail("pool", "no colocated pool to migrate in; name one");
    }
    const std::string name = cfg.get<std::string>("pool", "", "pool whose instances migrate");
    std::string names;
    for (std::size_t i = 0; i < pools.size(); ++i) {
      if (pools[i].spec.name == name) {
        if (pools[i].spec.role != InstanceRole::kColocated)
          cfg.fail("pool", "pool '" + name +
                               "' is not colocated (migration moves decoding "
                               "requests between colocated instances)");
        return static_cast<int>(i);
      }
      names += (names.empty() ? "" : ", ") + pools[i].spec.name;
    }
    cfg.fail("pool", "no pool named '" + name + "'; pools are: " + names);
  }

  int busy(InstanceId id) const {
    const auto i = static_cast<std::size_t>(id);
    return i < busy_.size() ? busy_[i] : 0;
  }
  void add_busy(InstanceId id, int d) {
    const auto i = static_cast<std::size_t>(id);
    if (i >= busy_.size()) busy_.resize(i + 1, 0);
    busy_[i] += d;
  }

  // A draining instance's waiting requests hold no KV: they move at once to the active
  // instance with the largest dispatch freeness.
  void hand_over_waiting() {
    for (Ranked& from : loads_) {
      Instance& s = *from.inst;
      if (s.state() != InstanceState::kDraining) continue;
      while (s.num_waiting() > 0) {
        Instance* best = nullptr;
        double best_f = -llumnix::kInf;
        for (Ranked& to : loads_) {
          if (to.inst->state() != InstanceState::kActive) continue;
          const double f = llumnix::dispatch_freeness(to.inst->load(), headroom_blocks_);
          if (best == nullptr || f > best_f) best = to.inst, best_f = f;
        }
        if (best == nullptr) return;
        const RequestSlot slot = s.waiting_head();
        KvLease lease = s.detach(slot);
        s.release(std::move(lease));
        best->enqueue(slot, WaitReason::kMovedIn);
      }
    }
  }

  RequestSlot choose(Instance& s) const {
    RequestSlot best = kNoSlot;
    std::int32_t best_priority = 0;
    std::int64_t best_len = 0;
    s.for_each_running([&](RequestSlot slot, const RequestState& r) {
      if (r.phase != RequestPhase::kDecode || active_.count(r.request_id) > 0) return;
      const std::int64_t len = r.req.prompt_tokens + s.generated_tokens_of(slot);
      const bool better =
          best == kNoSlot || r.req.priority < best_priority ||
          (r.req.priority == best_priority &&
           (select_ == Select::kLcfs || (select_ == Select::kShortest && len < best_len) ||
            (select_ == Select::kLongest && len > best_len)));
      if (better) best = slot, best_priority = r.req.priority, best_len = len;
    });
    return best;
  }

  bool narrows_gap(const Ranked& s, const Ranked& d, std::int64_t blocks) const {
    if (d.load.running + d.load.waiting == 0) return true;
    InstanceLoad s2 = s.load, d2 = d.load;
    s2.running -= 1;
    s2.kv_free_blocks += blocks;
    d2.running += 1;
    d2.kv_free_blocks -= blocks;
    const double fs = llumnix::migrate_freeness(s2, defrag_, headroom_blocks_);
    const double fd = llumnix::migrate_freeness(d2, defrag_, headroom_blocks_);
    const double before = d.f - s.f, after = fd - fs;
    return fd >= threshold_ && after > 0 && after < before;
  }

  bool fits(Instance& d, const Migration& m, std::int64_t blocks) const {
    const bool seat = m.reserved > 0 || static_cast<std::int64_t>(d.num_seated()) < d.seq_budget();
    return seat && d.kv().free_blocks() - blocks >= d.load().watermark_blocks;
  }

  void begin(Instance& s, Instance& d, RequestSlot slot) {
    const RequestState& r = cluster_.requests()[slot];
    Migration m;
    m.id = ++next_id_;
    m.slot = slot;
    m.generation = cluster_.requests().generation(slot);
    m.preemptions = r.preemptions;
    m.src = s.id();
    m.dst = d.id();
    m.tokens = r.req.prompt_tokens + s.generated_tokens_of(slot);
    m.start_ns = cluster_.sim().now();
    add_busy(m.src, 1);
    add_busy(m.dst, 1);
    auto it = active_.emplace(r.request_id, std::move(m)).first;
    next_stage(it);
  }

  // Runs the next stage of a migration (at its start, after a stage's copy, or at the source's
  // step boundary the final stage waits for).
  void next_stage(Active::iterator it) {
    Migration& m = it->second;
    Instance& s = cluster_.instance(m.src);
    Instance& d = cluster_.instance(m.dst);
    const RequestState& r = cluster_.requests()[m.slot];
    if (cluster_.requests().generation(m.slot) != m.generation || r.preemptions != m.preemptions ||
        r.phase != RequestPhase::kDecode || r.instance_id != m.src) {
      abort(it, "src_preempted");
      return;
    }
    if (d.state() != InstanceState::kActive) {
      abort(it, "dst_draining");
      return;
    }
    const std::int64_t missing = s.kv_blocks_of(m.slot) - m.sent;
    if (mode_ == Mode::kLive && missing > last_stage_max_blocks_) {
      if (m.stages + 1 >= max_stages_) {  // this stage could not be the final one
        abort(it, "max_stages");
        return;
      }
      const std::int64_t n = missing - 1;  // not the block being written
      if (!fits(d, m, n)) {
        abort(it, "dst_oom");
        return;
      }
      d.reserve_incoming(m.slot, n);
      m.reserved += n;
      ++m.stages;
      copy(it, n);
      return;
    }
    if (s.in_flight(m.slot)) {  // stop it at the step boundary
      const std::uint64_t id = m.id, rid = it->first;
      cluster_.sim().schedule_at(s.iteration_end_ns(), Phase::kControl, [this, id, rid] {
        auto again = active_.find(rid);
        if (again != active_.end() && again->second.id == id) next_stage(again);
      });
      return;
    }
    if (mode_ != Mode::kRecompute && !fits(d, m, missing)) {
      abort(it, "dst_oom");
      return;
    }
    ++m.stages;
    m.final = true;
    m.stop_ns = cluster_.sim().now();
    if (mode_ == Mode::kRecompute) {
      if (m.reserved > 0) d.cancel_incoming(m.slot);
      KvLease lease = s.detach(m.slot);
      s.release(std::move(lease));
      ++cluster_.requests()[m.slot].migrations;
      d.enqueue(m.slot, WaitReason::kMovedIn);
      done(it, "done", nullptr, -1);
      return;
    }
    d.reserve_incoming(m.slot, missing);
    m.reserved += missing;
    m.lease = s.detach(m.slot);
    copy(it, missing);
  }

  void copy(Active::iterator it, std::int64_t blocks) {
    Migration& m = it->second;
    m.copying = true;
    const std::uint64_t id = m.id, rid = it->first;
    const std::int64_t tokens = blocks * cluster_.instance(m.src).kv().block_size();
    m.copy = copier_.start(m.src, m.dst, tokens, [this, id, rid, blocks] {
      auto at = active_.find(rid);
      if (at == active_.end() || at->second.id != id) return;
      at->second.copying = false;
      at->second.sent += blocks;
      if (stage_overhead_ns_ == 0) {
        stage_done(at);
        return;
      }
      cluster_.sim().schedule_in(stage_overhead_ns_, Phase::kCompletion, [this, id, rid] {
        auto again = active_.find(rid);
        if (again != active_.end() && again->second.id == id) stage_done(again);
      });
    });
  }

  void stage_done(Active::iterator it) {
    Migration& m = it->second;
    if (!m.final) {
      next_stage(it);
      return;
    }
    Instance& s = cluster_.instance(m.src);
    Instance& d = cluster_.instance(m.dst);
    RequestState& r = cluster_.requests()[m.slot];
    ++r.migrations;
    d.attach_decoding(m.slot);
    s.release(std::move(m.lease));
    done(it, "done", nullptr, cluster_.sim().now() - m.stop_ns);
  }

  // Ends a migration: it leaves the books first (what follows may call back into this
  // controller: freeing the reservation can stop a draining instance), then frees what it held.
  void abort(Active::iterator it, const char* reason) {
    const std::uint64_t request_id = it->first;
    Migration m = std::move(it->second);
    active_.erase(it);
    if (m.copying) copier_.cancel(m.copy);
    if (m.reserved > 0) cluster_.instance(m.dst).cancel_incoming(m.slot);
    done(request_id, m, "aborted", reason, -1);
  }

  void done(Active::iterator it, const char* outcome, const char* reason, TimeNs downtime_ns) {
    const std::uint64_t request_id = it->first;
    const Migration m = std::move(it->second);
    active_.erase(it);
    done(request_id, m, outcome, reason, downtime_ns);
  }

  void done(std::uint64_t request_id, const Migration& m, const char* outcome, const char* reason,
            TimeNs downtime_ns) {
    MigrationRecord rec;
    rec.request_id = request_id;
    rec.src = m.src;
    rec.dst = m.dst;
    rec.start_ns = m.start_ns;
    rec.end_ns = cluster_.sim().now();
    rec.stages = m.stages;
    rec.blocks = m.sent;
    rec.tokens = m.tokens;
    rec.downtime_ns = downtime_ns;
    rec.mode = mode_name_;
    rec.outcome = outcome;
    rec.reason = reason;
    add_busy(m.src, -1);
    add_busy(m.dst, -1);
    cluster_.signals().migration(rec);
  }

  Cluster& cluster_;
  KvCopier copier_;
  int pool_ = 0;
  TimeNs period_ns_ = 0;
  Pairing pairing_ = Pairing::kDefrag;
  bool defrag_ = true;
  double threshold_ = 3.0;
  Select select_ = Select::kLcfs;
  Mode mode_ = Mode::kLive;
  const char* mode_name_ = "live";
  std::int64_t last_stage_max_blocks_ = 16;
  int max_stages_ = 3;
  int concurrency_ = 1;
  TimeNs stage_overhead_ns_ = 0;
  double headroom_blocks_ = 0;
  std::vector<Ranked> loads_;
  std::vector<int> busy_;  // migrations per instance id
  Active active_;
  std::uint64_t next_id_ = 0;
};

}  // namespace

SERVESIM_REGISTER(Controller, LlumnixMigration, "llumnix_migration",
                  "Llumnix live migration: pairs instances by freeness every polling interval "
                  "and moves a decoding request in stages (or blocking / recompute)")

}  // namespace servesim
