#include "cli/info_command.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "io/checkpoint.hpp"
#include "io/initial_file.hpp"
#include "io/output_files.hpp"
#include "io/pack.hpp"
#include "io/run_config.hpp"

namespace wgflow {

int info_command(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].rfind("--", 0) == 0)
    throw ConfigError("info: usage: wgflow info PATH.h5");
  const std::string& path = args[0];
  OutputSummary s;
  try {
    s = read_output_summary(path);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("info: ") + e.what());
  }
  std::printf("%s: wgflow output (format %d, written by wgflow %s)\n", path.c_str(), s.format_version, s.version.c_str());
  std::printf("  case        %s\n", s.case_name.c_str());
  if (s.ranks > 0)
    std::printf("  ran on      %d rank%s x %d thread%s (the run that last wrote it)\n", s.ranks, s.ranks == 1 ? "" : "s",
                s.threads, s.threads == 1 ? "" : "s");
  std::printf("  grid        %dD, cells (%s) =", s.dim, s.axes.c_str());
  for (long n : s.shape_zyx) std::printf(" %ld", n);
  std::printf(", box");
  for (std::size_t k = 0; k < s.lower_zyx.size(); ++k) std::printf(" [%g, %g]", s.lower_zyx[k], s.upper_zyx[k]);
  std::printf(", boundary %s\n", s.boundary.c_str());
  if (s.snapshot_times.empty()) {
    std::printf("  snapshots   none (the run stopped before its first; wgflow run --restart starts it again)\n");
    return 0;
  }
  std::printf("  snapshots   %zu, t = %g ... %g (steps %ld ... %ld)\n", s.snapshot_times.size(), s.snapshot_times.front(),
              s.snapshot_times.back(), s.snapshot_steps.front(), s.snapshot_steps.back());
  if (is_packed_output(path)) {
    std::printf("  files       %s (one self-contained file, written by wgflow pack), %s\n", path.c_str(),
                output_paths(path).xdmf.c_str());
  } else if (s.format_version >= 2) {
    const OutputPaths paths = output_paths(path);
    std::printf("  files       %s, %s/ (one file per snapshot), %s\n", path.c_str(), paths.directory.c_str(),
                paths.xdmf.c_str());
    const Checkpoint restart = read_restart_point(path);
    std::printf("  restart     from step %ld, t = %g (%s)\n", restart.step, restart.time,
                restart.step > s.snapshot_steps.back() ? "checkpoint written at a SIGINT/SIGTERM" : "last snapshot");
    if (const SnapshotArray* particles = restart.array("particles"); particles != nullptr && !particles->shape.empty()) {
      const SnapshotArray* clamps = restart.array("particle_clamps");
      std::printf("  particles   %zu, in /steps/NNNNNN/particles (%ld wall clamps up to the restart point)\n",
                  particles->shape[0], clamps != nullptr && !clamps->values.empty() ? static_cast<long>(clamps->values[0]) : 0L);
    }
  }
  const auto& rows = s.diagnostics.rows;
  if (!rows.empty()) {
    double drift = 0.0, min_q = rows.front().min, dt_min = 0.0, dt_max = 0.0;
    long rises = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      drift = std::max(drift, std::abs(rows[r].mass - rows.front().mass) / rows.front().mass);
      min_q = std::min(min_q, rows[r].min);
      if (r > 0) {
        rises += rows[r].energy > rows[r - 1].energy;
        dt_min = r == 1 ? rows[r].dt : std::min(dt_min, rows[r].dt);
        dt_max = std::max(dt_max, rows[r].dt);
      }
    }
    if (s.snapshot_steps.empty() || rows.size() == static_cast<std::size_t>(s.snapshot_steps.back()) + 1)
      std::printf("  steps       %zu, dt %.3g ... %.3g\n", rows.size() - 1, dt_min, dt_max);
    else  // --diagnostics-every K: a row every K steps and at each snapshot
      std::printf("  steps       %ld (diagnostics rows %zu), dt %.3g ... %.3g\n", s.snapshot_steps.back(), rows.size(),
                  dt_min, dt_max);
    std::printf("  mass        %.12g, max relative drift %.2e\n", rows.front().mass, drift);
    std::printf("  energy      %.10g -> %.10g (%ld increase%s)\n", rows.front().energy, rows.back().energy, rises,
                rises == 1 ? "" : "s");
    std::printf("  min q       %.3g over all steps\n", min_q);
  }
  std::printf("  config\n");
  std::size_t start = 0;
  while (start < s.config_text.size()) {
    const std::size_t end = s.config_text.find('\n', start);
    std::printf("    %s\n", s.config_text.substr(start, end - start).c_str());
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return 0;
}

