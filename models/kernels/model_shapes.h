// models/kernels/model_shapes.h — decoder-layer shapes of the catalog models the bench
// driver knows, and the per-GPU shard of a shape under tensor parallelism.
//
// The table is a small built-in copy of the few numbers the kernels need; the model
// catalog proper (YAML) lives elsewhere in models/. A shape given on the command line
// (hidden, heads, kv heads, head dim, ffn, gated, vocab) bypasses the table.
#ifndef SERVESIM_MODELS_KERNELS_MODEL_SHAPES_H_
#define SERVESIM_MODELS_KERNELS_MODEL_SHAPES_H_

#include <string>
#include <string_view>
#include <vector>

namespace servesim::kernels {

struct ModelShape {
  std::string name;
  int hidden = 0;
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int ffn = 0;        // intermediate size
  bool gated = true;  // SwiGLU (gate and up projections) vs one up projection
  int vocab = 0;
  double rope_theta = 10000.0;
  bool rope_llama3 = false;  // llama-3.1 style frequency scaling (factor 8, 1, 4, 8192)
  float rms_eps = 1e-5f;

  int q_width() const { return heads * head_dim; }
  int kv_width() const { return kv_heads * head_dim; }
  int qkv_width() const { return q_width() + 2 * kv_width(); }
  int gate_up_width() const { return gated ? 2 * ffn : ffn; }
};

// The built-in table: llama-3-8b, llama-2-13b, llama-3-70b (and llama-2-7b).
const std::vector<ModelShape>& BuiltinModels();
// Throws std::invalid_argument listing the valid names for an unknown one.
ModelShape FindModel(std::string_view name);

// One GPU's shard under tensor parallelism `tp`: heads, ffn and vocab divided by tp;
// kv heads divided by tp, replicated to 1 when there are fewer kv heads than GPUs.
// Throws std::invalid_argument when heads or ffn do not divide.
ModelShape ShardForTp(const ModelShape& m, int tp);

// RoPE inverse frequencies, head_dim/2 values, in f32 (with llama-3 scaling when set).
std::vector<float> RopeInvFreq(const ModelShape& m);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_MODEL_SHAPES_H_
