// models/kernels/servesim_kernels_main.cc — entry point of the bench driver
// `servesim-kernels`; everything else is in bench/cli.cc.
#include <iostream>
#include <string>
#include <vector>

#include "bench/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return servesim::kernels::RunCli(args, std::cout, std::cerr);
}
