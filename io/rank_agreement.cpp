#include "io/rank_agreement.hpp"

#include <cstdint>
#include <cstdio>
#include <new>
#include <stdexcept>

#include "io/run_config.hpp"
#include "io/write_error.hpp"

namespace wgflow {

namespace {

/// What kind of failure a rank had, ordered so that the largest among the ranks is the one to report:
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
  // One reduction: how many ranks had each outcome, and whether rank 0 failed.
  constexpr int kinds = disk_full + 1;
  std::int64_t counts[kinds + 1] = {};
  counts[outcome_of(local)] = 1;
  counts[kinds] = ranks.rank() == 0 && local ? 1 : 0;
  ranks.sum(counts, kinds + 1);
  int worst = ok;
  for (int k = 1; k < kinds; ++k)
    if (counts[k] > 0) worst = k;
  if (worst == ok) return;
  if (local) {
    // Only rank 0 reports errors; when it did not fail itself it can only say that another rank did,
    // so a failing rank says why on its own (the one case with more than one line).
    if (ranks.rank() != 0 && counts[kinds] == 0) {
      try {
        std::rethrow_exception(local);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "wgflow: rank %d: %s\n", ranks.rank(), e.what());
      } catch (...) {
      }
    }
    std::rethrow_exception(local);
  }
  // Rank 0 prints the error; when it is not the rank that failed, this is all it can say.
  const std::string where = "failed on another rank";
  switch (worst) {
    case disk_full: throw OutputWriteError(path, true, where);
    case write_failed: throw OutputWriteError(path, false, where);
    case out_of_memory: throw std::bad_alloc();
    case bad_input: throw ConfigError(path + ": " + where);
    default: throw std::runtime_error(path + ": " + where);
  }
}

}  // namespace wgflow