int cases_command(const std::vector<std::string>& args) {
  if (!args.empty()) throw ConfigError("cases: takes no options");
  std::printf(
      "wgflow solves q_t = div(q grad xi), xi = dF/dq, for these free energies F[q] = int U(q) + int V q:\n"
      "\n"
      "heat            q_t = D Lap q                    U = D q log q, V = 0\n"
      "                flux: Scharfetter-Gummel; defaults: --diffusion 1 --initial gaussian --potential none\n"
      "                wgflow run --case heat --dim 2 --n 128 --t-end 1\n"
      "\n"
      "fokker-planck   q_t = div(D grad q + q grad V)   U = D q log q, V = quadratic | double-well | formula\n"
      "                steady state: the Gibbs density exp(-V/D)/Z, exact on the grid\n"
      "                flux: Scharfetter-Gummel; defaults: --diffusion 1 --initial gaussian --potential quadratic --gamma 1\n"
      "                wgflow run --case fokker-planck --dim 2 --gaussian-center 2 --t-end 4\n"
      "                wgflow run --case fokker-planck --dim 1 --potential double-well --diffusion 0.25 --t-end 30\n"
      "\n"
      "porous-medium   q_t = D Lap q^m, m > 1           U = D q^m/(m-1) (+ V if given)\n"
      "                exact solution: the Barenblatt profile (the default initial data, at time 1)\n"
      "                flux: upwind, second order; defaults: --m 2 --initial barenblatt --potential none\n"
      "                wgflow run --case porous-medium --dim 2 --domain=-4,4 --t-end 10\n"
      "\n"
      "aggregation-    q_t = div(q grad(W*q)) + D Lap q   U = D q log q (or 0 with --diffusion 0), + 1/2 int W*q q\n"
      "diffusion       steady states: W = |x|^2/2 - log|x| gives the disk 1/pi (2D), the semicircle (1D)\n"
      "                flux: upwind (D = 0) or SG in V + W*q; defaults: --kernel attractive-repulsive --chi 1\n"
      "                kernels: newtonian, gaussian:sigma=S, morse:ca=,la=,cr=,lr=, power:a=A, expr:FORMULA in r\n"
      "                wgflow run --case aggregation-diffusion --dim 2 --domain=-2,2 --diffusion 0 --t-end 5\n"
      "\n"
      "keller-segel    q_t = Lap q - chi div(q grad c), -Lap c = q   W = chi x Newtonian kernel (2D: log|x|/2pi)\n"
      "                2D: mass below 8pi/chi spreads, above it blows up\n"
      "                flux: SG in the potential W*q; defaults: --kernel newtonian --chi 1 --initial gaussian\n"
      "                wgflow run --case keller-segel --dim 2 --domain=-4,4 --mass 40 --gaussian-width 0.5 --t-end 0.3\n"
      "\n"
      "f-divergence    q_t = div(q grad xi), xi = f(r) - r f'(r), r = p/q: the flow of D_f(p||q) = int q f(p/q)\n"
      "                toward a target p (--target gaussian | mixture:... | file:PATH.h5 | formula)\n"
      "                --divergence kl (Fokker-Planck with V = -log p, SG flux: equilibrium p exactly) | reverse-kl |\n"
      "                chi2 | hellinger | jensen-shannon | alpha:A (upwind flux; implicit-euler: Newton)\n"
      "                diagnostics: energy = the divergence, /diagnostics/l1_to_target, in 1D w2_to_target\n"
      "                wgflow run --config cases/f-divergence-mixture.ini --divergence hellinger\n"
      "\n"
      "mean-field-     rho_t = div(rho grad Psi): a wide two-layer network f(x) = int a s(w x + b) drho trained on\n"
      "network         the square loss R = 1/2 mean (f(x_j) - y_j)^2 (the energy column), on a grid over (a, w, b)\n"
      "                (2D: (w, b), a = --output-weight; 1D: w, b = 0); W(th, th') = mean_j s(th; x_j) s(th'; x_j)\n"
      "                --data x^2 | file:PATH.h5 (/x, /y), --activation relu|tanh|sigmoid, --diffusion tau >= 0 (0)\n"
      "                output: /steps/NNNNNN/network_output, root attributes data_x, data_y\n"
      "                wgflow run --config cases/mean-field-network.ini\n"
      "\n"
      "Every option: wgflow run --help. Documented INI files for each case: cases/*.ini in the source tree.\n");
  return 0;
}

}  // namespace wgflow
