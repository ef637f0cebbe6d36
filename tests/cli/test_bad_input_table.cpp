/// The bad-input table: each row is a hostile input (issue 17 and earlier finds), run against the real
/// binary, with the exit code and the one-line message it must give. The same rows generate
/// docs/bad-input.md, and the test fails if that file differs from what the binary says today, so the
/// documentation cannot drift. Regenerate it with
///     WGFLOW_UPDATE_DOCS=1 ./build/tests/wgflow_tests -tc="bad-input table*"
#include <doctest/doctest.h>

#include <cstdlib>
#include <functional>
#include <sstream>

#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "tests/cli/cli_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

namespace {

/// A small finished output, out.h5 (+ out.h5.d/, out.xmf), in the run's directory.
void small_output(const CliDir& dir) {
  const Result r = run_wgflow(dir, {"run", "--n", "8", "--t-end", "0.01", "--snapshots", "2", "--out", "out.h5", "--quiet"});
  if (r.code != 0) throw std::runtime_error("set-up run failed: " + r.err);
}

/// Rewrites one attribute of out.h5 as a doctored (or damaged) file would have it.
template <class T>
void doctor(const CliDir& dir, const std::string& object, const std::string& attribute, const T& value) {
  small_output(dir);
  h5::File file = h5::open_file(dir.file("out.h5"), true);
  h5::Group group = h5::open_group(file.id(), object);
  h5::write_attribute(group.id(), attribute, value);
}

struct Row {
  std::string what;                            ///< the hostile input, in words
  std::vector<std::string> args;               ///< after `wgflow`
  int code;                                    ///< expected exit code
  std::string mention;                         ///< the message must contain this
  std::function<void(const CliDir&)> set_up;   ///< files the input needs (none: nullptr)
  std::string shell_prefix;                    ///< e.g. "ulimit -v 400000;"
  std::string stdout_to;                       ///< stdout redirected here instead of captured
};

std::vector<Row> rows() {
  const auto with_dir = [](const CliDir& d) { fs::create_directory(d.work() / "cfgdir"); };
  const auto big_ini = [](const CliDir& d) { write_text(d.work() / "big.ini", std::string(2 << 20, '#')); };
  const auto nested_ini = [](const CliDir& d) { write_text(d.work() / "nested.ini", "n = 16\nconfig = other.ini\n"); };
  const auto section_ini = [](const CliDir& d) { write_text(d.work() / "section.ini", "[run]\nconfig = other.ini\n"); };
  const auto unknown_ini = [](const CliDir& d) { write_text(d.work() / "unknown.ini", "n = 16\nsize = 64\n"); };
  const auto moved_main = [](const CliDir& d) {
    // A main file moved without its snapshot directory, read from a directory that holds another
    // run's snapshot directory of the same name: it must not be read instead.
    const Result r = run_wgflow(d, {"run", "--n", "8", "--t-end", "0.01", "--snapshots", "2", "--quiet"});
    if (r.code != 0) throw std::runtime_error(r.err);
    fs::create_directory(d.work() / "B");
    fs::copy_file(d.work() / "wgflow.h5", d.work() / "B" / "wgflow.h5");
  };
  const auto truncated_checkpoint = [](const CliDir& d) {
    small_output(d);
    const std::string snapshot = read_text(d.work() / "out.h5.d" / "000000.h5");
    write_text(d.work() / "out.h5.d" / "checkpoint.h5", snapshot.substr(0, 1000));
  };
  return {
      {"empty --restart path", {"run", "--restart", ""}, 2, "--restart: needs the path", nullptr, "", ""},
      {"--config names a directory", {"run", "--config", "cfgdir"}, 2, "not a regular file", with_dir, "", ""},
      {"--config names a device", {"run", "--config", "/dev/zero"}, 2, "not a regular file", nullptr, "", ""},
      {"--config file over 1 MiB", {"run", "--config", "big.ini"}, 2, "at most 1048576", big_ini, "", ""},
      {"`config =` inside an INI file", {"run", "--config", "nested.ini"}, 2, "sets 'config'", nested_ini, "", ""},
      {"a [section] in an INI file", {"run", "--config", "section.ini"}, 2, "under a section [run]", section_ini, "", ""},
      {"an unknown key in an INI file", {"run", "--config", "unknown.ini"}, 2, "sets unknown option 'size'", unknown_ini, "", ""},
      {"assignment in a formula", {"run", "--case", "fokker-planck", "--potential", "(x=3)*0 + x^2"}, 2,
       "--potential: '(x=3)*0 + x^2' assigns to a variable", nullptr, "", ""},
      {"compound assignment in a kernel formula", {"run", "--case", "aggregation-diffusion", "--kernel", "expr:r+=1"}, 2,
       "--kernel: 'r+=1' assigns", nullptr, "", ""},
      {"initial mass overflows", {"run", "--initial", "1e308", "--mass", "1"}, 2, "--initial: the mass of the initial density overflows",
       nullptr, "", ""},
      {"rescaling to --mass overflows", {"run", "--initial", "1e-310*(x>4.5)", "--mass", "1"}, 2, "--mass: cannot rescale",
       nullptr, "", ""},
      {"domain too large", {"run", "--domain=-1e308,1e308"}, 2, "--domain:", nullptr, "", ""},
      {"value echoed exactly", {"run", "--case", "porous-medium", "--m", "10.0000001"}, 2, "(got 10.0000001)", nullptr, "", ""},
      {"--m for a case without an exponent", {"run", "--case", "heat", "--m", "3"}, 2, "--m: the exponent applies to --case porous-medium only",
       nullptr, "", ""},
      {"duplicate kernel parameter", {"run", "--case", "aggregation-diffusion", "--kernel", "morse:ca=1,ca=2"}, 2,
       "sets 'ca' twice", nullptr, "", ""},
      {"fixed --dt that needs more than 1e10 steps", {"run", "--stepper", "implicit-euler", "--dt", "1e-12"}, 2,
       "--dt: reaching --t-end 1", nullptr, "", ""},
      {"missing --target file", {"run", "--case", "f-divergence", "--target", "file:missing.h5"}, 2,
       "--target file:missing.h5: no such file", nullptr, "", ""},
      {"main file without its snapshot directory (info)", {"info", "B/wgflow.h5"}, 2, "B/wgflow.h5.d/000000.h5', which does not exist",
       moved_main, "", ""},
      {"main file without its snapshot directory (--initial file:)", {"run", "--initial", "file:B/wgflow.h5", "--out", "c.h5"}, 2,
       "B/wgflow.h5.d/000002.h5', which does not exist", moved_main, "", ""},
      {"format_version 0", {"info", "out.h5"}, 2, "format_version 0 is not one this wgflow reads",
       [](const CliDir& d) { doctor(d, "/", "format_version", 0L); }, "", ""},
      {"/grid shape larger than the data", {"info", "out.h5"}, 2, "has shape (8,) but /grid says (64,)",
       [](const CliDir& d) { doctor(d, "grid", "shape", std::vector<long>{64}); }, "", ""},
      {"/grid dim 9", {"info", "out.h5"}, 2, "/grid dim = 9", [](const CliDir& d) { doctor(d, "grid", "dim", 9L); }, "", ""},
      {"negative /grid shape", {"info", "out.h5"}, 2, "has an axis without cells",
       [](const CliDir& d) { doctor(d, "grid", "shape", std::vector<long>{-8}); }, "", ""},
      {"truncated checkpoint.h5", {"run", "--restart", "out.h5"}, 2, "delete it to continue from the last snapshot",
       truncated_checkpoint, "", ""},
      {"truncated main file", {"info", "out.h5"}, 2, "the file is truncated",
       [](const CliDir& d) {
         small_output(d);
         const std::string main = read_text(d.work() / "out.h5");
         write_text(d.work() / "out.h5", main.substr(0, main.size() / 2));
       },
       "", ""},
      {"stdout cannot be written", {"info", "out.h5"}, 1, "cannot write to standard output", small_output, "", "/dev/full"},
      {"out of memory (address space limited to 400 MB)", {"run", "--threads", "1", "--dim", "2", "--n", "6000"}, 1,
       "out of memory while setting up 6000^2 cells; nothing was written", nullptr, "ulimit -v 400000;", ""},
  };
}

/// Runs `wgflow ARGS...` in dir.work() after `prefix`, with stdout captured or sent to `stdout_to`.
Result run_row(const CliDir& dir, const Row& row) {
  Result r;
  std::string command = "cd " + quote(dir.work().string()) + " && " + row.shell_prefix + " exec " + quote(WGFLOW_BINARY);
  for (const std::string& a : row.args) command += " " + quote(a);
  r.command = command;
  const fs::path out = dir.root() / "stdout.txt";
  command += " >" + quote(row.stdout_to.empty() ? out.string() : row.stdout_to) + " 2>" + quote((dir.root() / "stderr.txt").string());
  const int status = std::system(command.c_str());
  r.code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = row.stdout_to.empty() ? read_text(out) : "";
  r.err = read_text(dir.root() / "stderr.txt");
  return r;
}

/// The command as a user types it: `wgflow run --restart ''`.
std::string shown_command(const Row& row) {
  std::string text = row.shell_prefix.empty() ? "" : "(" + row.shell_prefix.substr(0, row.shell_prefix.size() - 1) + ") ";
  text += "wgflow";
  for (const std::string& a : row.args) {
    const bool plain = !a.empty() && a.find_first_of(" '\"()*^<>|;&$=+") == std::string::npos;
    text += " " + (plain || (a.rfind("--", 0) == 0 && a.find(' ') == std::string::npos) ? a : quote(a));
  }
  if (!row.stdout_to.empty()) text += " > " + row.stdout_to;
  return text;
}

std::string cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("bad-input table: every row exits with its code and one line and docs/bad-input.md matches") {
    std::ostringstream table;
    table << "# Bad input and what wgflow says\n\n"
          << "Generated by `tests/cli/test_bad_input_table.cpp` from the binary's actual output (the test fails when\n"
          << "this file differs; regenerate with `WGFLOW_UPDATE_DOCS=1 ./build/tests/wgflow_tests -tc=\"bad-input table*\"`).\n"
          << "Exit code 2: bad input, refused before anything is written; 1: a failure of the run or of the machine.\n"
          << "Every message is one line on stderr. More refusals (unknown options, out-of-range values, formulas,\n"
          << "`--initial file:` shapes and values) are tested in tests/cli/test_cli.cpp and test_commands.cpp.\n\n"
          << "| input | command | exit | message |\n|---|---|---|---|\n";
    for (const Row& row : rows()) {
      CliDir dir;
      if (row.set_up) row.set_up(dir);
      const std::vector<std::string> before = dir.listing();
      const Result r = run_row(dir, row);
      INFO("command: " << r.command);
      INFO("stderr: " << r.err);
      CHECK(r.code == row.code);
      CHECK(r.out.empty());
      CHECK(count_lines(r.err) == 1);
      CHECK(starts_with(r.err, "wgflow: error: "));
      CHECK(contains(r.err, row.mention));
      CHECK(dir.listing() == before);  // nothing created, nothing removed
      const std::string message = r.err.substr(0, r.err.find('\n'));
      table << "| " << cell(row.what) << " | `" << cell(shown_command(row)) << "` | " << r.code << " | " << cell(message) << " |\n";
    }
    const fs::path doc = fs::path(WGFLOW_SOURCE_DIR) / "docs" / "bad-input.md";
    if (std::getenv("WGFLOW_UPDATE_DOCS") != nullptr) write_text(doc, table.str());
    INFO("docs/bad-input.md is out of date: regenerate it with WGFLOW_UPDATE_DOCS=1 ./build/tests/wgflow_tests "
         "-tc=\"bad-input table*\" and commit it");
    CHECK(read_text(doc) == table.str());
  }
}
