// sim/config/errors.h — the error kinds the CLI maps to exit code 2: bad configuration
// (scenario YAML, --set, catalog entries), bad input data (trace files, profiles) and bad
// command-line usage, and an output that cannot be written (OutputError). Anything else that
// escapes to main() is an internal failure (exit code 1).
#pragma once

#include <stdexcept>
#include <string>

namespace servesim {

// A scenario/catalog problem. what() reads "FILE:LINE: key.path: problem".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A problem in an input file (trace, profile). what() reads "FILE:LINE: problem".
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad command-line usage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An output (results database, trace, report) cannot be written.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace servesim
