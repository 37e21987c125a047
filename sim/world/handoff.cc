// sim/world/handoff.cc — see handoff.h.
#include "sim/world/handoff.h"

namespace servesim {

void Handoff::on_prefill_done(Instance& instance, RequestSlot slot) {
  bridge_.push_back(Pending{instance.id(), slot});
  move_what_fits();
}

void Handoff::on_request_left(Instance& instance, const RequestState&, LeaveReason) {
  if (instance.role() == InstanceRole::kDecode && !bridge_.empty()) move_what_fits();
}

void Handoff::on_instance_state(Instance& instance, InstanceState) {
  if (instance.role() == InstanceRole::kDecode && !bridge_.empty()) move_what_fits();
}

void Handoff::on_instance_idle(Instance& instance) {
  if (instance.role() == InstanceRole::kDecode && !bridge_.empty()) move_what_fits();
}

void Handoff::move_what_fits() {
  if (moving_) {
    again_ = true;
    return;
  }
  moving_ = true;
  do {
    again_ = false;
    while (!bridge_.empty()) {
      const Pending p = bridge_.front();
      const RequestState& r = cluster_.requests()[p.slot];
      Instance& source = cluster_.instance(p.from);
      Instance* target = nullptr;
      for (int pool = 0; pool < static_cast<int>(cluster_.pools().size()); ++pool) {
        if (cluster_.pools()[static_cast<std::size_t>(pool)].spec.role != InstanceRole::kDecode)
          continue;
        for (Instance* d : cluster_.active_members(pool)) {
          const std::int64_t need_d =
              d->kv().blocks_for_tokens(r.req.prompt_tokens + r.generated_tokens - 1);
          if (d->kv().free_blocks() < need_d) continue;
          if (!target || d->kv().free_blocks() > target->kv().free_blocks()) target = d;
        }
      }
      if (!target) break;
      const std::int64_t blocks =
          target->kv().blocks_for_tokens(r.req.prompt_tokens + r.generated_tokens - 1);
      bridge_.pop_front();
      target->reserve_incoming(p.slot, blocks);
      KvLease lease = source.detach(p.slot);
      target->attach_decoding(p.slot);
      source.release(std::move(lease));
    }
  } while (again_);
  moving_ = false;
}

}  // namespace servesim
