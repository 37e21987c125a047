#!/usr/bin/env python3
"""tests/fuzz/make_corpus.py — writes the seed corpora of the fuzz targets into corpus/<target>/.

Every seed is made here, by hand or from the project's own files (no shared data): small valid
inputs of every format, and the inputs that once broke servesim or must stay refused (alias bombs,
infinite numbers, second YAML documents, times beyond the int64-nanosecond clock, rows with extra
columns). Re-run after changing it; the output is committed. fuzz_scenario also reads scenarios/.
Usage: tests/fuzz/make_corpus.py
"""
import json
import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE / "corpus"

# fuzz_trace: the first byte picks the reader (low 4 bits, the order of kReaders in
# fuzz_trace.cc) and options (0x10 skip_bad_rows, 0x20 sort).
AZURE, VIDUR, MOONCAKE, SERVESIM, LENGTHS, CSV, NOHEADER, DATETIME, JSONL, VTC, SERVEGEN = range(11)
SKIP, SORT = 0x10, 0x20

TRACE = {
    "azure": (AZURE, "TIMESTAMP,ContextTokens,GeneratedTokens\n"
              "2023-11-16 18:15:46.6805900,4808,10\n2023-11-16 18:15:50.9951690,3180,8\n"
              "2023-11-16 18:15:51.1234560,110,27\n"),
    "azure-decreasing": (AZURE, "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                         "2023-11-16 18:15:50,10,10\n2023-11-16 18:15:46,10,8\n"),
    "azure-sorted": (AZURE | SORT, "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                     "2023-11-16 18:15:50,10,10\n2023-11-16 18:15:46,10,8\n"),
    "azure-extra-column": (AZURE, "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                           "2023-11-16 18:15:46,10,10,99\n"),
    "vidur": (VIDUR, "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,512,64\n0.25,1024,128\n"
              "0.5,2048,3\n"),
    "vidur-int64-edge": (VIDUR, "arrived_at,num_prefill_tokens,num_decode_tokens\n"
                         "9223372036.854775807,1,1\n1e300,1,1\n"),
    "vidur-tiny-gap": (VIDUR, "arrived_at,num_prefill_tokens,num_decode_tokens\n1e-300,1,1\n"),
    "vidur-skip": (VIDUR | SKIP, "arrived_at,num_prefill_tokens,num_decode_tokens\n0,x,1\n"
                   "1,-5,2\n2,3,4\n"),
    "mooncake": (MOONCAKE, '{"timestamp": 0, "input_length": 6955, "output_length": 52, '
                 '"hash_ids": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}\n'
                 '{"timestamp": 27, "input_length": 1000, "output_length": 7, "hash_ids": [0, 14]}\n'),
    "mooncake-garbage": (MOONCAKE, '{"timestamp": 0, "input_length": 10, "output_length": 5, '
                         '"hash_ids": [1], "note": {"x": [1, {"y": "\\u00e9\\"}"}]}}\n'),
    "servesim": (SERVESIM, '{"arrival_s": 0.25, "prompt_tokens": 812, "output_tokens": 97, '
                 '"client_id": 3, "priority": 0, "trace_id": 17, "prefix_block_tokens": 16, '
                 '"prefix_hashes": [11, 12]}\n{"arrival_s": 0.5, "prompt_tokens": 1, '
                 '"output_tokens": 1}\n'),
    "lengths": (LENGTHS, "num_prefill_tokens,num_decode_tokens\n100,20\n3000,400\n7,1\n"),
    "csv": (CSV, "t,p,o,c,q,id,h,b\n0,100,10,alice,1,5,1 2 3,16\n0.5,200,20,bob,0,6,[4,5],16\n"),
    "csv-quoted": (CSV, 't,p,o,c\n0,100,10,"a,""b"""\n1,2,3,"unterminated\n'),
    "noheader": (NOHEADER, "0;10;5;0\n1000;20;6;1\n"),
    "datetime": (DATETIME, "t,p,o\n2024-05-01T10:00:00Z,10,5\n2024-05-01 10:00:01.5,20,6\n"),
    "jsonl": (JSONL, '{"t": 0, "p": 10, "o": 5, "c": "x", "h": [1, 2]}\n'
              '{"t": 1500000, "p": 20, "o": 6, "c": 7, "q": -1, "id": 18446744073709551615}\n'),
    "vtc": (VTC, '{"config": {"x": 1}, "responses": [{"adapter_dir": "a", "prompt_len": 10, '
            '"output_len": 5, "req_time": 0.5}, {"adapter_dir": "b", "prompt_len": 20, '
            '"output_len": 6, "req_time": 0.75, "extra": [1, {"k": null}]}]}\n'),
    "servegen": (SERVEGEN, "0,2.5,1.2,Gamma,0.7,1.4\n600,1.0,,,,\n1200,0.5,0.9,Weibull,1.1,2\n"
                 "#dataset\n"
                 '{"0": {"input_tokens": "{81: 0.25, 120: 0.75}", "output_tokens": "{5: 1.0}"}}'),
    "servegen-no-dataset": (SERVEGEN, "0,3,1,,,\n"),
}

JSON = {
    "plain": '{"a": 1, "b": "x", "c": true, "d": false, "e": null}',
    "nested": '{"a": [1, [2, {"b": [3]}]], "c": {"d": {"e": "}"}}}',
    "escapes": '{"s": "quote \\" slash \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00"}',
    "ids": '{"hash_ids": [0, 1, 18446744073709551615, 18446744073709551616]}',
    "numbers": '{"a": -0.5e-3, "b": 1E+308, "c": 12345678901234567890, "d": -}',
    "two-objects": '{"a": 1}{"b": 2}\n {"c": [3]}',
    "truncated": '{"a": "unterminated',
    "trailing": '{"a": 1} junk',
    "bad-escape": '{"a": "\\x"}',
}


def profile_seeds():
    kernels = json.loads((ROOT / "models/calibration/h100-sxm_llama-3-8b_tp1.json").read_text())
    ops = kernels["ops"]
    kernels["ops"] = [ops[0], ops[len(ops) // 2], ops[-1]]
    for key in ("layers", "errors"):
        kernels.pop(key, None)
    aic = "framework,version,device,op_name,kernel_source,"
    return {
        # first byte: the file name's index in kFiles (fuzz_profile.cc)
        "gemm": (0, aic + "gemm_dtype,m,n,k,latency\n"
                 "VLLM,0.1,NVIDIA H100 80GB HBM3,gemm,x,bfloat16,16,4096,4096,0.02\n"
                 "VLLM,0.1,NVIDIA H100 80GB HBM3,gemm,x,bfloat16,32,4096,4096,0.03\n"),
        "gemm-extra-column": (0, aic + "gemm_dtype,m,n,k,latency\n"
                              "VLLM,0.1,dev,gemm,x,bfloat16,16,4096,4096,0.02,7\n"),
        "context-attention": (1, aic + "batch_size,isl,num_heads,num_key_value_heads,head_dim,"
                              "beam_width,attn_dtype,kv_cache_dtype,step,latency\n"
                              "VLLM,0.14.0,NVIDIA H100 80GB HBM3,context_attention,vllm_flash_attn,"
                              "1,1024,32,8,128,1,bfloat16,bfloat16,0,0.1\n"),
        "generation-attention": (2, aic + "batch_size,isl,num_heads,num_key_value_heads,head_dim,"
                                 "beam_width,attn_dtype,kv_cache_dtype,step,latency\n"
                                 "VLLM,0.14.0,NVIDIA A100-SXM4-80GB,generation_attention,"
                                 "vllm_flash_attn,8,1,32,8,128,1,bfloat16,bfloat16,1023,0.05\n"),
        "custom-allreduce": (3, aic + "allreduce_dtype,num_gpus,message_size,latency,backend\n"
                             "vLLM,0.24.0,NVIDIA H100 80GB HBM3,all_reduce,vLLM_custom_graph,"
                             "bfloat16,4,1024,0.005,vllm_graph\n"),
        "nccl": (4, aic + "nccl_dtype,num_gpus,message_size,latency\n"
                 "TRTLLM,1.0,NVIDIA H100 80GB HBM3,all_reduce,nccl,half,2,4096,0.01\n"),
        "vidur-mlp": (5, "time_stats.attn_pre_proj.median,time_stats.mlp_up_proj.median,"
                      "time_stats.mlp_act.median,n_head,n_kv_head,n_embd,n_expanded_embd,"
                      "vocab_size,use_gated_mlp,num_tokens,num_tensor_parallel_workers\n"
                      "0.1,0.2,0.01,32,8,4096,14336,128256,True,64,2\n"),
        # found by fuzz_profile (UBSan): a width beyond an int was cast to int
        "vidur-mlp-huge-width": (5, "time_stats.attn_pre_proj.median,n_head,n_kv_head,n_embd,"
                                 "n_expanded_embd,vocab_size,use_gated_mlp,num_tokens,"
                                 "num_tensor_parallel_workers\n"
                                 "0.1,32,8,77777777774096,14336,128256,True,64,2\n"),
        "vidur-attention": (6, "time_stats.attn_prefill.median,time_stats.attn_decode.median,"
                            "n_embd,n_q_head,n_kv_head,block_size,num_tensor_parallel_workers,"
                            "max_model_len,batch_size,prefill_chunk_size,kv_cache_size,is_prefill\n"
                            "0.2,,4096,32,8,16,1,4096,1,512,0,True\n"
                            ",0.05,4096,32,8,16,1,4096,8,0,8192,False\n"),
        "vidur-all-reduce": (7, "size,num_workers,rank,collective,devices_per_node,"
                             "time_stats.all_reduce.median\n1048576,2,0,all_reduce,8,0.03\n"),
        "vidur-send-recv": (8, "size,num_workers,rank,collective,devices_per_node,"
                            "time_stats.send_recv.median\n1048576,2,0,send_recv,8,0.04\n"),
        "kernel-profile": (9, json.dumps(kernels)),
        # found by fuzz_profile: a number beyond a double escaped as nlohmann out_of_range
        "kernel-profile-huge-number": (9, '{"format": "servesim-kernel-profile", "x": 1e537}'),
        "kernel-profile-broken": (9, '{"format": "servesim-kernel-profile", "version": 1, '
                                  '"ops": [{"op": "gemm_qkv"}]}'),
    }


SCENARIO = {
    "alias-bomb": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c]\n"
                  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e]\n"
                  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g]\n",
    "infinite-rate": "name: x\nworkload: {impl: synthetic, num_requests: 10, "
                     "arrival: {impl: poisson, rate_per_s: .inf}, prompt_tokens: 10, "
                     "output_tokens: 10}\ncluster: {instances: 1, hardware: h100-sxm, "
                     "model: llama-3-8b}\n",
    "second-document": "name: x\n---\nname: y\n",
    # found by fuzz_scenario: an alias inside its own anchor made a node that contains itself
    "self-alias": "a: &a [x, *a]\n",
    # found by fuzz_scenario: yaml-cpp 0.7's LoadAll looped forever on a top-level comma
    "loadall-loop": b"# sceel instea#d\n, cut or drop es not fit wi\xff\xff\xff\xff\xd0\xd0\xd0",
    "huge-overhead": "name: x\nworkload: {impl: synthetic, num_requests: 10, "
                     "arrival: {impl: poisson, rate_per_s: 1}, prompt_tokens: 10, "
                     "output_tokens: 10}\ncluster: {instances: 1, hardware: h100-sxm, "
                     "model: llama-3-8b, cost_model: {impl: roofline, step_overhead_us: 1e16}}\n",
    "bad-tensor-parallel": "name: x\ncluster: {instances: 1, hardware: h100-sxm, "
                           "model: llama-3-8b, tensor_parallel: 3}\n",
    "many-instances": "name: x\ncluster: {instances: 100000000, hardware: h100-sxm, "
                      "model: llama-3-8b}\n",
}


def write(target, name, data):
    path = OUT / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for name, (selector, body) in TRACE.items():
        write("trace", name, bytes([selector]) + body.encode())
    for name, text in JSON.items():
        write("json", name, text)
    for name, (selector, body) in profile_seeds().items():
        write("profile", name, bytes([selector]) + body.encode())
    for name, text in SCENARIO.items():
        write("scenario", name + ".yaml", text)
    print(f"seeds written under {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
