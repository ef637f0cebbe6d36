/// grids/communicator.hpp on one rank (the serial object every plain run uses) and the mpirun
/// detection that decides whether MPI starts at all.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "grids/communicator.hpp"

using namespace wgflow;

namespace {

/// Sets (or unsets, nullopt) environment variables for a scope and restores them afterwards.
class EnvScope {
 public:
  explicit EnvScope(const std::map<std::string, std::optional<std::string>>& values) {
    for (const auto& [name, value] : values) {
      const char* old = std::getenv(name.c_str());
      m_saved[name] = old ? std::optional<std::string>(old) : std::nullopt;
      set(name, value);
    }
  }
  ~EnvScope() {
    for (const auto& [name, value] : m_saved) set(name, value);
  }

 private:
  static void set(const std::string& name, const std::optional<std::string>& value) {
    if (value) setenv(name.c_str(), value->c_str(), 1);
    else unsetenv(name.c_str());
  }
  std::map<std::string, std::optional<std::string>> m_saved;
};

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("communicator: one rank is a local no-op") {
    const Communicator one;
    CHECK(one.rank() == 0);
    CHECK(one.size() == 1);
    CHECK(one.max(2.5) == 2.5);
    CHECK(one.min(-1.0) == -1.0);
    std::int64_t v[2] = {7, -3};
    one.sum(v, 2);
    CHECK(v[0] == 7);
    CHECK(v[1] == -3);
    CHECK(one.cartesian({1, 1, 1}, {true, false, true}).size() == 1);
    CHECK_THROWS_AS(one.cartesian({2}, {false}), std::logic_error);
    CHECK_NOTHROW(one.exchange({}));
  }

  TEST_CASE("communicator: mpirun is detected from its environment and a singleton's children are not") {
    const std::optional<std::string> none;
    {
      EnvScope plain({{"OMPI_COMM_WORLD_SIZE", none}, {"PMI_SIZE", none}, {"PMIX_RANK", none}, {"OMPI_MCA_ess", none}});
      CHECK_FALSE(launched_by_mpirun());
    }
    {
      EnvScope openmpi({{"OMPI_COMM_WORLD_SIZE", "2"}, {"PMI_SIZE", none}, {"PMIX_RANK", "0"}, {"OMPI_MCA_ess", "pmi"}});
      CHECK(launched_by_mpirun());
    }
    {
      EnvScope hydra({{"OMPI_COMM_WORLD_SIZE", none}, {"PMI_SIZE", "4"}, {"PMIX_RANK", none}, {"OMPI_MCA_ess", none}});
      CHECK(launched_by_mpirun());
    }
    {
      EnvScope srun({{"OMPI_COMM_WORLD_SIZE", none}, {"PMI_SIZE", none}, {"PMIX_RANK", "3"}, {"OMPI_MCA_ess", none}});
      CHECK(launched_by_mpirun());
    }
    {  // what an OpenMPI singleton (the hypre test runner) leaves to the processes it starts
      EnvScope child({{"OMPI_COMM_WORLD_SIZE", none}, {"PMI_SIZE", none}, {"PMIX_RANK", "0"}, {"OMPI_MCA_ess", "singleton"}});
      CHECK_FALSE(launched_by_mpirun());
    }
  }
}
