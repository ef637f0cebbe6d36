/// SSP-RK3 steps of SG heat and the upwind porous medium (the kernels of wgflow_bench) on a grid
/// decomposed over the ranks of mpirun, as tests/mpi/run_mpi.cpp steps them but without the
/// undecomposed reference and without output: cells per second of a step and the share of the step
/// spent in the halo exchange (WGFLOW_PROFILE_HALO=1, grids/halo_exchange.hpp). With --pingpong (two
/// ranks) it times instead the exchange of one message each way, of the sizes of the faces, a
/// one-double allreduce and back-to-back halo exchanges of the 2D and 3D grids: the numbers docs/scaling.md's model rests on. scripts/bench_mpi.py runs
/// the sweep ranks × threads; rank 0 prints CSV rows (halo shares: the slowest and the fastest rank):
///   step,ranks,threads,kernel,dim,n,steps,s_per_step,cells_per_s,halo_share,halo_share_min,exchanges_per_step
/// Kernel sg-newtonian is SG heat with a Newtonian interaction (Keller–Segel-like: the FFT convolution,
/// distributed with FFTW-MPI on P > 1); it adds a row with the convolution alone, timed back to back,
/// and its share of a step (SSP-RK3 convolves once per stage: 3 per step):
///   convolution,ranks,threads,dim,n,s_per_convolution,share_of_step
///   pingpong,bytes,seconds      allreduce,8,seconds      exchange,dim,n,seconds
///
///   mpirun -np P wgflow_bench_mpi [--kernels sg-heat,porous] [--dims 2,3] [--n2 2048] [--n3 256]
///                                 [--min-time 1.5] | --pingpong
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "benchmarks/bench_initial_state.hpp"
#include "grids/cell_loop.hpp"
#include "grids/communicator.hpp"
#include "grids/halo_exchange.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/spatial_operator.hpp"
#include "solver/steppers/explicit_rk.hpp"

using namespace wgflow;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Options {
  std::vector<std::string> kernels{"sg-heat", "porous"};
  std::vector<int> dims{2, 3};
  int n2 = 2048, n3 = 256;
  double min_time = 1.5;  ///< seconds of timed steps per case (three repeats, the best is reported)
  bool pingpong = false;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

[[noreturn]] void bad_option(const std::string& what) {
  if (launcher_rank() == 0) std::fprintf(stderr, "wgflow_bench_mpi: %s\n", what.c_str());
  std::exit(2);
}

int parse_int(const std::string& option, const std::string& value, int lo, int hi) {
  char* end = nullptr;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < lo || v > hi)
    bad_option(option + ": '" + value + "' is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(v);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--pingpong") {
      o.pingpong = true;
      continue;
    }
    if (i + 1 >= argc) bad_option(a + ": unknown option or missing value (see the comment at the top of bench_mpi.cpp)");
    const std::string v = argv[++i];
    if (a == "--kernels") {
      o.kernels = split(v);
      for (const std::string& k : o.kernels)
        if (k != "sg-heat" && k != "porous" && k != "sg-newtonian")
          bad_option("--kernels: '" + k + "' (allowed: sg-heat, porous, sg-newtonian)");
    } else if (a == "--dims") {
      o.dims.clear();
      for (const std::string& d : split(v)) o.dims.push_back(parse_int("--dims", d, 2, 3));
    } else if (a == "--n2") {
      o.n2 = parse_int(a, v, 16, 65536);
    } else if (a == "--n3") {
      o.n3 = parse_int(a, v, 8, 2048);
    } else if (a == "--min-time") {
      o.min_time = std::atof(v.c_str());
      if (!(o.min_time > 0.0 && o.min_time <= 600.0)) bad_option("--min-time: '" + v + "' is not in (0, 600] seconds");
    } else {
      bad_option(a + ": unknown option (allowed: --kernels, --dims, --n2, --n3, --min-time, --pingpong)");
    }
  }
  return o;
}

