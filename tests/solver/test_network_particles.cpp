/// The mean-field limit: a width-m network trained by gradient flow (θ_i drawn from the initial
/// density, Heun steps in the test) against the PDE on a grid over (w, b). Loss curves and the
/// w-marginals agree within the Monte-Carlo error of m particles and the grid's error.
#include <doctest/doctest.h>

#include "tests/solver/network_comparison.hpp"

using namespace wgflow;
using namespace wgflow::test;

TEST_SUITE("physics") {
  TEST_CASE("mean-field network PDE against a width-4000 network: loss curves and w-marginals") {
    const std::vector<double> times{0.0, 1.0, 2.0, 4.0, 8.0};
    const ParticleComparison c = compare_with_particles(64, 4000, times, 0.02);
    for (std::size_t k = 0; k < times.size(); ++k) {
      INFO("t = ", c.times[k], ": PDE loss ", c.pde_loss[k], ", particles ", c.particle_loss[k], "; w-marginal L1 ",
           c.marginal_l1[k], " (moved ", c.marginal_moved[k], " since t = 0)");
      CHECK(std::abs(c.pde_loss[k] - c.particle_loss[k]) <= 0.05 * c.pde_loss[k]);  // within 5 %
      CHECK(c.marginal_l1[k] <= 0.1);
    }
    CHECK(c.pde_loss.back() < 0.7 * c.pde_loss.front());  // the flow trains the network
    CHECK(c.marginal_moved.back() > 2.0 * c.marginal_l1.back());  // the marginal moved more than the error
  }
}
