// sim/world/handoff.cc — see handoff.h.
#include "sim/world/handoff.h"

#include <algorithm>

#include "sim/world/kv_shards.h"

namespace servesim {

Handoff::Handoff(Cluster& cluster, std::vector<DecodePool> decode_pools, Options options)
    : cluster_(cluster),
      decode_pools_(std::move(decode_pools)),
      copier_(cluster, options.kv_dtype_bytes),
      options_(options) {
  for (DecodePool& pool : decode_pools_) pool.active = cluster_.active_members(pool.pool);
}

void Handoff::on_prefill_done(Instance& instance, RequestSlot slot) {
  bridge_.push_back(Pending{instance.id(), slot});
  move_what_fits();
}

void Handoff::on_request_left(Instance& instance, const RequestState&, LeaveReason) {
  if (instance.role() == InstanceRole::kDecode && !bridge_.empty()) move_what_fits();
}

void Handoff::on_instance_state(Instance& instance, InstanceState) {
  if (instance.role() != InstanceRole::kDecode) return;
  for (DecodePool& pool : decode_pools_) {
    if (pool.pool == instance.pool()) pool.active = cluster_.active_members(pool.pool);
  }
  if (!bridge_.empty()) move_what_fits();
}

void Handoff::on_instance_idle(Instance& instance) {
  if (instance.role() == InstanceRole::kDecode && !bridge_.empty()) move_what_fits();
}

bool Handoff::accepts(const Instance& d, const DecodePool& pool, std::int64_t blocks) const {
  const double waiting_limit =
      pool.accept_waiting_fraction * static_cast<double>(d.kv().total_blocks());
  return static_cast<double>(d.reserved_blocks()) < waiting_limit &&
         d.kv().free_blocks() >= blocks &&
         static_cast<std::int64_t>(d.num_seated()) < d.seq_budget();
}

void Handoff::move_what_fits() {
  if (busy_) {
    again_ = true;
    return;
  }
  busy_ = true;
  do {
    again_ = false;
    while (!bridge_.empty()) {
      const Pending p = bridge_.front();
      const RequestState& r = cluster_.requests()[p.slot];
      Instance* target = nullptr;
      for (DecodePool& pool : decode_pools_) {
        candidates_.clear();
        for (Instance* d : pool.active) {
          const std::int64_t blocks =
              d->kv().blocks_for_tokens(r.req.prompt_tokens + r.generated_tokens - 1);
          if (accepts(*d, pool, blocks)) candidates_.push_back(d);
        }
        if (candidates_.empty()) continue;
        target = &cluster_.instance(pool.router->route(r, candidates_));
        break;
      }
      if (!target) break;
      bridge_.pop_front();
      start_move(p, *target);
    }
  } while (again_);
  busy_ = false;
}

void Handoff::start_move(const Pending& p, Instance& target) {
  RequestState& r = cluster_.requests()[p.slot];
  const std::int64_t tokens = r.req.prompt_tokens + r.generated_tokens - 1;
  target.reserve_incoming(p.slot, target.kv().blocks_for_tokens(tokens));
  r.handoff_start_ns = cluster_.sim().now();
  Moving m{p.from, target.id(), 0, 0};
  const std::vector<KvShardFlow> none;
  const std::vector<KvShardFlow>& flows =
      options_.transfer ? copier_.shard_flows(cluster_.instance(p.from).pool(), target.pool())
                        : none;
  for (const KvShardFlow& f : flows) m.bytes += f.bytes * static_cast<double>(tokens);
  if (flows.empty()) {  // zero-time hand-off
    moving_now_.emplace(p.slot, m);
    finish_move(p.slot);
    return;
  }
  m.flows_left = static_cast<int>(flows.size());
  moving_now_.emplace(p.slot, m);
  const std::vector<DeviceId>& src = cluster_.devices(p.from);
  const std::vector<DeviceId>& dst = cluster_.devices(target.id());
  Network& net = cluster_.network();
  const double prefill_ns =
      static_cast<double>(std::max<TimeNs>(0, r.prefill_done_ns - r.prefill_start_ns));
  const int layers = cluster_.instance(p.from).model().num_layers;
  const RequestSlot slot = p.slot;
  for (const KvShardFlow& f : flows) {
    const DeviceId a = src[static_cast<std::size_t>(f.src)],
                   b = dst[static_cast<std::size_t>(f.dst)];
    double bytes = f.bytes * static_cast<double>(tokens);
    if (options_.layerwise) {
      double bottleneck = 0;
      for (LinkId l : cluster_.topology().route(a, b)) {
        const double bw = cluster_.topology().link(l).bytes_per_ns;
        bottleneck = bottleneck == 0 ? bw : std::min(bottleneck, bw);
      }
      const double sent = std::min(bytes * (layers - 1) / layers, prefill_ns * bottleneck);
      bytes -= sent;
    }
    net.start(a, b, bytes, [this, slot] {
      if (--moving_now_.at(slot).flows_left == 0) finish_move(slot);
    });
  }
}

void Handoff::finish_move(RequestSlot slot) {
  const Moving m = moving_now_.at(slot);
  moving_now_.erase(slot);
  RequestState& r = cluster_.requests()[slot];
  r.handoff_end_ns = cluster_.sim().now();
  Instance& source = cluster_.instance(m.from);
  Instance& target = cluster_.instance(m.to);
  TransferRecord rec{r.request_id, "kv_handoff",       m.from,          m.to,
                     m.bytes,      r.handoff_start_ns, r.handoff_end_ns};
  KvLease lease = source.detach(slot);
  target.attach_decoding(slot);
  source.release(std::move(lease));
  cluster_.signals().transfer(rec);
  move_what_fits();
}

}  // namespace servesim
