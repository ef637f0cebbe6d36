#include "io/rank_agreement.hpp"

#include <new>
#include <stdexcept>

#include "io/run_config.hpp"
#include "io/write_error.hpp"

namespace wgflow {

namespace {

/// What kind of failure a rank had, ordered so that the maximum over the ranks is the one to report:
/// a full disk says more than a failed write, which says more than anything else.
enum Outcome : int { ok = 0, failed = 1, bad_input = 2, out_of_memory = 3, write_failed = 4, disk_full = 5 };

Outcome outcome_of(const std::exception_ptr& e) {
  if (!e) return ok;
  try {
    std::rethrow_exception(e);
  } catch (const OutputWriteError& w) {
    return w.disk_full() ? disk_full : write_failed;
  } catch (const std::bad_alloc&) {
    return out_of_memory;
  } catch (const ConfigError&) {
    return bad_input;
  } catch (...) {
    return failed;
  }
}

}  // namespace

void agree_on_outcome(const Communicator& ranks, std::exception_ptr local, const std::string& path) {
  const int worst = static_cast<int>(ranks.max(static_cast<double>(outcome_of(local))));
  if (worst == ok) return;
  if (local) std::rethrow_exception(local);
  const std::string where = "another rank failed (rank 0 reports it)";
  switch (worst) {
    case disk_full: throw OutputWriteError(path, true, where);
    case write_failed: throw OutputWriteError(path, false, where);
    case out_of_memory: throw std::bad_alloc();
    case bad_input: throw ConfigError(path + ": " + where);
    default: throw std::runtime_error(path + ": " + where);
  }
}

}  // namespace wgflow
