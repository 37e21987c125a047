// tests/fuzz/fuzz_util.h — what the libFuzzer targets share: a private scratch folder for the
// files a reader needs on disk, and the rule for what counts as a finding. servesim's own error
// kinds (ConfigError, InputError, UsageError, OutputError: exit 2 with a message) are the
// expected answer to bad input; any other exception escaping, a crash, a sanitizer report, a
// hang (-timeout) or runaway memory (-rss_limit_mb) is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "sim/config/errors.h"

namespace servesim::fuzz {

// A folder under $TMPDIR unique to this process, created on first use and removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path d = std::filesystem::path(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") /
                              ("servesim-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup;
  return dir;
}

// Writes `bytes` to `path` (replacing it) and returns the path as a string.
inline std::string write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path.string();
}

// Runs `body`; servesim's error kinds are the expected outcome of bad input. Anything else that
// escapes is reported and aborts (libFuzzer saves the input as a crash).
template <class Body>
void expect_clean_errors(Body&& body) {
  try {
    body();
  } catch (const ConfigError&) {
  } catch (const InputError&) {
  } catch (const UsageError&) {
  } catch (const OutputError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: unexpected exception escaped: %s\n", e.what());
    std::abort();
  }
}

}  // namespace servesim::fuzz
