#include "cli/pack_command.hpp"

#include <cstdio>

#include "io/initial_file.hpp"
#include "io/output_lock.hpp"
#include "io/pack.hpp"
#include "io/run_config.hpp"
#include "io/xdmf.hpp"

namespace wgflow {

namespace {

const char* const k_usage =
    "usage: wgflow pack RUN.h5 OUT.h5 [--overwrite]\n"
    "  writes the output RUN.h5 (its main file and RUN.h5.d/, finished or interrupted) into the one\n"
    "  self-contained file OUT.h5 with the same paths, and OUT.xmf for ParaView; --overwrite replaces\n"
    "  an existing OUT.h5\n";

}  // namespace

int pack_command(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  bool overwrite = false;
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(k_usage, stdout);
      return 0;
    }
    if (a == "--overwrite") overwrite = true;
    else if (a.rfind("--", 0) == 0) throw ConfigError("pack: unknown option " + a + " (allowed: --overwrite)");
    else paths.push_back(a);
  }
  if (paths.size() != 2 || paths[0].empty() || paths[1].empty())
    throw ConfigError("pack: needs RUN.h5 and OUT.h5 (usage: wgflow pack RUN.h5 OUT.h5 [--overwrite])");
  const OutputLock lock(paths[1], "pack");  // OUT is written like a run's output: one writer at a time
  pack_output(paths[0], paths[1], overwrite);
  const std::size_t snapshots = read_output_summary(paths[1]).snapshot_times.size();
  std::printf("wgflow: packed %s (%zu snapshot%s) into %s and %s\n", paths[0].c_str(), snapshots,
              snapshots == 1 ? "" : "s", paths[1].c_str(), xdmf_path_for(paths[1]).c_str());
  return 0;
}

}  // namespace wgflow
