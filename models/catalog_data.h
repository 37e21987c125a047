// models/catalog_data.h — the catalog YAML files compiled into the binary (generated at build
// time by tools/cmake/embed_catalog.cmake from models/hardware/*.yaml and models/llm/*.yaml).
#pragma once

#include <string>
#include <vector>

namespace servesim {

struct EmbeddedFile {
  std::string path;  // relative to the source root, e.g. "models/llm/llama-3-8b.yaml"
  std::string text;
};

const std::vector<EmbeddedFile>& embedded_catalog_files();

}  // namespace servesim
