// sim/world/kv_copy.cc — see kv_copy.h.
#include "sim/world/kv_copy.h"

#include <memory>

namespace servesim {

const std::vector<KvShardFlow>& KvCopier::shard_flows(int src_pool, int dst_pool) {
  const auto key = std::make_pair(src_pool, dst_pool);
  auto it = shard_flows_.find(key);
  if (it == shard_flows_.end()) {
    const PoolSpec& s = cluster_.pools()[static_cast<std::size_t>(src_pool)].spec;
    const PoolSpec& d = cluster_.pools()[static_cast<std::size_t>(dst_pool)].spec;
    const ModelSpec& model = Catalog::builtin().model(s.model);
    it = shard_flows_
             .emplace(key,
                      kv_shard_flows(model, kv_dtype_bytes_, 1, s.tensor_parallel,
                                     s.pipeline_parallel, d.tensor_parallel, d.pipeline_parallel))
             .first;
  }
  return it->second;
}

KvCopier::Copy KvCopier::start(InstanceId src, InstanceId dst, std::int64_t tokens,
                               std::function<void()> done) {
  const std::vector<KvShardFlow>& flows =
      shard_flows(cluster_.instance(src).pool(), cluster_.instance(dst).pool());
  Copy copy;
  auto left = std::make_shared<std::size_t>(flows.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  const std::vector<DeviceId>& a = cluster_.devices(src);
  const std::vector<DeviceId>& b = cluster_.devices(dst);
  for (const KvShardFlow& f : flows) {
    const double bytes = f.bytes * static_cast<double>(tokens);
    copy.bytes += bytes;
    copy.flows.push_back(cluster_.network().start(a[static_cast<std::size_t>(f.src)],
                                                  b[static_cast<std::size_t>(f.dst)], bytes,
                                                  [left, finish] {
                                                    if (--*left == 0) (*finish)();
                                                  }));
  }
  return copy;
}

void KvCopier::cancel(const Copy& copy) {
  for (const Network::FlowId id : copy.flows) cluster_.network().cancel(id);
}

}  // namespace servesim