template <int Dim>
void bench_steps(const Communicator& world, const Options& opt, const std::string& kernel, int n) {
  const bool porous = kernel == "porous";
  const BenchProblem problem = bench_problem(porous, false);
  const UniformGrid<Dim> global = make_cube_grid<Dim>(n, problem.lower, problem.upper, Boundary::no_flux);
  const UniformGrid<Dim> box = decompose(global, world);
  Field<Dim> q = bench_initial_state(box, porous);
  const bool interaction = kernel == "sg-newtonian";
  FreeEnergy<Dim> energy(box, problem.internal, problem.potential,
                         interaction ? parse_kernel("newtonian", Dim) : InteractionSpec{});
  const std::unique_ptr<SpatialOperator<Dim>> op = make_spatial_operator(energy, problem.flux);
  ExplicitRk<Dim> stepper(*op, ExplicitScheme::ssp_rk3, 0.5, q.layout());
  double t = 0.0;
  const double w0 = now();
  t += stepper.step(q, t, 1e300).dt;  // warm-up, and the number of steps per repeat (the same on every rank)
  const double warm = world.max(now() - w0);
  const long steps = std::max(1L, static_cast<long>(std::ceil(opt.min_time / 3.0 / std::max(warm, 1e-9))));
  double best = 1e300, share = 0.0, share_min = 0.0, exchanges = 0.0;
  for (int r = 0; r < 3; ++r) {
    world.max(0.0);  // all ranks start together
    halo_profile() = HaloProfile{};
    const double t0 = now();
    for (long s = 0; s < steps; ++s) t += stepper.step(q, t, 1e300).dt;
    const double elapsed = now() - t0;
    const double slowest = world.max(elapsed);
    const double halo_max = world.max(halo_profile().seconds), halo_min = world.min(halo_profile().seconds);
    if (slowest < best) {
      best = slowest;
      share = halo_max / slowest;
      share_min = halo_min / slowest;
      exchanges = static_cast<double>(halo_profile().exchanges) / static_cast<double>(steps);
    }
  }
  const double per_step = best / static_cast<double>(steps);
  if (world.rank() == 0)
    std::printf("step,%d,%d,%s,%d,%d,%ld,%.6e,%.6e,%.4f,%.4f,%.1f\n", world.size(), omp_get_max_threads(),
                kernel.c_str(), Dim, n, steps, per_step, static_cast<double>(global.num_cells()) / per_step, share,
                share_min, exchanges);
  if (interaction) {
    const long reps = std::max(3L, 3 * steps);
    double convolution = 1e300;
    for (int r = 0; r < 3; ++r) {
      world.max(0.0);
      const double t0 = now();
      for (long i = 0; i < reps; ++i) energy.interaction()->convolve(q);
      convolution = std::min(convolution, world.max(now() - t0) / static_cast<double>(reps));
    }
    if (world.rank() == 0)
      std::printf("convolution,%d,%d,%d,%d,%.6e,%.4f\n", world.size(), omp_get_max_threads(), Dim, n, convolution,
                  3.0 * convolution / per_step);
  }
  std::fflush(stdout);
}

/// The halo exchange of a field on the decomposed n^Dim grid, back to back with nothing between
/// (so no rank waits for a slower one): packing, the messages and unpacking, seconds per exchange.
template <int Dim>
void bench_exchange(const Communicator& world, int n) {
  const UniformGrid<Dim> box = decompose(make_cube_grid<Dim>(n, -1.0, 1.0, Boundary::no_flux), world);
  Field<Dim> q(FieldLayout<Dim>(box.shape));
  for (int w = 0; w < 3; ++w) box.halo->exchange(q);
  const int reps = Dim == 2 ? 500 : 50;  // faces of 32 KB and 1 MB at the default sizes
  double best = 1e300;
  for (int r = 0; r < 5; ++r) {
    world.max(0.0);
    const double t0 = now();
    for (int i = 0; i < reps; ++i) box.halo->exchange(q);
    best = std::min(best, world.max(now() - t0) / reps);
  }
  if (world.rank() == 0) std::printf("exchange,%d,%d,%.6e\n", Dim, n, best);
}

/// One message of `count` doubles each way between ranks 0 and 1 (what a face of the halo exchange
/// is), and a one-double allreduce over all ranks: seconds per operation, the best of five repeats.
void bench_messages(const Communicator& world, const Options& opt) {
  if (world.size() != 2) bad_option("--pingpong: needs exactly 2 ranks (mpirun -np 2)");
  const int peer = 1 - world.rank();
  for (int count : {1, 64, 512, 4096, 32768, 131072, 524288}) {
    std::vector<double> send(static_cast<std::size_t>(count), 1.0), receive(send.size(), 0.0);
    std::vector<HaloMessage> messages(1);
    messages[0] = HaloMessage{peer, 0, 0, send.data(), receive.data(), count};
    const int reps = std::max(10, 4000000 / (count + 2000));
    for (int w = 0; w < 10; ++w) world.exchange(messages);
    double best = 1e300;
    for (int r = 0; r < 5; ++r) {
      world.max(0.0);
      const double t0 = now();
      for (int i = 0; i < reps; ++i) world.exchange(messages);
      best = std::min(best, world.max(now() - t0) / reps);
    }
    if (world.rank() == 0) std::printf("pingpong,%zu,%.6e\n", static_cast<std::size_t>(count) * sizeof(double), best);
  }
  double best = 1e300;
  for (int r = 0; r < 5; ++r) {
    world.max(0.0);
    const double t0 = now();
    double x = world.rank();
    for (int i = 0; i < 20000; ++i) x = world.max(x);
    best = std::min(best, world.max(now() - t0) / 20000);
  }
  if (world.rank() == 0) std::printf("allreduce,8,%.6e\n", best);
  bench_exchange<2>(world, opt.n2);
  bench_exchange<3>(world, opt.n3);
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const MpiRuntime mpi(&argc, &argv);
  const Communicator world = Communicator::world();
  try {
    if (opt.pingpong) {
      bench_messages(world, opt);
      return 0;
    }
    for (int dim : opt.dims)
      for (const std::string& kernel : opt.kernels) {
        if (dim == 2) bench_steps<2>(world, opt, kernel, opt.n2);
        if (dim == 3) bench_steps<3>(world, opt, kernel, opt.n3);
      }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wgflow_bench_mpi, rank %d: %s\n", world.rank(), e.what());
    world.abort(1);
  }
  return 0;
}
