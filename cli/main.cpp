/// wgflow: Wasserstein gradient flows ∂q/∂t = ∇·(q ∇ δF/δq) on Cartesian grids, from the command line.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "cli/info_command.hpp"
#include "cli/pack_command.hpp"
#include "cli/run_command.hpp"
#include "grids/communicator.hpp"
#include "io/h5.hpp"
#include "io/parameter_flags.hpp"
#include "io/run_config.hpp"

namespace {

const char* const usage =
    "usage: wgflow <command> [options]\n"
    "\n"
    "commands:\n"
    "  run      solve a problem and write PATH.h5 (+ PATH.xmf); `wgflow run --help` lists every option\n"
    "  cases    list the built-in cases with their equations, defaults and example commands\n"
    "  info     summarise an output file: wgflow info PATH.h5\n"
    "  pack     write a run into one self-contained file: wgflow pack RUN.h5 OUT.h5 [--overwrite]\n"
    "\n"
    "  wgflow --version   prints the version\n";

/// Output that could not be written (stdout on a full disk, /dev/full, a closed pipe) is a failure.
int checked_stdout(int code) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    std::fprintf(stderr, "wgflow: error: cannot write to standard output: %s\n", std::strerror(errno));
    return code == 0 ? 1 : code;
  }
  return code;
}

/// Runs one command; every error becomes one line on stderr and its exit code.
int dispatch(const std::vector<std::string>& args) {
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "help") {
      std::fputs(usage, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
      std::printf("wgflow %s (%s)\n", WGFLOW_VERSION, WGFLOW_GIT_HASH);
      return 0;
    }
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "run") return wgflow::run_command(rest);
    if (args[0] == "info") return wgflow::info_command(rest);
    if (args[0] == "cases") return wgflow::cases_command(rest);
    if (args[0] == "pack") return wgflow::pack_command(rest);
    std::fprintf(stderr, "wgflow: error: unknown command '%s' (allowed: run, cases, info, pack)\n", args[0].c_str());
    return 2;
  } catch (const wgflow::ConfigError& e) {
    // Bad input is found alike by every rank of an mpirun job (they parse the same arguments): one line.
    if (wgflow::launcher_rank() == 0) std::fprintf(stderr, "wgflow: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "wgflow: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wgflow: error: %s\n", wgflow::user_message(e).c_str());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  wgflow::h5::init();  // before any other HDF5 call: no error stacks on stderr, no atexit clean-up
  std::signal(SIGXFSZ, SIG_IGN);  // a file size limit (ulimit -f) then fails the write (EFBIG): a clean stop
  const std::vector<std::string> args(argv + 1, argv + argc);
  return checked_stdout(dispatch(args));
}
