// The mean-field limit measured (README "Training a two-layer network"): the PDE on n² cells of
// (w, b) against a width-m network trained by gradient flow, for growing n and m. Prints, per (n, m),
// the largest relative loss gap and w-marginal L1 distance over t = 1, 2, 4, 8.
// Usage: wgflow_network_particles [n,m ...]   (default: 32,2000 64,8000 128,32000 and the cross terms)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "tests/solver/network_comparison.hpp"

int main(int argc, char** argv) {
  std::vector<std::pair<int, long>> runs;
  for (int i = 1; i < argc; ++i) {
    int n = 0;
    long m = 0;
    if (std::sscanf(argv[i], "%d,%ld", &n, &m) != 2 || n < 16 || n % 16 != 0 || m < 1) {
      std::fprintf(stderr, "usage: %s [n,m ...] with n a multiple of 16\n", argv[0]);
      return 2;
    }
    runs.emplace_back(n, m);
  }
  if (runs.empty()) runs = {{32, 2000}, {64, 2000}, {128, 2000}, {128, 8000}, {32, 32000}, {64, 8000}, {128, 32000}};
  const std::vector<double> times{1.0, 2.0, 4.0, 8.0};
  std::printf("n,m,max_rel_loss_gap,max_marginal_l1,loss_pde_t8,loss_particles_t8,marginal_moved_t8,pde_steps\n");
  for (const auto& [n, m] : runs) {
    const wgflow::test::ParticleComparison c =
        wgflow::test::compare_with_particles(n, static_cast<std::size_t>(m), times, 0.01);
    double gap = 0.0, l1 = 0.0;
    for (std::size_t k = 0; k < times.size(); ++k) {
      gap = std::max(gap, std::abs(c.pde_loss[k] - c.particle_loss[k]) / c.pde_loss[k]);
      l1 = std::max(l1, c.marginal_l1[k]);
    }
    std::printf("%d,%ld,%.4f,%.4f,%.6f,%.6f,%.4f,%ld\n", n, m, gap, l1, c.pde_loss.back(), c.particle_loss.back(),
                c.marginal_moved.back(), c.pde_steps);
    std::fflush(stdout);
  }
  return 0;
}
